"""Bulk data for the scale figures, written straight into the tables with Core inserts.

Hundreds of thousands of diary records through the API would take longer than the whole
benchmark; accounts and tokens still come through the API (bench/client.py). Every record is
valid by the schema's CHECKs and carries a change position, as if it had been synced.

The two history patients share the same treatment series and the same records inside its
windows (same seed, same offsets); they differ only in how much history lies before the
baseline: 1 000 episodes in all, or 100 000. So any difference in the trend report's or the
feed's cost is the cost of history alone.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, text, update

from app.db import make_engine
from app.models import Checkin, Episode, Grant, Patient, Series, TreatmentSession, User
from app.services.sync.sql import table_of
from app.trends.days import zone_offset_minutes

CHUNK = 5000
SESSIONS = 6
SESSION_EVERY_DAYS = 3
BASELINE_DAYS = 28
FOLLOW_UP_DAYS = 84
FIRST_SESSION_DAYS_AGO = 120  # the follow-up ends before today: every window is whole
# The seeded patients' zone (bench/client.py registers them there too); records carry the
# offset a phone there would have written.
TIMEZONE = "Europe/Berlin"


@dataclass(frozen=True)
class SeededSeries:
    patient_id: uuid.UUID
    series_id: uuid.UUID
    episodes: int  # all of the patient's episodes
    records: int  # every record in the change feed


def as_of() -> dt.date:
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


class _Positions:
    """Change-feed positions for one patient, in the order records are generated."""

    def __init__(self) -> None:
        self.last = 0

    def take(self) -> int:
        self.last += 1
        return self.last


def _sync_columns(patient_id: uuid.UUID, seq: _Positions, at: dt.datetime) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "version": 1,
        "change_seq": seq.take(),
        "created_at": at,
        "updated_at": at,
        "deleted_at": None,
    }


def _episode(
    rng: random.Random, patient_id: uuid.UUID, started: dt.datetime, seq: _Positions
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "started_at": started,
        "started_offset_minutes": zone_offset_minutes(started, TIMEZONE),
        "duration_seconds": rng.randint(2, 120),
        "attack_count": rng.choice((1, 1, 1, 2, 3, 5)),
        "intensity": rng.randint(3, 10),
        "side": "right",
        "branch_mask": rng.choice((1, 2, 4, 6)),
        "quality_mask": rng.choice((1, 2, 3)),
        "trigger_mask": rng.choice((0, 1, 2, 4, 1 << 12)),
        "rescue_medication": None,
        "note": None,
        **_sync_columns(patient_id, seq, started),
    }


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(6, 0), tzinfo=dt.UTC)


def _window_records(
    rng: random.Random, patient_id: uuid.UUID, seq: _Positions, *, rate_scale: float = 1.0
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """A series with its sessions, and the episodes and check-ins of its windows."""
    today = as_of()
    start = today - dt.timedelta(days=FIRST_SESSION_DAYS_AGO)
    end = start + dt.timedelta(days=SESSION_EVERY_DAYS * (SESSIONS - 1))
    created = _day_start(start - dt.timedelta(days=BASELINE_DAYS + 1))
    series_id = uuid.uuid4()  # ids are global: never from the shared seed
    series = {
        "id": series_id,
        "name": "Ketamine infusions",
        "modality": "ketamine_iv",
        "protocol": None,
        "planned_sessions": SESSIONS,
        "baseline_days": BASELINE_DAYS,
        "follow_up_days": FOLLOW_UP_DAYS,
        **_sync_columns(patient_id, seq, created),
    }
    episodes, checkins, sessions = [], [], []
    first = start - dt.timedelta(days=BASELINE_DAYS)
    last = end + dt.timedelta(days=FOLLOW_UP_DAYS)
    day = first
    while day <= last:
        # Fewer attacks after the series: a responder, so every comparison has numbers.
        per_day = 4.0 if day < start else 2.5 if day <= end else 1.2
        for _ in range(rng.choices(range(9), weights=_poisson(per_day * rate_scale))[0]):
            started = _day_start(day) + dt.timedelta(minutes=rng.randint(0, 15 * 60))
            episodes.append(_episode(rng, patient_id, started, seq))
        checkins.append(
            {
                "local_date": day,
                "no_attacks": False,
                "background_pain": rng.randint(0, 4),
                "bni": rng.choice(("II", "IIIa", "IIIb", "IV")),
                "mood": rng.randint(3, 8),
                "sleep_hours": 7.0,
                "note": None,
                **_sync_columns(patient_id, seq, _day_start(day) + dt.timedelta(hours=15)),
            }
        )
        if day >= start and (day - start).days % SESSION_EVERY_DAYS == 0 and day <= end:
            at = _day_start(day) + dt.timedelta(hours=3)
            sessions.append(
                {
                    "id": uuid.uuid4(),
                    "series_id": series_id,
                    "started_at": at,
                    "started_offset_minutes": zone_offset_minutes(at, TIMEZONE),
                    "duration_minutes": 40,
                    "route": "iv",
                    "dose_mg": 35.0,
                    "dose_mg_per_kg": 0.5,
                    "pain_before": 7,
                    "pain_after": 3,
                    "systolic_max": None,
                    "diastolic_max": None,
                    "heart_rate_max": None,
                    "spo2_min": None,
                    "adverse_effects": [{"effect": "dissociation", "severity": "mild"}],
                    "completed": True,
                    "notes": None,
                    "recorded_by": patient_id,
                    "recorded_by_role": "clinician",
                    "weight_kg": 70.0,
                    **_sync_columns(patient_id, seq, at),
                }
            )
        day += dt.timedelta(days=1)
    return series, sessions, episodes, checkins


def _poisson(mean: float) -> list[float]:
    """Weights of 0..8 events a day for a Poisson mean."""
    weights, p = [], math.exp(-mean)
    for k in range(9):
        weights.append(p)
        p = p * mean / (k + 1)
    return weights


def _insert(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for chunk in _chunks(rows):
            conn.execute(table.insert(), chunk)


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


def _analyze(engine: Engine) -> None:
    """Fresh planner statistics, as autovacuum keeps them after a bulk load; without them
    PostgreSQL plans the 100 000-record patient's queries as if the tables were empty."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _finish_patient(engine: Engine, patient_id: uuid.UUID, last_position: int) -> None:
    patients = table_of(Patient)
    with engine.begin() as conn:
        conn.execute(
            update(patients).where(patients.c.id == patient_id).values(change_seq=last_position)
        )


