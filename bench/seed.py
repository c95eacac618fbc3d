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
from functools import cache
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
SERIES_EVERY_DAYS = 90  # a booster every three months: one course
RELIEF_DAYS = 45
HISTORY_SERIES = 4  # the history patients' induction and three boosters
# The seeded patients' zone (bench/client.py registers them there too); records carry the
# offset a phone there would have written.
TIMEZONE = "Europe/Berlin"


@dataclass(frozen=True)
class SeededSeries:
    patient_id: uuid.UUID
    series_id: uuid.UUID  # the latest series (a booster when there are several)
    episodes: int  # all of the patient's episodes
    records: int  # every record in the change feed
    series_ids: tuple[uuid.UUID, ...] = ()  # all of them, oldest first


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
    rng: random.Random,
    patient_id: uuid.UUID,
    seq: _Positions,
    *,
    rate_scale: float = 1.0,
    series_count: int = 1,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """``series_count`` series of one course (an induction and boosters ``SERIES_EVERY_DAYS``
    apart, the last one starting ``FIRST_SESSION_DAYS_AGO`` days ago) with their sessions, and
    the episodes and check-ins from the first baseline to the last follow-up."""
    today = as_of()
    starts = [
        today - dt.timedelta(days=FIRST_SESSION_DAYS_AGO + SERIES_EVERY_DAYS * n)
        for n in reversed(range(series_count))
    ]
    span = dt.timedelta(days=SESSION_EVERY_DAYS * (SESSIONS - 1))
    all_series, episodes, checkins, sessions = [], [], [], []
    for number, start in enumerate(starts, start=1):
        created = _day_start(start - dt.timedelta(days=BASELINE_DAYS + 1))
        all_series.append(
            {
                "id": uuid.uuid4(),  # ids are global: never from the shared seed
                "name": "Ketamine infusions" if number == 1 else f"Ketamine booster {number - 1}",
                "modality": "ketamine_iv",
                "protocol": None,
                "planned_sessions": SESSIONS,
                "baseline_days": BASELINE_DAYS,
                "follow_up_days": FOLLOW_UP_DAYS,
                "planned_start": None,
                "new_course": None,
                **_sync_columns(patient_id, seq, created),
            }
        )
    first = starts[0] - dt.timedelta(days=BASELINE_DAYS)
    last = starts[-1] + span + dt.timedelta(days=FOLLOW_UP_DAYS)
    day = first
    while day <= last:
        per_day = _rate(day, starts, span)
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
        for series, start in zip(all_series, starts, strict=True):
            if start <= day <= start + span and (day - start).days % SESSION_EVERY_DAYS == 0:
                sessions.append(_session(patient_id, series["id"], day, seq))
        day += dt.timedelta(days=1)
    return all_series, sessions, episodes, checkins


def _rate(day: dt.date, starts: list[dt.date], span: dt.timedelta) -> float:
    """Attacks a day: 4 before the course, 2.5 during a series, 1.2 for the ``RELIEF_DAYS``
    after one (a responder, so every comparison has numbers), then 3 until the next."""
    if day < starts[0]:
        return 4.0
    latest = max(start for start in starts if start <= day)
    if day <= latest + span:
        return 2.5
    return 1.2 if day <= latest + span + dt.timedelta(days=RELIEF_DAYS) else 3.0


