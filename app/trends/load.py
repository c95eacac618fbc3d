"""The SQL that feeds the pure trend code: plain Core rows, read over the window range only.

The one module of ``app.trends`` that touches the database (the purity test exempts it).

- **Bounded.** A series' sessions give the window range (``window_range``); episodes are then
  read by ``started_at`` inside ``utc_range`` of that range, through the covering index
  ``ix_episodes_patient_started`` (patient_id, started_at, …), and check-ins by date. The cost
  depends on the windows, never on how long the patient has kept a diary. Assessments are read
  from the first session day on, plus the last one per instrument before it; medications only
  when taken on a day of the range.
- **Local days in Python.** Each timestamp becomes a local day with ``zoneinfo`` in the
  patient's *current* time zone: all history is re-bucketed in that zone, so the days stay
  consistent with each other when a patient moves (an attack at 23:30 in Berlin that is read
  after a move to New York counts on New York's calendar, as do all its neighbours). Bucketing in
  SQL would differ per engine (SQLite has no time zones) and per server setting.
- **Core rows, never ORM objects**, converted into the frozen input dataclasses.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import RowMapping, and_, or_, select, union_all
from sqlalchemy.orm import Session

from app.models import (
    Assessment,
    Checkin,
    Episode,
    Medication,
    MedicationDose,
    Series,
    TreatmentSession,
)
from app.trends.days import local_day, utc_range
from app.trends.inputs import (
    AssessmentRow,
    CheckinRow,
    EpisodeRow,
    MedicationDoseRow,
    MedicationRow,
    SeriesInfo,
    SessionRow,
    TrendInputs,
)
from app.trends.windows import window_range
from app.vocabulary import INSTRUMENTS, TRIGGERS


@dataclass(frozen=True)
class SeriesDetail:
    """A live series as the report shows it."""

    id: uuid.UUID
    patient_id: uuid.UUID
    name: str
    modality: str
    protocol: str | None
    planned_sessions: int | None
    baseline_days: int
    follow_up_days: int

    @property
    def info(self) -> SeriesInfo:
        return SeriesInfo(self.id, self.baseline_days, self.follow_up_days)


@dataclass(frozen=True)
class SessionDetail:
    """A live session with what the report lists besides the trend's ``SessionRow``."""

    row: SessionRow
    series_id: uuid.UUID
    route: str
    dose_mg: float | None
    dose_mg_per_kg: float | None
    notes: str | None


@dataclass(frozen=True)
class LoadedTrend:
    series: SeriesDetail
    inputs: TrendInputs
    sessions: tuple[SessionDetail, ...]


_SERIES_COLUMNS = (
    Series.id,
    Series.patient_id,
    Series.name,
    Series.modality,
    Series.protocol,
    Series.planned_sessions,
    Series.baseline_days,
    Series.follow_up_days,
)


def _series(row: RowMapping) -> SeriesDetail:
    return SeriesDetail(**row)


