"""What the web app's patient page shows beyond ``GET /patients/{pid}/courses``: a chart per
course across all its series, and the baseline readiness of each planned series.

Read-only, like the courses use case; access was decided (and audited) by the page's dependency.
The diary is read once per course over the days its chart shows (at most ``MAX_CHART_DAYS``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import Patient
from app.schemas.trends import CourseOut, CoursesOut, ReadinessOut
from app.services.outcomes.courses import patient_courses, series_readiness
from app.services.outcomes.trends import resolve_as_of
from app.trends import load as loader
from app.trends import timeseries

# A course chart spans at most two years back from as_of (the timeseries' own cap).
MAX_CHART_DAYS = 731


@dataclass(frozen=True)
class PlannedSeries:
    series_id: uuid.UUID
    name: str
    readiness: ReadinessOut


@dataclass(frozen=True)
class PatientPage:
    as_of: dt.date
    courses: CoursesOut
    charts: dict[uuid.UUID, str]  # course_id -> SVG document
    planned: tuple[PlannedSeries, ...]


def patient_page(session: Session, patient: Patient, as_of: dt.date | None = None) -> PatientPage:
    day = resolve_as_of(patient, as_of)
    courses = patient_courses(session, patient, day)
    treatments = loader.load_treatments(session, patient.id, patient.timezone)
    charts = {
        course.course_id: _course_chart(session, patient, treatments, course, day)
        for course in courses.courses
    }
    planned = tuple(
        PlannedSeries(series.id, series.name, series_readiness(session, patient, series.id, day))
        for series in treatments.series
        if series.planned_start is not None
        and not any(completed <= day for completed in treatments.completed_days(series.id))
    )
    return PatientPage(day, courses, charts, planned)


def _course_chart(
    session: Session,
    patient: Patient,
    treatments: loader.Treatments,
    course: CourseOut,
    as_of: dt.date,
) -> str:
    # matplotlib only where a chart is drawn.
    from app.reports.chart import ChartSeries, ChartSession
    from app.reports.course_chart import render_course_chart

    last = as_of
    first = max(course.reference_baseline.start, last - dt.timedelta(days=MAX_CHART_DAYS - 1))
    episodes, checkins = loader.load_diary(session, patient.id, patient.timezone, first, last)
    daily = timeseries(episodes, checkins, first, last, "day")
    members = {member.series_id for member in course.series}
    sessions = [
        ChartSession(detail.row.local_day, detail.row.completed)
        for series_id in members
        for detail in treatments.sessions.get(series_id, ())
    ]
    bands = [
        ChartSeries(member.start, member.end, position)
        for position, member in enumerate(course.series)
    ]
    return render_course_chart(
        daily,
        sessions,
        bands,
        first=first,
        last=last,
        baseline_rate=course.reference_baseline.attacks_per_day,
    )
