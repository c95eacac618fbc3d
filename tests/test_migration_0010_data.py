"""The issue-10 data migrations, on a database holding rows written before them (revision 0007):

- 0010a: each episode and session gets the UTC offset of its patient's zone at its instant
  (DST-correct; in batches), so its local day is the one the patient lived;
- 0010c: each medication's dose history becomes whole (from started_on, one entry per day,
  within its life, the last dose the medication's), read as the trends read the old entries.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import UTCDateTime, normalise_url
from app.dbmigrate import downgrade, upgrade
from app.trends.days import local_day_at_offset

BEFORE = "0007"
MANY = 2100  # more episodes than the backfill's batch of 2000


@pytest.fixture(params=["sqlite", "postgresql"])
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database of each engine at the revision before issue 10."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.db'}"
        upgrade(url, BEFORE)
        yield url
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL migration test runs in .ci/run")
    parsed = make_url(normalise_url(base))
    name = f"paindiary_mig10_{uuid.uuid4().hex[:8]}"
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = parsed.set(database=name).render_as_string(hide_password=False)
        upgrade(url, BEFORE)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)

patients = sa.table(
    "patients",
    sa.column("id", sa.Uuid()),
    sa.column("display_name", sa.String()),
    sa.column("timezone", sa.String()),
    sa.column("ichd3_type", sa.String()),
    sa.column("branches", sa.JSON()),
    sa.column("concomitant_continuous_pain", sa.Boolean()),
    sa.column("version", sa.Integer()),
    sa.column("change_seq", sa.BigInteger()),
    sa.column("audit_seq", sa.BigInteger()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)


def _synced(table: str, *columns: sa.ColumnClause[Any]) -> sa.TableClause:
    return sa.table(
        table,
        sa.column("id", sa.Uuid()),
        sa.column("patient_id", sa.Uuid()),
        sa.column("version", sa.Integer()),
        sa.column("change_seq", sa.BigInteger()),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
        sa.column("deleted_at", UTCDateTime()),
        *columns,
    )


episodes = _synced(
    "episodes",
    sa.column("started_at", UTCDateTime()),
    sa.column("duration_seconds", sa.Integer()),
    sa.column("attack_count", sa.Integer()),
    sa.column("intensity", sa.SmallInteger()),
    sa.column("branch_mask", sa.SmallInteger()),
    sa.column("quality_mask", sa.SmallInteger()),
    sa.column("trigger_mask", sa.Integer()),
)
series = _synced(
    "treatment_series",
    sa.column("name", sa.String()),
    sa.column("modality", sa.String()),
    sa.column("baseline_days", sa.SmallInteger()),
    sa.column("follow_up_days", sa.SmallInteger()),
)
sessions = _synced(
    "treatment_sessions",
    sa.column("series_id", sa.Uuid()),
    sa.column("started_at", UTCDateTime()),
    sa.column("duration_minutes", sa.SmallInteger()),
    sa.column("route", sa.String()),
    sa.column("adverse_effects", sa.JSON()),
    sa.column("completed", sa.Boolean()),
    sa.column("recorded_by", sa.Uuid()),
    sa.column("recorded_by_role", sa.String()),
)
medications = _synced(
    "medications",
    sa.column("name", sa.String()),
    sa.column("dose_mg_per_day", sa.Float()),
    sa.column("started_on", sa.Date()),
    sa.column("stopped_on", sa.Date()),
)
doses = sa.table(
    "medication_doses",
    sa.column("id", sa.Uuid()),
    sa.column("patient_id", sa.Uuid()),
    sa.column("medication_id", sa.Uuid()),
    sa.column("effective_on", sa.Date()),
    sa.column("dose_mg_per_day", sa.Float()),
    sa.column("recorded_at", UTCDateTime()),
)


class Writer:
    """Rows as the code of revision 0007 wrote them."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self.seq = 0

    def _sync(self, patient_id: uuid.UUID, deleted: bool = False) -> dict[str, Any]:
        self.seq += 1
        return {
            "id": uuid.uuid4(),
            "patient_id": patient_id,
            "version": 1,
            "change_seq": self.seq,
            "created_at": T0,
            "updated_at": T0,
            "deleted_at": T0 if deleted else None,
        }

    def patient(self, timezone: str) -> uuid.UUID:
        patient_id = uuid.uuid4()
        self.conn.execute(
            sa.insert(patients).values(
                id=patient_id,
                display_name="Before",
                timezone=timezone,
                ichd3_type="classical",
                branches=[],
                concomitant_continuous_pain=False,
                version=1,
                change_seq=10_000,
                audit_seq=0,
                created_at=T0,
                updated_at=T0,
            )
        )
        return patient_id

    def episode_rows(
        self, patient_id: uuid.UUID, *instants: str, deleted: bool = False
    ) -> list[dict[str, Any]]:
        return [
            {
                **self._sync(patient_id, deleted),
                "started_at": datetime.fromisoformat(instant),
                "duration_seconds": 30,
                "attack_count": 1,
                "intensity": 5,
                "branch_mask": 0,
                "quality_mask": 0,
                "trigger_mask": 0,
            }
            for instant in instants
        ]

    def episodes(self, patient_id: uuid.UUID, *instants: str, deleted: bool = False) -> list[Any]:
        rows = self.episode_rows(patient_id, *instants, deleted=deleted)
        self.conn.execute(sa.insert(episodes), rows)
        return [row["id"] for row in rows]

    def session(self, patient_id: uuid.UUID, instant: str) -> uuid.UUID:
        series_row = {
            **self._sync(patient_id),
            "name": "IV",
            "modality": "ketamine_iv",
            "baseline_days": 28,
            "follow_up_days": 84,
        }
        self.conn.execute(sa.insert(series).values(series_row))
        row = {
            **self._sync(patient_id),
            "series_id": series_row["id"],
            "started_at": datetime.fromisoformat(instant),
            "duration_minutes": 40,
            "route": "iv",
            "adverse_effects": [],
            "completed": True,
            "recorded_by": uuid.uuid4(),
            "recorded_by_role": "clinician",
        }
        self.conn.execute(sa.insert(sessions).values(row))
        return uuid.UUID(str(row["id"]))

    def medication(
        self,
        patient_id: uuid.UUID,
        dose: float,
        started_on: str,
        stopped_on: str | None = None,
        history: tuple[tuple[str, float], ...] = (),
        *,
        deleted: bool = False,
    ) -> uuid.UUID:
        """``history``: the entries 0007 wrote, in the order it wrote them."""
        row = {
            **self._sync(patient_id, deleted),
            "name": "carbamazepine",
            "dose_mg_per_day": dose,
            "started_on": date.fromisoformat(started_on),
            "stopped_on": date.fromisoformat(stopped_on) if stopped_on else None,
        }
        self.conn.execute(sa.insert(medications).values(row))
        for number, (day, mg) in enumerate(history):
            self.conn.execute(
                sa.insert(doses).values(
                    id=uuid.uuid4(),
                    patient_id=patient_id,
                    medication_id=row["id"],
                    effective_on=date.fromisoformat(day),
                    dose_mg_per_day=mg,
                    recorded_at=T0 + timedelta(minutes=number),
                )
            )
        return uuid.UUID(str(row["id"]))