def load_series(
    session: Session, patient_id: uuid.UUID, series_id: uuid.UUID
) -> SeriesDetail | None:
    """The patient's live series ``series_id``; ``None`` if deleted or someone else's."""
    row = (
        session.execute(
            select(*_SERIES_COLUMNS).where(
                Series.patient_id == patient_id, Series.id == series_id, Series.deleted_at.is_(None)
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _series(row)


def load_patients_series(
    session: Session, patient_ids: Sequence[uuid.UUID], modality: str | None = None
) -> list[SeriesDetail]:
    """The live series of these patients (optionally of one modality), by patient and id."""
    query = select(*_SERIES_COLUMNS).where(
        Series.patient_id.in_(patient_ids), Series.deleted_at.is_(None)
    )
    if modality is not None:
        query = query.where(Series.modality == modality)
    rows = session.execute(query.order_by(Series.patient_id, Series.created_at, Series.id))
    return [_series(row) for row in rows.mappings()]


def load_sessions(
    session: Session, patient_id: uuid.UUID, series_ids: Sequence[uuid.UUID], timezone: str
) -> dict[uuid.UUID, list[SessionDetail]]:
    """Every live session (completed or not) of these series of one patient, by series."""
    t = TreatmentSession
    rows = session.execute(
        select(
            t.id,
            t.series_id,
            t.started_at,
            t.completed,
            t.pain_before,
            t.pain_after,
            t.adverse_effects,
            t.route,
            t.dose_mg,
            t.dose_mg_per_kg,
            t.notes,
        )
        .where(t.patient_id == patient_id, t.series_id.in_(series_ids), t.deleted_at.is_(None))
        .order_by(t.started_at, t.id)
    )
    found: defaultdict[uuid.UUID, list[SessionDetail]] = defaultdict(list)
    for row in rows:
        effects = tuple((str(e["effect"]), str(e["severity"])) for e in row.adverse_effects or ())
        session_row = SessionRow(
            id=row.id,
            local_day=local_day(row.started_at, timezone),
            completed=row.completed,
            pain_before=row.pain_before,
            pain_after=row.pain_after,
            adverse_effects=effects,
        )
        found[row.series_id].append(
            SessionDetail(
                session_row, row.series_id, row.route, row.dose_mg, row.dose_mg_per_kg, row.notes
            )
        )
    return found


def _triggers(mask: int) -> tuple[str, ...]:
    return tuple(name for bit, name in enumerate(TRIGGERS) if mask & (1 << bit))


def load_diary(
    session: Session, patient_id: uuid.UUID, timezone: str, first_day: date, last_day: date
) -> tuple[tuple[EpisodeRow, ...], tuple[CheckinRow, ...]]:
    """Live episodes and check-ins on the local days ``first_day .. last_day``: two queries."""
    low, high = utc_range(first_day, last_day, timezone)
    e = Episode
    episode_rows = session.execute(
        select(e.started_at, e.attack_count, e.intensity, e.duration_seconds, e.trigger_mask)
        .where(
            e.patient_id == patient_id,
            e.started_at >= low,
            e.started_at < high,
            e.deleted_at.is_(None),
        )
        .order_by(e.started_at)
    )
    episodes: list[EpisodeRow] = []
    for row in episode_rows:
        day = local_day(row.started_at, timezone)
        # utc_range may hold an hour more where DST changes at midnight.
        if first_day <= day <= last_day:
            episodes.append(
                EpisodeRow(
                    day,
                    row.attack_count,
                    row.intensity,
                    row.duration_seconds,
                    _triggers(row.trigger_mask),
                )
            )
    c = Checkin
    checkins = tuple(
        CheckinRow(row.local_date, row.no_attacks, row.bni, row.background_pain)
        for row in session.execute(
            select(c.local_date, c.no_attacks, c.bni, c.background_pain)
            .where(
                c.patient_id == patient_id,
                c.local_date >= first_day,
                c.local_date <= last_day,
                c.deleted_at.is_(None),
            )
            .order_by(c.local_date)
        )
    )
    return tuple(episodes), checkins


def load_assessments(
    session: Session, patient_id: uuid.UUID, timezone: str, start: date, as_of: date
) -> tuple[AssessmentRow, ...]:
    """All from ``start`` to ``as_of``, and per instrument the last one before ``start``."""
    low, high = utc_range(start, as_of, timezone)
    a = Assessment
    columns = (a.instrument, a.taken_at, a.total)
    live = (a.patient_id == patient_id, a.deleted_at.is_(None))
    latest_before = [
        select(*columns)
        .where(*live, a.instrument == instrument, a.taken_at < low)
        .order_by(a.taken_at.desc(), a.total.desc())
        .limit(1)
        .subquery()
        for instrument in INSTRUMENTS
    ]
    since_start = select(*columns).where(*live, a.taken_at >= low, a.taken_at < high)
    query = union_all(since_start, *(select(*sub.c) for sub in latest_before))
    return tuple(
        AssessmentRow(row.instrument, local_day(row.taken_at, timezone), row.taken_at, row.total)
        for row in session.execute(query)
    )


def load_medications(
    session: Session, patient_id: uuid.UUID, first_day: date, last_day: date
) -> tuple[tuple[MedicationRow, ...], tuple[MedicationDoseRow, ...]]:
    """Live medications taken on a day of ``first_day .. last_day``, with their dose history."""
    m = Medication
    rows = session.execute(
        select(m.id, m.name, m.dose_mg_per_day, m.started_on, m.stopped_on).where(
            m.patient_id == patient_id,
            m.deleted_at.is_(None),
            m.started_on <= last_day,
            or_(m.stopped_on.is_(None), m.stopped_on >= first_day),
        )
    )
    medications = tuple(MedicationRow(*row) for row in rows)
    if not medications:
        return (), ()
    d = MedicationDose
    doses = session.execute(
        select(d.medication_id, d.effective_on, d.dose_mg_per_day, d.recorded_at).where(
            and_(
                d.patient_id == patient_id,
                d.medication_id.in_([row.id for row in medications]),
                d.effective_on <= last_day,
            )
        )
    )
    return medications, tuple(MedicationDoseRow(*row) for row in doses)


def completed_days(sessions: Iterable[SessionDetail]) -> list[date]:
    return [detail.row.local_day for detail in sessions if detail.row.completed]


def load_trend(
    session: Session,
    patient_id: uuid.UUID,
    timezone: str,
    series: SeriesDetail,
    as_of: date,
) -> LoadedTrend:
    """Everything ``compute_trend`` needs for ``series`` up to ``as_of``.

    Raises ``NoCompletedSession`` (before reading the diary) when no completed session lies on
    or before ``as_of``.
    """
    sessions = load_sessions(session, patient_id, [series.id], timezone).get(series.id, [])
    first_day, last_day = window_range(series.info, completed_days(sessions), as_of)
    episodes, checkins = load_diary(session, patient_id, timezone, first_day, last_day)
    start = min(day for day in completed_days(sessions) if day <= as_of)
    assessments = load_assessments(session, patient_id, timezone, start, as_of)
    medications, doses = load_medications(session, patient_id, first_day, last_day)
    inputs = TrendInputs(
        series=series.info,
        timezone=timezone,
        as_of=as_of,
        sessions=tuple(detail.row for detail in sessions),
        episodes=episodes,
        checkins=checkins,
        assessments=assessments,
        medications=medications,
        medication_doses=doses,
    )
    return LoadedTrend(series, inputs, tuple(sessions))


def load_outcome_inputs(
    session: Session,
    patient_id: uuid.UUID,
    timezone: str,
    series: SeriesDetail,
    sessions: Sequence[SessionDetail],
    as_of: date,
) -> TrendInputs:
    """The inputs of ``series_outcome``: sessions already read, the diary over the range."""
    first_day, last_day = window_range(series.info, completed_days(sessions), as_of)
    episodes, checkins = load_diary(session, patient_id, timezone, first_day, last_day)
    return TrendInputs(
        series=series.info,
        timezone=timezone,
        as_of=as_of,
        sessions=tuple(detail.row for detail in sessions),
        episodes=episodes,
        checkins=checkins,
    )
