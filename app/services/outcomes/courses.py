"""A patient's treatment courses with their outlook, and a planned series' baseline readiness.

Read-only use cases like the trend: the patient's series and sessions first, then the diary over
the days the series' numbers use (never the whole history), then the pure ``app.trends`` code.
Access was decided (and audited) by the route's dependency.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import Patient
from app.schemas.trends import CoursesOut, ReadinessOut
from app.services.outcomes.trends import NO_SERIES, resolve_as_of
from app.trends import SeriesAnalysis, analyse, diary_ranges, outlook, plan_all, readiness
from app.trends import load as loader
from app.trends.sessions import total_mg_per_kg


def patient_analyses(
    session: Session,
    patient: Patient,
    treatments: loader.Treatments,
    as_of: dt.date,
    only: set[uuid.UUID] | None = None,
) -> dict[uuid.UUID, SeriesAnalysis]:
    """The analysis of every series with a start by ``as_of`` (or of those in ``only``), in
    course order. One diary read over the days all of them use."""
    return analyses_of(session, patient.id, patient.timezone, treatments, as_of, only)


def analyses_of(
    session: Session,
    patient_id: uuid.UUID,
    timezone: str,
    treatments: loader.Treatments,
    as_of: dt.date,
    only: set[uuid.UUID] | None = None,
) -> dict[uuid.UUID, SeriesAnalysis]:
    """``patient_analyses`` for a patient known by id and zone (no ``Patient`` loaded)."""
    plans = plan_all(
        ((series.info, treatments.completed_days(series.id)) for series in treatments.series),
        as_of,
    )
    wanted = [sid for sid in plans if only is None or sid in only]
    ranges = [day_range for sid in wanted for day_range in diary_ranges(plans[sid])]
    diary = loader.load_patient_diary(session, patient_id, timezone, ranges)
    found: dict[uuid.UUID, SeriesAnalysis] = {}
    for sid in wanted:
        series = treatments.find(sid)
        assert series is not None  # plans are made from the treatments' own series
        base = treatments.base_inputs(series, timezone, as_of)
        found[sid] = analyse(loader.with_diary(base, diary))
    return found


def patient_courses(session: Session, patient: Patient, as_of: dt.date | None) -> CoursesOut:
    day = resolve_as_of(patient, as_of)
    treatments = loader.load_treatments(session, patient.id, patient.timezone)
    analyses = patient_analyses(session, patient, treatments, day)
    by_course: defaultdict[uuid.UUID, list[SeriesAnalysis]] = defaultdict(list)
    for analysis in analyses.values():
        by_course[analysis.plan.place.course_id].append(analysis)
    reliefs = [analysis.relief for analysis in analyses.values()]
    courses = []
    for course_id, members in by_course.items():
        first, latest = members[0], members[-1]
        reference = first.reference
        courses.append(
            {
                "course_id": course_id,
                "series": [_series_entry(treatments, member) for member in members],
                "reference_baseline": {
                    "start": reference.start,
                    "end": reference.end,
                    "observed_days": reference.observed_days,
                    "attacks_per_day": first.baseline_rate,
                    "flags": first.flags,
                },
                "outlook": outlook(reliefs, latest.plan.series.id, latest.relief, latest.plan.end),
            }
        )
    return CoursesOut.model_validate({"courses": courses})


def _series_entry(treatments: loader.Treatments, analysis: SeriesAnalysis) -> dict[str, object]:
    plan = analysis.plan
    series = treatments.find(plan.series.id)
    assert series is not None
    completed = [
        detail.row
        for detail in treatments.sessions.get(series.id, ())
        if detail.row.completed and detail.row.local_day <= plan.as_of
    ]
    return {
        "series_id": series.id,
        "name": series.name,
        "modality": series.modality,
        "start": plan.start,
        "end": plan.end,
        "sessions_count": len(completed),
        "total_mg_per_kg": total_mg_per_kg(completed),
        "responder": analysis.responder,
        "relief": analysis.relief,
    }


def series_readiness(
    session: Session, patient: Patient, series_id: uuid.UUID, as_of: dt.date | None
) -> ReadinessOut:
    day = resolve_as_of(patient, as_of)
    treatments = loader.load_treatments(session, patient.id, patient.timezone)
    series = treatments.find(series_id)
    if series is None:
        raise NotFound(NO_SERIES)
    if any(completed <= day for completed in treatments.completed_days(series.id)):
        raise Conflict(
            f"The series has a completed session on or before {day.isoformat()}: its baseline "
            "is over (see its trend)."
        )
    if series.planned_start is None:
        raise Conflict("The series has no planned_start: set one to follow its baseline.")
    first = series.planned_start - dt.timedelta(days=series.baseline_days)
    last = min(day, series.planned_start - dt.timedelta(days=1))
    ranges = [(first, last)] if first <= last else []
    diary = loader.load_patient_diary(session, patient.id, patient.timezone, ranges)
    result = readiness(
        series.info,
        series.planned_start,
        day,
        episodes=diary.episodes,
        checkins=diary.checkins,
        medications=diary.medications,
        other_session_days=[
            completed
            for other in treatments.series
            if other.id != series.id
            for completed in treatments.completed_days(other.id)
        ],
    )
    return ReadinessOut.model_validate(result)
