"""The SQL that feeds the pure trend code: plain Core rows, read over the needed days only.

The one module of ``app.trends`` that touches the database (the purity test exempts it).

- **Bounded.** A patient's series and sessions come first (two queries; they grow with
  treatments, not with the diary). The pure ``plan`` then says which days each series' numbers
  use (``diary_ranges``: the reference baseline and the series' own baseline to H, or to as_of
  for the chart); episodes are read by ``started_at`` inside ``any_offset_utc_range`` of each
  range (widened by the ±14 h an offset can reach), through the covering index
  ``ix_episodes_patient_started`` (patient_id, started_at, …, started_offset_minutes), and
  check-ins by date. The cost depends on the windows, never on how long the patient has kept a
  diary. Assessments are read from the reference baseline's start to as_of; medications, with
  their dose history, only when taken on a day of the ranges.
- **Local days in Python, from each record's own offset.** An episode's or session's local day
  is the date of its ``started_at`` in the UTC offset it was written with
  (``started_offset_minutes``, ``days.local_day_at_offset``): the day the patient lived it, which
  a later change of the patient's time zone does not move. Rows read by the widened UTC range
  whose local day falls outside the range are dropped here. Check-ins carry their date;
  assessments are dated in the patient's current zone (they keep no offset).
- **Core rows, never ORM objects**, converted into the frozen input dataclasses.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import RowMapping, bindparam, or_, select
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
from app.trends.days import any_offset_utc_range, local_day, local_day_at_offset, utc_range
from app.trends.inputs import (
    AssessmentRow,
    CheckinRow,
    DoseEntry,
    EpisodeRow,
    MedicationRow,
    OtherSeries,
    SeriesInfo,
    SessionRow,
    TrendInputs,
    Vitals,
)
from app.trends.plan import DayRange, SeriesPlan, diary_ranges, merge_ranges, plan_for
from app.vocabulary import TRIGGERS


@dataclass(frozen=True)
class SeriesDetail:
    """A live series as the reports show it."""

    id: uuid.UUID
    patient_id: uuid.UUID
    name: str
    modality: str
    protocol: str | None
    planned_sessions: int | None
    baseline_days: int
    follow_up_days: int
    new_course: bool | None
    planned_start: date | None

    @property
    def info(self) -> SeriesInfo:
        return SeriesInfo(
            self.id, self.baseline_days, self.follow_up_days, self.new_course, self.planned_start
        )


@dataclass(frozen=True)
class SessionDetail:
    """A live session with what the report lists besides the trend's ``SessionRow``."""

    row: SessionRow
    series_id: uuid.UUID
    route: str
    dose_mg: float | None
    notes: str | None


@dataclass(frozen=True)
class Treatments:
    """A patient's live series (by creation) and their live sessions (by start)."""

    series: tuple[SeriesDetail, ...]
    sessions: dict[uuid.UUID, tuple[SessionDetail, ...]]

    def find(self, series_id: uuid.UUID) -> SeriesDetail | None:
        return next((series for series in self.series if series.id == series_id), None)

    def completed_days(self, series_id: uuid.UUID) -> tuple[date, ...]:
        return tuple(
            detail.row.local_day
            for detail in self.sessions.get(series_id, ())
            if detail.row.completed
        )

    def base_inputs(self, series: SeriesDetail, timezone: str, as_of: date) -> TrendInputs:
        """The inputs of ``series`` without any diary, medication or questionnaire row."""
        return TrendInputs(
            series=series.info,
            timezone=timezone,
            as_of=as_of,
            sessions=tuple(detail.row for detail in self.sessions.get(series.id, ())),
            other_series=tuple(
                OtherSeries(other.info, self.completed_days(other.id))
                for other in self.series
                if other.id != series.id
            ),
        )


@dataclass(frozen=True)
class PatientDiary:
    """Diary and medication rows over some day ranges of one patient."""

    episodes: tuple[EpisodeRow, ...]
    checkins: tuple[CheckinRow, ...]
    medications: tuple[MedicationRow, ...]


_SERIES_COLUMNS = (
    Series.id,
    Series.patient_id,
    Series.name,
    Series.modality,
    Series.protocol,
    Series.planned_sessions,
    Series.baseline_days,
    Series.follow_up_days,
    Series.new_course,
    Series.planned_start,
)


def _series(row: RowMapping) -> SeriesDetail:
    return SeriesDetail(**row)