def _session(
    patient_id: uuid.UUID, series_id: uuid.UUID, day: dt.date, seq: _Positions
) -> dict[str, Any]:
    at = _day_start(day) + dt.timedelta(hours=3)
    return {
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


def history_patient(
    url: str, patient_id: uuid.UUID, total_episodes: int, series_count: int = HISTORY_SERIES
) -> SeededSeries:
    """``total_episodes`` in all: the series windows' records (identical for every history
    patient) and, before the first baseline, as many older episodes as make up the total."""
    seq = _Positions()
    all_series, sessions, window_episodes, checkins = _window_records(
        random.Random(20261125), patient_id, seq, series_count=series_count
    )
    older = total_episodes - len(window_episodes)
    if older < 0:
        raise ValueError(f"the windows alone hold {len(window_episodes)} episodes")
    rng = random.Random(patient_id.int)
    first_window_day = min(row["started_at"] for row in sessions).date() - dt.timedelta(
        days=BASELINE_DAYS
    )
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
    for row in (*all_series, *sessions, *window_episodes, *checkins):
        row["change_seq"] += offset
    engine = make_engine(url)
    try:
        _insert(engine, table_of(Episode), history)
        _insert(engine, table_of(Series), all_series)
        _insert(engine, table_of(TreatmentSession), sessions)
        _insert(engine, table_of(Episode), window_episodes)
        _insert(engine, table_of(Checkin), checkins)
        _finish_patient(engine, patient_id, offset + seq.last)
        _analyze(engine)
    finally:
        engine.dispose()
    ids = tuple(row["id"] for row in all_series)
    return SeededSeries(patient_id, ids[-1], total_episodes, offset + seq.last, ids)


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
        all_series += series
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


# --- the outcomes cohort: 10 000 patients, light diaries ----------------------------------------

OUTCOME_BASELINE_DAYS = 14
OUTCOME_FOLLOW_UP_DAYS = 28


@cache
def _weights(rate: float) -> list[float]:
    return _poisson(rate)


@cache
def _offset_on(day: dt.date) -> int:
    return zone_offset_minutes(_day_start(day), TIMEZONE)


def _fast_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _light_row(
    patient_id: uuid.UUID, seq: _Positions, at: dt.datetime, row_id: uuid.UUID
) -> dict[str, Any]:
    return {"id": row_id, **_sync_columns(patient_id, seq, at)}


def _outcome_patient(
    rng: random.Random, index: int, now: dt.datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One patient with one series (3 sessions two days apart) and a diary of one episode a
    day (its attack_count the day's attacks) or a ``no_attacks`` check-in, from the baseline
    to at most two weeks past the follow-up: some respond, some not, some relief has ended.
    Few random draws a row: 10 000 of these are generated in seconds."""
    patient_id = _fast_id(rng)
    seq = _Positions()
    today = as_of()
    start = today - dt.timedelta(days=rng.randint(20, 120))
    created = _day_start(start - dt.timedelta(days=OUTCOME_BASELINE_DAYS + 1))
    series_id = _fast_id(rng)
    rows: list[dict[str, Any]] = [
        {
            "_table": "series",
            "name": "Ketamine infusions",
            "modality": rng.choice(("ketamine_iv", "ketamine_iv", "esketamine_nasal")),
            "protocol": None,
            "planned_sessions": 3,
            "baseline_days": OUTCOME_BASELINE_DAYS,
            "follow_up_days": OUTCOME_FOLLOW_UP_DAYS,
            "planned_start": None,
            "new_course": None,
            **_light_row(patient_id, seq, created, series_id),
        }
    ]
    for offset in (0, 2, 4):
        session = _session(patient_id, series_id, start + dt.timedelta(days=offset), seq)
        session["id"] = _fast_id(rng)
        rows.append({"_table": "sessions", **session})
    baseline = rng.choice((2.0, 3.0, 4.0))
    relief = rng.choice((0.3, 0.5, 0.9))  # share of the baseline rate during relief
    relief_days = rng.randint(10, 40)
    end = start + dt.timedelta(days=4)
    day = start - dt.timedelta(days=OUTCOME_BASELINE_DAYS)
    last = min(today, end + dt.timedelta(days=OUTCOME_FOLLOW_UP_DAYS + 14))
    while day <= last:
        after = (day - end).days
        rate = baseline * (relief if 0 < after <= relief_days else 1.0)
        attacks = rng.choices(range(9), weights=_weights(rate))[0]
        at = _day_start(day) + dt.timedelta(hours=2)
        if attacks:
            rows.append(
                {
                    "_table": "episodes",
                    "started_at": at,
                    "started_offset_minutes": _offset_on(day),
                    "duration_seconds": 30 * attacks,
                    "attack_count": attacks,
                    "intensity": 4 + attacks % 5,
                    "side": "right",
                    "branch_mask": 2,
                    "quality_mask": 1,
                    "trigger_mask": 1 << (attacks % 4),
                    "rescue_medication": None,
                    "note": None,
                    **_light_row(patient_id, seq, at, _fast_id(rng)),
                }
            )
        else:
            rows.append(
                {
                    "_table": "checkins",
                    "local_date": day,
                    "no_attacks": True,
                    "background_pain": None,
                    "bni": None,
                    "mood": None,
                    "sleep_hours": None,
                    "note": None,
                    **_sync_columns(patient_id, seq, at),
                }
            )
        day += dt.timedelta(days=1)
    patient = {
        "id": patient_id,
        "user_id": None,
        "display_name": f"Outcome patient {index:05d}",
        "timezone": TIMEZONE,
        "birth_year": 1950 + index % 40,
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
    return patient, rows


def outcome_cohort(url: str, clinicians: list[tuple[uuid.UUID, int]], size: int) -> int:
    """``size`` patients with light diaries, bulk-inserted (a 10 000-patient clinic in well
    under a minute); clinician ``(user_id, n)`` gets a read grant to the first ``n``.
    Returns the diary records written."""
    rng = random.Random(14)
    now = dt.datetime.now(dt.UTC)
    patients: list[dict[str, Any]] = []
    grants: list[dict[str, Any]] = []
    tables: dict[str, list[dict[str, Any]]] = {
        "series": [],
        "sessions": [],
        "episodes": [],
        "checkins": [],
    }
    for index in range(size):
        patient, rows = _outcome_patient(rng, index, now)
        patients.append(patient)
        for row in rows:
            tables[row.pop("_table")].append(row)
        grants.extend(
            {
                "id": _fast_id(rng),
                "patient_id": patient["id"],
                "grantee_user_id": clinician_id,
                "client_id": None,
                "access": "read",
                "created_at": now,
                "expires_at": None,
                "revoked_at": None,
            }
            for clinician_id, first_n in clinicians
            if index < first_n
        )
    engine = make_engine(url)
    try:
        _insert(engine, table_of(Patient), patients)
        _insert(engine, table_of(Grant), grants)
        _insert(engine, table_of(Series), tables["series"])
        _insert(engine, table_of(TreatmentSession), tables["sessions"])
        _insert(engine, table_of(Episode), tables["episodes"])
        _insert(engine, table_of(Checkin), tables["checkins"])
        _analyze(engine)
    finally:
        engine.dispose()
    return len(tables["episodes"]) + len(tables["checkins"])