def _offsets(conn: sa.Connection, table: str) -> dict[uuid.UUID, tuple[datetime, int]]:
    t = sa.table(
        table,
        sa.column("id", sa.Uuid()),
        sa.column("started_at", UTCDateTime()),
        sa.column("started_offset_minutes", sa.SmallInteger()),
    )
    return {
        row.id: (row.started_at, row.started_offset_minutes)
        for row in conn.execute(sa.select(t.c.id, t.c.started_at, t.c.started_offset_minutes))
    }


def _history(conn: sa.Connection, medication_id: uuid.UUID) -> list[tuple[str, float]]:
    rows = conn.execute(
        sa.select(doses.c.effective_on, doses.c.dose_mg_per_day)
        .where(doses.c.medication_id == medication_id)
        .order_by(doses.c.effective_on)
    )
    return [(day.isoformat(), mg) for day, mg in rows]


def test_offsets_are_backfilled_from_the_patients_zone_at_each_instant(old_db: str) -> None:
    engine = create_engine(old_db)
    try:
        with engine.begin() as conn:
            write = Writer(conn)
            berlin, new_york, kolkata = (
                write.patient(zone)
                for zone in ("Europe/Berlin", "America/New_York", "Asia/Kolkata")
            )
            winter, summer, after_change, deleted = (
                *write.episodes(
                    berlin,
                    "2026-01-15T22:30:00+00:00",  # 23:30 CET
                    "2026-07-14T22:30:00+00:00",  # 00:30 CEST on 07-15
                    "2026-03-29T01:00:00+00:00",  # 03:00 CEST: the first instant of summer time
                ),
                *write.episodes(berlin, "2026-02-01T23:30:00+00:00", deleted=True),
            )
            (evening,) = write.episodes(new_york, "2026-07-01T03:30:00+00:00")  # 23:30 EDT 06-30
            (kolkata_night,) = write.episodes(kolkata, "2026-03-01T18:30:00+00:00")  # 00:00 IST
            many = write.episode_rows(
                berlin,
                *(
                    (T0 + timedelta(hours=7 * n)).isoformat()
                    for n in range(MANY)  # through both of 2025's clock changes
                ),
            )
            conn.execute(sa.insert(episodes), many)
            winter_session = write.session(berlin, "2026-01-20T08:00:00+00:00")
            summer_session = write.session(new_york, "2026-07-20T13:00:00+00:00")
        upgrade(old_db)
        with engine.connect() as conn:
            found = _offsets(conn, "episodes")
            found_sessions = _offsets(conn, "treatment_sessions")
    finally:
        engine.dispose()

    def day(entry: tuple[datetime, int]) -> tuple[int, str]:
        return entry[1], local_day_at_offset(*entry).isoformat()

    assert day(found[winter]) == (60, "2026-01-15")
    assert day(found[summer]) == (120, "2026-07-15")
    assert day(found[after_change]) == (120, "2026-03-29")
    assert day(found[deleted]) == (60, "2026-02-02")  # tombstones too: they are exported
    assert day(found[evening]) == (-240, "2026-06-30")
    assert day(found[kolkata_night]) == (330, "2026-03-02")
    assert day(found_sessions[winter_session]) == (60, "2026-01-20")
    assert day(found_sessions[summer_session]) == (-240, "2026-07-20")
    # Every one of the many rows, across batches and both clock changes of 2025.
    assert len(found) == MANY + 6
    for row in many:
        started, offset = found[row["id"]]
        expected = 120 if datetime(2025, 3, 30, 1, tzinfo=UTC) <= started else 60
        if started >= datetime(2025, 10, 26, 1, tzinfo=UTC):
            expected = 60
        if started >= datetime(2026, 3, 29, 1, tzinfo=UTC):
            expected = 120
        assert offset == expected, started