def load_patients_series(
    session: Session, patient_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[SeriesDetail]]:
    """The live series of these patients, by patient (each list by creation, then id)."""
    rows = session.execute(
        select(*_SERIES_COLUMNS)
        .where(Series.patient_id.in_(patient_ids), Series.deleted_at.is_(None))
        .order_by(Series.patient_id, Series.created_at, Series.id)
    )
    found: defaultdict[uuid.UUID, list[SeriesDetail]] = defaultdict(list)
    for row in rows.mappings():
        found[row["patient_id"]].append(_series(row))
    return found


_T = TreatmentSession
_SESSIONS = (
    select(
        _T.id,
        _T.series_id,
        _T.started_at,
        _T.started_offset_minutes,
        _T.completed,
        _T.pain_before,
        _T.pain_after,
        _T.adverse_effects,
        _T.route,
        _T.dose_mg,
        _T.dose_mg_per_kg,
        _T.systolic_max,
        _T.diastolic_max,
        _T.heart_rate_max,
        _T.spo2_min,
        _T.notes,
    )
    .where(
        _T.patient_id == bindparam("patient"),
        _T.series_id.in_(bindparam("series", expanding=True)),
        _T.deleted_at.is_(None),
    )
    .order_by(_T.started_at, _T.id)
)


def load_sessions(
    session: Session, patient_id: uuid.UUID, series_ids: Sequence[uuid.UUID], timezone: str
) -> dict[uuid.UUID, tuple[SessionDetail, ...]]:
    """Every live session (completed or not) of these series of one patient, by series."""
    rows = session.execute(_SESSIONS, {"patient": patient_id, "series": list(series_ids)})
    found: defaultdict[uuid.UUID, list[SessionDetail]] = defaultdict(list)
    for row in rows:
        effects = tuple((str(e["effect"]), str(e["severity"])) for e in row.adverse_effects or ())
        session_row = SessionRow(
            id=row.id,
            local_day=local_day_at_offset(row.started_at, row.started_offset_minutes),
            completed=row.completed,
            pain_before=row.pain_before,
            pain_after=row.pain_after,
            adverse_effects=effects,
            dose_mg_per_kg=row.dose_mg_per_kg,
            vitals=Vitals(row.systolic_max, row.diastolic_max, row.heart_rate_max, row.spo2_min),
        )
        found[row.series_id].append(
            SessionDetail(session_row, row.series_id, row.route, row.dose_mg, row.notes)
        )
    return {series_id: tuple(details) for series_id, details in found.items()}


def load_treatments(session: Session, patient_id: uuid.UUID, timezone: str) -> Treatments:
    """All of a patient's live series and their sessions: two queries."""
    series = tuple(load_patients_series(session, [patient_id]).get(patient_id, ()))
    sessions = load_sessions(session, patient_id, [s.id for s in series], timezone)
    return Treatments(series, sessions)


def _triggers(mask: int) -> tuple[str, ...]:
    return tuple(name for bit, name in enumerate(TRIGGERS) if mask & (1 << bit))


# Prebuilt statements with bound parameters: their compiled form is found in the cache without
# rebuilding the expression per call (the cohort's refresh runs them for every patient).
_EPISODES = (
    select(
        Episode.started_at,
        Episode.started_offset_minutes,
        Episode.attack_count,
        Episode.intensity,
        Episode.duration_seconds,
        Episode.trigger_mask,
    )
    .where(
        Episode.patient_id == bindparam("patient"),
        Episode.started_at >= bindparam("low"),
        Episode.started_at < bindparam("high"),
        Episode.deleted_at.is_(None),
    )
    .order_by(Episode.started_at)
)
_CHECKINS = (
    select(Checkin.local_date, Checkin.no_attacks, Checkin.bni, Checkin.background_pain)
    .where(
        Checkin.patient_id == bindparam("patient"),
        Checkin.local_date >= bindparam("first"),
        Checkin.local_date <= bindparam("last"),
        Checkin.deleted_at.is_(None),
    )
    .order_by(Checkin.local_date)
)
_MEDICATIONS = select(
    Medication.id,
    Medication.name,
    Medication.dose_mg_per_day,
    Medication.started_on,
    Medication.stopped_on,
).where(
    Medication.patient_id == bindparam("patient"),
    Medication.deleted_at.is_(None),
    Medication.started_on <= bindparam("last"),
    or_(Medication.stopped_on.is_(None), Medication.stopped_on >= bindparam("first")),
)


def load_diary(
    session: Session, patient_id: uuid.UUID, timezone: str, first_day: date, last_day: date
) -> tuple[tuple[EpisodeRow, ...], tuple[CheckinRow, ...]]:
    """Live episodes and check-ins on the local days ``first_day .. last_day``: two queries."""
    low, high = any_offset_utc_range(first_day, last_day)
    episode_rows = session.execute(_EPISODES, {"patient": patient_id, "low": low, "high": high})
    episodes: list[EpisodeRow] = []
    for row in episode_rows:
        day = local_day_at_offset(row.started_at, row.started_offset_minutes)
        # The widened UTC range holds up to 14 hours of neighbouring days on each side.
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
    checkins = tuple(
        CheckinRow(row.local_date, row.no_attacks, row.bni, row.background_pain)
        for row in session.execute(
            _CHECKINS, {"patient": patient_id, "first": first_day, "last": last_day}
        )
    )
    return tuple(episodes), checkins