def history_patient(url: str, patient_id: uuid.UUID, total_episodes: int) -> SeededSeries:
    """``total_episodes`` in all: the series windows' records (identical for every history
    patient) and, before the baseline, as many older episodes as make up the total."""
    seq = _Positions()
    series, sessions, window_episodes, checkins = _window_records(
        random.Random(20261125), patient_id, seq
    )
    older = total_episodes - len(window_episodes)
    if older < 0:
        raise ValueError(f"the windows alone hold {len(window_episodes)} episodes")
    rng = random.Random(patient_id.int)
    first_window_day = as_of() - dt.timedelta(days=FIRST_SESSION_DAYS_AGO + BASELINE_DAYS)
    span_days = max(300, older // 30)  # about 30 a day at most: years of a severe history
    history_start = _day_start(first_window_day) - dt.timedelta(days=span_days)
    span_seconds = span_days * 86400 - 3600
    times = sorted(
        history_start + dt.timedelta(seconds=rng.randrange(span_seconds)) for _ in range(older)
    )
    # History first in the feed (it was synced first), then the series' records.
    history_seq = _Positions()
    history = [_episode(rng, patient_id, t, history_seq) for t in times]
    offset = history_seq.last
    for row in (series, *sessions, *window_episodes, *checkins):
        row["change_seq"] += offset
    engine = make_engine(url)
    try:
        _insert(engine, table_of(Episode), history)
        _insert(engine, table_of(Series), [series])
        _insert(engine, table_of(TreatmentSession), sessions)
        _insert(engine, table_of(Episode), window_episodes)
        _insert(engine, table_of(Checkin), checkins)
        _finish_patient(engine, patient_id, offset + seq.last)
        _analyze(engine)
    finally:
        engine.dispose()
    return SeededSeries(patient_id, series["id"], total_episodes, offset + seq.last)


def cohort(url: str, clinicians: list[tuple[uuid.UUID, int]], size: int) -> int:
    """``size`` patients, each with one series and its windows' records; clinician
    ``(user_id, n)`` gets a read grant to the first ``n``. Returns the episodes written."""
    users, patients, grants = [], [], []
    all_series, all_sessions, all_episodes, all_checkins = [], [], [], []
    now = dt.datetime.now(dt.UTC)
    rng = random.Random(7)
    for index in range(size):
        user_id, patient_id = uuid.uuid4(), uuid.uuid4()
        users.append(
            {
                "id": user_id,
                "email": f"cohort-{index}-{user_id.hex[:8]}@bench.example",
                "display_name": f"Cohort patient {index}",
                "role": "patient",
                "password_hash": "!",  # no password: these accounts never sign in
                "created_at": now,
                "updated_at": now,
            }
        )
        seq = _Positions()
        # Some respond, some don't: the summary has both kinds to count.
        series, sessions, episodes, checkins = _window_records(
            rng, patient_id, seq, rate_scale=rng.choice((0.3, 0.5, 0.8))
        )
        patients.append(
            {
                "id": patient_id,
                "user_id": user_id,
                "display_name": f"Cohort patient {index}",
                "timezone": TIMEZONE,
                "birth_year": 1960 + index % 30,
                "weight_kg": 70.0,
                "ichd3_type": "classical",
                "side": "right",
                "branches": ["V2"],
                "concomitant_continuous_pain": False,
                "diagnosed_on": None,
                "version": 1,
                "change_seq": seq.last,
                "audit_seq": 0,
                "feed_horizon_seq": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
        for clinician_id, first_n in clinicians:
            if index < first_n:
                grants.append(
                    {
                        "id": uuid.uuid4(),
                        "patient_id": patient_id,
                        "grantee_user_id": clinician_id,
                        "client_id": None,
                        "access": "read",
                        "created_at": now,
                        "expires_at": None,
                        "revoked_at": None,
                    }
                )
        all_series.append(series)
        all_sessions += sessions
        all_episodes += episodes
        all_checkins += checkins
    engine = make_engine(url)
    try:
        _insert(engine, table_of(User), users)
        _insert(engine, table_of(Patient), patients)
        _insert(engine, table_of(Grant), grants)
        _insert(engine, table_of(Series), all_series)
        _insert(engine, table_of(TreatmentSession), all_sessions)
        _insert(engine, table_of(Episode), all_episodes)
        _insert(engine, table_of(Checkin), all_checkins)
        _analyze(engine)
    finally:
        engine.dispose()
    return len(all_episodes)
