"""The clinician's patients at a glance: one row per patient they may see, for the web app's
patients page (``/clinic/``).

``patients_overview`` is the one function the page depends on, and ``PatientsOverview`` /
``PatientRow`` the one shape it reads. For now each row is computed from the courses service
(``courses.patient_courses``: the patient's series, their relief and the course outlook), which
reads every visible patient's diary over the days their series use; the per-series outcomes are
to be kept precomputed (issue 14), and then only this function's body changes.

Access: the patients are those with an active grant to the caller (``access.visible_patients``,
checked on this call). Auditing the rows shown is the caller's job (it knows the request).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Patient
from app.schemas.trends import CourseSeriesOut, CoursesOut, OutlookOut
from app.services.care.access import PATIENTS, visible_patients
from app.services.identity.actors import Actor
from app.services.outcomes.courses import patient_courses
from app.services.outcomes.trends import resolve_as_of
from app.services.sync import listing

Sort = Literal["attention", "name", "last_session"]
SORTS: tuple[Sort, ...] = ("attention", "name", "last_session")
ReliefStatus = Literal["ended", "ongoing", "censored", "no_relief", "undetermined"]
# "Expected return within 14 days" puts a patient near the top of the attention order.
RETURN_SOON_DAYS = 14
MAX_PAGE_SIZE = 200
_PAGE = 500


@dataclass(frozen=True)
class LatestSeries:
    """The patient's latest series with a completed session, and its relief."""

    series_id: uuid.UUID
    name: str
    start: dt.date
    end: dt.date
    booster: bool
    responder: bool | None
    relief_status: ReliefStatus | None
    relief_onset: dt.date | None
    relief_end: dt.date | None
    relief_days: int | None


@dataclass(frozen=True)
class PatientRow:
    patient_id: uuid.UUID
    name: str
    side: str | None
    branches: tuple[str, ...]
    as_of: dt.date
    latest: LatestSeries | None
    days_since_last_session: int | None
    # The course outlook's [earliest, latest] expected return (None without an outlook);
    # ``expected_return_open``: the latest is a lower bound (the longest relief is still running).
    expected_return: tuple[dt.date, dt.date] | None
    expected_return_open: bool
    baseline_flags: tuple[str, ...]

    @property
    def relief_ended(self) -> bool:
        return self.latest is not None and self.latest.relief_status == "ended"

    @property
    def return_soon(self) -> bool:
        """The expected return's earliest day is within 14 days of as_of (or already past)."""
        return (
            self.expected_return is not None
            and not self.relief_ended
            and self.expected_return[0] <= self.as_of + dt.timedelta(days=RETURN_SOON_DAYS)
        )


@dataclass(frozen=True)
class PatientsOverview:
    rows: tuple[PatientRow, ...]
    total: int
    page: int
    page_size: int
    sort: Sort

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


def patients_overview(
    session: Session,
    actor: Actor,
    *,
    sort: Sort,
    page: int,
    page_size: int,
    as_of: dt.date | None = None,
) -> PatientsOverview:
    """Page ``page`` (from 1) of the caller's patients in ``sort`` order: ``attention`` puts
    relief that ended first, then an expected return within 14 days, then the rest (each by
    name); ``name``; ``last_session`` (the longest since the last session first)."""
    if sort not in SORTS:
        raise ValidationFailed(["query", "sort"], f"must be one of {', '.join(SORTS)}")
    if page < 1:
        raise ValidationFailed(["query", "page"], "must be at least 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed(["query", "page_size"], f"must be 1 to {MAX_PAGE_SIZE}")
    rows: list[PatientRow] = []
    pages = listing.every_page(
        session, visible_patients(actor), PATIENTS, size=_PAGE, out=lambda row: row["Patient"]
    )
    for patients in pages:
        rows.extend(_row(session, patient, as_of) for patient in patients)
    session.commit()  # a read: end it before the caller writes the audit entries
    rows = ordered(rows, sort)
    first = (page - 1) * page_size
    return PatientsOverview(
        rows=tuple(rows[first : first + page_size]),
        total=len(rows),
        page=page,
        page_size=page_size,
        sort=sort,
    )


def _row(session: Session, patient: Patient, as_of: dt.date | None) -> PatientRow:
    day = resolve_as_of(patient, as_of)
    courses = patient_courses(session, patient, day)
    latest, flags, outlook = _latest(courses)
    return PatientRow(
        patient_id=patient.id,
        name=patient.display_name,
        side=patient.side,
        branches=tuple(patient.branches or ()),
        as_of=day,
        latest=latest,
        days_since_last_session=None if latest is None else (day - latest.end).days,
        expected_return=None if outlook is None else outlook.expected_return,
        expected_return_open=outlook is not None and outlook.longest_censored,
        baseline_flags=flags,
    )


def _latest(
    courses: CoursesOut,
) -> tuple[LatestSeries | None, tuple[str, ...], OutlookOut | None]:
    if not courses.courses:
        return None, (), None
    course = courses.courses[-1]
    series: CourseSeriesOut = course.series[-1]
    relief = series.relief
    latest = LatestSeries(
        series_id=series.series_id,
        name=series.name,
        start=series.start,
        end=series.end,
        booster=len(course.series) > 1,
        responder=series.responder,
        relief_status=None if relief is None else relief.status,
        relief_onset=None if relief is None else relief.onset_day,
        relief_end=None if relief is None else relief.end_day,
        relief_days=None if relief is None else relief.duration_days,
    )
    return latest, tuple(course.reference_baseline.flags), course.outlook


def ordered(rows: list[PatientRow], sort: Sort) -> list[PatientRow]:
    """``rows`` in the page's ``sort`` order (see ``patients_overview``)."""
    return sorted(rows, key=_ORDER[sort])


def _by_name(row: PatientRow) -> tuple[str, str]:
    return (row.name.casefold(), str(row.patient_id))


def _by_attention(row: PatientRow) -> tuple[int, dt.date, str, str]:
    if row.relief_ended:
        assert row.latest is not None
        group, when = 0, row.latest.relief_end or dt.date.max
    elif row.return_soon:
        assert row.expected_return is not None
        group, when = 1, row.expected_return[0]
    else:
        group, when = 2, dt.date.max
    return (group, when, *_by_name(row))


def _by_last_session(row: PatientRow) -> tuple[int, str, str]:
    days = row.days_since_last_session
    return (-days if days is not None else 1, *_by_name(row))


_ORDER = {"attention": _by_attention, "name": _by_name, "last_session": _by_last_session}
