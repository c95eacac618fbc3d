"""The clinician's patients at a glance: one row per patient they may see, for the web app's
patients page (``/clinic/``).

``patients_overview`` is the one function the page depends on, and ``PatientsOverview`` /
``PatientRow`` the one shape it reads. It reads the outcomes kept ready (services/outcomes/
ready.py, issue 14): ``make_ready`` first brings the caller's patients' rows up to date (what
changed, or whose day moved on), then one query reads the page from ``patient_outcomes`` -
ordered, offset and limited in the database along an index of that table, the caller's active
grant joined in (``ready.granted_to``), the patient's side and branches joined from
``patients`` and the latest series' booster and baseline flags from ``series_outcomes`` - and
one more counts the caller's patients. So a page costs the same with 50 patients or 10 000.

An explicit ``as_of`` (no stored row serves another day) takes ``computed_overview``: every
visible patient's courses computed on the fly, sorted in Python (the way this page worked
before the rows were kept ready).

Access: the patients are those with an active grant to the caller, checked on this call.
Auditing the rows shown is the caller's job (it knows the request).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import ValidationFailed
from app.models import Patient
from app.schemas.trends import CourseSeriesOut, CoursesOut, OutlookOut
from app.services.care.access import PATIENTS, visible_patients
from app.services.identity.actors import Actor
from app.services.outcomes import ready
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
        """The expected return's earliest day is within 14 days of as_of (or already past),
        the latest relief not over (neither ended nor no relief: as ``ready`` stores it)."""
        over = self.latest is not None and self.latest.relief_status in ("ended", "no_relief")
        return (
            self.expected_return is not None
            and not over
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
    db: Database,
    sort: Sort,
    page: int,
    page_size: int,
    as_of: dt.date | None = None,
) -> PatientsOverview:
    """Page ``page`` (from 1) of the caller's patients in ``sort`` order: ``attention`` puts
    relief that ended first (the latest end first), then an expected return within 14 days
    (the soonest first), then the rest, each by name; ``name``; ``last_session`` (the longest
    since the last session first, patients without one last). Without ``as_of`` (each
    patient's today) the stored rows: one query for the page and one for the count."""
    if sort not in SORTS:
        raise ValidationFailed(["query", "sort"], f"must be one of {', '.join(SORTS)}")
    if page < 1:
        raise ValidationFailed(["query", "page"], "must be at least 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed(["query", "page_size"], f"must be 1 to {MAX_PAGE_SIZE}")
    if as_of is not None:
        return computed_overview(
            session, actor, sort=sort, page=page, page_size=page_size, as_of=as_of
        )
    at = ready.now()
    ready.make_ready(db, session, actor, at)
    o = ready.PATIENTS
    latest = ready.SERIES.alias("latest")
    visible = ready.granted_to(actor, o.c.patient_id, at)
    query = (
        select(
            o,
            Patient.display_name,
            Patient.side,
            Patient.branches,
            latest.c.booster,
            latest.c.baseline_flags,
        )
        .join(Patient, Patient.id == o.c.patient_id)
        .outerjoin(latest, latest.c.series_id == o.c.series_id)
        .where(visible)
        .order_by(*_STORED_ORDER[sort])
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    rows = tuple(_stored_row(values) for values in session.execute(query).mappings())
    total = session.scalar(select(func.count()).select_from(o).where(visible)) or 0
    session.commit()  # a read: end it before the caller writes the audit entries
    return PatientsOverview(rows=rows, total=total, page=page, page_size=page_size, sort=sort)


_O = ready.PATIENTS.c
# Each order is an index of patient_outcomes (app/models/outcomes.py), walked from its start.
_STORED_ORDER: dict[Sort, tuple[ColumnElement[Any], ...]] = {
    "attention": (
        _O.ended_rank,
        _O.ended_key,
        _O.return_rank,
        _O.return_key,
        _O.sort_name,
        _O.patient_id,
    ),
    "name": (_O.sort_name, _O.patient_id),
    "last_session": (_O.session_rank, _O.session_key, _O.sort_name, _O.patient_id),
}


def _stored_row(values: Any) -> PatientRow:
    """A page row from a stored patient row (and its joins). The latest series is the one
    with a completed session (``end_day`` set), as in ``courses``."""
    day: dt.date = values["as_of"]
    end: dt.date | None = values["end_day"]
    latest = None
    if values["series_id"] is not None and end is not None:
        latest = LatestSeries(
            series_id=values["series_id"],
            name=values["series_name"],
            start=values["start"],
            end=end,
            booster=bool(values["booster"]),
            responder=values["responder"],
            relief_status=values["relief_status"],
            relief_onset=values["relief_onset"],
            relief_end=values["relief_end"],
            relief_days=values["relief_days"],
        )
    back, until = values["expected_return_from"], values["expected_return_to"]
    return PatientRow(
        patient_id=values["patient_id"],
        name=values["display_name"],
        side=values["side"],
        branches=tuple(values["branches"] or ()),
        as_of=day,
        latest=latest,
        days_since_last_session=None if end is None else (day - end).days,
        expected_return=None if back is None or until is None else (back, until),
        expected_return_open=bool(values["expected_return_open"]),
        baseline_flags=tuple(values["baseline_flags"] or ()) if latest is not None else (),
    )


def computed_overview(
    session: Session,
    actor: Actor,
    *,
    sort: Sort,
    page: int,
    page_size: int,
    as_of: dt.date | None,
) -> PatientsOverview:
    """The fallback for an explicit ``as_of``: every visible patient's courses computed for
    that day (``courses.patient_courses``, O(patients) diary reads), sorted here."""
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


def _by_attention(row: PatientRow) -> tuple[int, int, str, str]:
    if row.relief_ended and row.latest is not None and row.latest.relief_end is not None:
        group, when = 0, -row.latest.relief_end.toordinal()  # the latest end first
    elif row.return_soon:
        assert row.expected_return is not None
        group, when = 1, row.expected_return[0].toordinal()
    else:
        group, when = 2, 0
    return (group, when, *_by_name(row))


def _by_last_session(row: PatientRow) -> tuple[int, str, str]:
    days = row.days_since_last_session
    return (-days if days is not None else 1, *_by_name(row))


_ORDER = {"attention": _by_attention, "name": _by_name, "last_session": _by_last_session}