def load_assessments(
    session: Session, patient_id: uuid.UUID, timezone: str, first_day: date, as_of: date
) -> tuple[AssessmentRow, ...]:
    """Every live assessment whose local day is in ``[first_day, as_of]``."""
    low, high = utc_range(first_day, as_of, timezone)
    a = Assessment
    rows = session.execute(
        select(a.instrument, a.taken_at, a.total).where(
            a.patient_id == patient_id,
            a.deleted_at.is_(None),
            a.taken_at >= low,
            a.taken_at < high,
        )
    )
    return tuple(
        AssessmentRow(row.instrument, local_day(row.taken_at, timezone), row.taken_at, row.total)
        for row in rows
    )


def load_medications(
    session: Session, patient_id: uuid.UUID, first_day: date, last_day: date
) -> tuple[MedicationRow, ...]:
    """Live medications taken on a day of ``first_day .. last_day``, with their dose history."""
    rows = session.execute(
        _MEDICATIONS, {"patient": patient_id, "first": first_day, "last": last_day}
    )
    medications = list(rows)
    if not medications:
        return ()
    d = MedicationDose
    history: defaultdict[uuid.UUID, list[DoseEntry]] = defaultdict(list)
    for entry in session.execute(
        select(d.medication_id, d.effective_on, d.dose_mg_per_day)
        .where(
            d.patient_id == patient_id,
            d.medication_id.in_([row.id for row in medications]),
        )
        .order_by(d.effective_on, d.recorded_at)
    ):
        history[entry.medication_id].append(DoseEntry(entry.effective_on, entry.dose_mg_per_day))
    return tuple(
        MedicationRow(
            row.id,
            row.name,
            row.dose_mg_per_day,
            row.started_on,
            row.stopped_on,
            tuple(history[row.id]),
        )
        for row in medications
    )


def load_patient_diary(
    session: Session, patient_id: uuid.UUID, timezone: str, ranges: Iterable[DayRange]
) -> PatientDiary:
    """Diary rows on the days of ``ranges`` (joined where they touch) and the medications
    taken between their first and last day."""
    merged = merge_ranges(ranges)
    episodes: list[EpisodeRow] = []
    checkins: list[CheckinRow] = []
    for first_day, last_day in merged:
        range_episodes, range_checkins = load_diary(
            session, patient_id, timezone, first_day, last_day
        )
        episodes.extend(range_episodes)
        checkins.extend(range_checkins)
    medications = (
        load_medications(session, patient_id, merged[0][0], merged[-1][1]) if merged else ()
    )
    return PatientDiary(tuple(episodes), tuple(checkins), medications)


def with_diary(
    inputs: TrendInputs,
    diary: PatientDiary,
    assessments: tuple[AssessmentRow, ...] = (),
) -> TrendInputs:
    return TrendInputs(
        series=inputs.series,
        timezone=inputs.timezone,
        as_of=inputs.as_of,
        sessions=inputs.sessions,
        episodes=diary.episodes,
        checkins=diary.checkins,
        assessments=assessments,
        medications=diary.medications,
        other_series=inputs.other_series,
    )


@dataclass(frozen=True)
class LoadedTrend:
    series: SeriesDetail
    treatments: Treatments
    plan: SeriesPlan
    inputs: TrendInputs


def load_trend(
    session: Session,
    patient_id: uuid.UUID,
    timezone: str,
    treatments: Treatments,
    series: SeriesDetail,
    as_of: date,
    *,
    through_as_of: bool = False,
) -> LoadedTrend:
    """Everything ``compute_trend`` needs for ``series`` up to ``as_of``; with
    ``through_as_of`` the diary is read up to as_of (the chart draws every day).

    Raises ``NoCompletedSession`` (before reading the diary) when no completed session lies on
    or before ``as_of``.
    """
    base = treatments.base_inputs(series, timezone, as_of)
    plan = plan_for(base)
    ranges = diary_ranges(plan, as_of if through_as_of else None)
    diary = load_patient_diary(session, patient_id, timezone, ranges)
    assessments = load_assessments(session, patient_id, timezone, plan.reference.start, as_of)
    return LoadedTrend(series, treatments, plan, with_diary(base, diary, assessments))