def test_dose_histories_are_made_whole(old_db: str) -> None:
    engine = create_engine(old_db)
    try:
        with engine.begin() as conn:
            write = Writer(conn)
            pid = write.patient("Europe/Berlin")
            never_changed = write.medication(pid, 300, "2025-01-01")
            changed = write.medication(
                pid, 800, "2025-01-01", history=(("2025-01-01", 600), ("2026-02-10", 800))
            )
            twice_a_day = write.medication(
                pid,
                1000,
                "2025-01-01",
                history=(("2025-01-01", 600), ("2026-02-10", 800), ("2026-02-10", 1000)),
            )
            start_moved_later = write.medication(
                pid, 800, "2025-06-01", history=(("2025-01-01", 600), ("2025-03-01", 800))
            )
            start_moved_earlier = write.medication(
                pid, 800, "2024-06-01", history=(("2025-01-01", 600), ("2025-03-01", 800))
            )
            changed_after_stop = write.medication(
                pid,
                800,
                "2025-01-01",
                "2025-12-31",
                history=(("2025-01-01", 600), ("2026-02-10", 800)),
            )
            back_and_forth = write.medication(
                pid,
                600,
                "2025-01-01",
                history=(("2025-01-01", 600), ("2025-03-01", 800), ("2025-05-01", 600)),
            )
            undone_the_same_day = write.medication(
                pid,
                600,
                "2025-01-01",
                history=(("2025-01-01", 600), ("2025-03-01", 800), ("2025-03-01", 600)),
            )
            deleted = write.medication(pid, 50, "2025-02-01", deleted=True)
        upgrade(old_db)
        with engine.connect() as conn:
            histories = {
                name: _history(conn, medication_id)
                for name, medication_id in {
                    "never_changed": never_changed,
                    "changed": changed,
                    "twice_a_day": twice_a_day,
                    "start_moved_later": start_moved_later,
                    "start_moved_earlier": start_moved_earlier,
                    "changed_after_stop": changed_after_stop,
                    "back_and_forth": back_and_forth,
                    "undone_the_same_day": undone_the_same_day,
                    "deleted": deleted,
                }.items()
            }
        # The schema now holds one entry per medication and day.
        with engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
            conn.execute(
                sa.insert(doses).values(
                    id=uuid.uuid4(),
                    patient_id=pid,
                    medication_id=changed,
                    effective_on=date(2026, 2, 10),
                    dose_mg_per_day=900,
                    recorded_at=T0,
                )
            )
        # Down and up again with the rows in place: the histories read the same.
        downgrade(old_db, BEFORE)
        upgrade(old_db)
        with engine.connect() as conn:
            assert _history(conn, twice_a_day) == histories["twice_a_day"]
            assert _offsets(conn, "episodes") == {}
    finally:
        engine.dispose()
    assert histories == {
        "never_changed": [("2025-01-01", 300)],
        "changed": [("2025-01-01", 600), ("2026-02-10", 800)],
        "twice_a_day": [("2025-01-01", 600), ("2026-02-10", 1000)],  # the day's last one
        "start_moved_later": [("2025-06-01", 800)],  # what held on the new start
        "start_moved_earlier": [("2024-06-01", 600), ("2025-03-01", 800)],
        "changed_after_stop": [("2025-01-01", 600), ("2025-12-31", 800)],
        "back_and_forth": [("2025-01-01", 600), ("2025-03-01", 800), ("2025-05-01", 600)],
        "undone_the_same_day": [("2025-01-01", 600)],
        "deleted": [("2025-02-01", 50)],
    }
