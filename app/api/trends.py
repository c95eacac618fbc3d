"""Before/after trends of a treatment series: JSON, SVG chart, printable report; timeseries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from app.api.responses import problems
from app.deps import ReportablePatient, SessionDep
from app.schemas.trends import CoursesOut, ReadinessOut, TimeseriesOut, TrendOut
from app.security.headers import report_headers, svg_headers
from app.services.outcomes import courses, trends

router = APIRouter(tags=["trends"])

SERIES = "/patients/{pid}/series/{sid}"
AsOf = Annotated[
    dt.date | None,
    Query(
        description="Report as of this local day (YYYY-MM-DD, inclusive); data after it is "
        "ignored. Default: the patient's local today; at most tomorrow."
    ),
]
TREND_PROBLEMS = problems(401, 403, 404, 409, 422)


def _media(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}
    }


@router.get(
    f"{SERIES}/trend",
    operation_id="getSeriesTrend",
    summary="Before/after trend of a series: windows, comparisons, responder, relief, warnings",
    responses=TREND_PROBLEMS,
)
def get_series_trend(
    sid: uuid.UUID, patient: ReportablePatient, session: SessionDep, as_of: AsOf = None
) -> TrendOut:
    """The series' course (booster or first), windows in the patient's local days (unobserved
    days are missing, never zero), comparisons with the course's reference baseline (IMMPACT
    category, rate ratio, Mann-Whitney p over 7-day blocks), responder, relief as time to event
    (onset, end or censoring), baseline flags, acute response, vitals, adverse effects,
    questionnaires, PGIC, medication changes and warnings, as of `as_of`. 409 while the series
    has no completed session on or before `as_of`; a deleted series is a 404. The patient and
    their grantees; partners need `reports:read` (else 403)."""
    return trends.series_trend(session, patient, sid, as_of)


@router.get(
    "/patients/{pid}/courses",
    operation_id="getCourses",
    summary="The patient's treatment courses: series, reference baseline, relief, outlook",
    responses=problems(401, 403, 404, 422),
)
def get_courses(patient: ReportablePatient, session: SessionDep, as_of: AsOf = None) -> CoursesOut:
    """Courses by start: an induction series and the boosters within 182 days of the one before
    (or as `new_course` says), each series with its responder and relief, the course's
    reference baseline with its flags, and an `outlook` describing this patient's past reliefs
    (null under 2 ended reliefs; a description, never a forecast). The patient and their
    grantees; partners need `reports:read` (else 403)."""
    return courses.patient_courses(session, patient, as_of)


@router.get(
    f"{SERIES}/readiness",
    operation_id="getSeriesReadiness",
    summary="How the baseline of a planned series is filling",
    responses=TREND_PROBLEMS,
)
def get_series_readiness(
    sid: uuid.UUID, patient: ReportablePatient, session: SessionDep, as_of: AsOf = None
) -> ReadinessOut:
    """For a series with `planned_start` and no completed session yet: its baseline days,
    observed days against the target (80 % of baseline_days), days left, whether it is on
    track, and the baseline flags over the days elapsed. 409 once the series has a completed
    session on or before `as_of`, or when it has no `planned_start`. The patient and their
    grantees; partners need `reports:read` (else 403)."""
    return courses.series_readiness(session, patient, sid, as_of)


@router.get(
    f"{SERIES}/chart.svg",
    operation_id="getSeriesChart",
    summary="The trend chart: daily attacks, 7-day mean, intensity, windows, sessions",
    response_class=Response,
    responses={
        200: {
            "description": "An SVG document; the same bytes as `application/octet-stream` (a "
            "download) when the request's Accept names that type and not image/svg+xml",
            "content": {
                "image/svg+xml": {"schema": {"type": "string"}},
                # Generated clients (openapi-python-client and others) read binary bodies only
                # from this type: with it they return the chart as bytes instead of nothing.
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **TREND_PROBLEMS,
    },
)
def get_series_chart(
    sid: uuid.UUID,
    patient: ReportablePatient,
    session: SessionDep,
    request: Request,
    as_of: AsOf = None,
) -> Response:
    """An SVG of the trend as of `as_of`: attacks per local day, their 7-day mean, intensity, the
    windows and the sessions; sent with a strict Content-Security-Policy. 409 while the series
    has no completed session. The patient and their grantees; partners need `reports:read`
    (else 403)."""
    svg = trends.series_chart(session, patient, sid, as_of)
    accept = request.headers.get("accept", "")
    if "application/octet-stream" in accept and "image/svg+xml" not in accept:
        headers = svg_headers() | {"Content-Disposition": 'attachment; filename="chart.svg"'}
        return Response(svg, media_type="application/octet-stream", headers=headers)
    return Response(svg, media_type="image/svg+xml", headers=svg_headers())


@router.get(
    f"{SERIES}/report",
    operation_id="getSeriesReport",
    summary="A printable HTML report of the series for clinicians",
    response_class=Response,
    responses=_media("text/html", "The report page") | TREND_PROBLEMS,
)
def get_series_report(
    sid: uuid.UUID,
    patient: ReportablePatient,
    session: SessionDep,
    request: Request,
    as_of: AsOf = None,
) -> Response:
    """Self-contained HTML (inline chart and styles, no script): patient, diagnosis, series,
    chart, windows, comparisons, adverse effects and warnings, every patient-entered text
    escaped, sent with a strict Content-Security-Policy. 409 while the series has no completed
    session. The patient and their grantees; partners need `reports:read` (else 403)."""
    html = trends.series_report(session, patient, sid, as_of, report_url=str(request.url))
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers=report_headers(),
    )


@router.get(
    "/patients/{pid}/timeseries",
    operation_id="getTimeseries",
    summary="Attacks and intensity per local day or ISO week, for charts",
    responses=problems(401, 403, 404, 422),
)
def get_timeseries(
    patient: ReportablePatient,
    session: SessionDep,
    from_day: Annotated[dt.date, Query(alias="from", description="First local day")],
    to_day: Annotated[dt.date, Query(alias="to", description="Last local day (inclusive)")],
    bucket: Annotated[Literal["day", "week"], Query()] = "day",
) -> TimeseriesOut:
    """Attacks and intensity per local day or ISO week. Both dates inclusive, at most 731 days
    apart, from 1900-01-01 to a year ahead; weeks run Monday to Sunday, the first and last cut
    to the range. Days without diary data are unobserved, never zero. The patient and their
    grantees; partners need `reports:read` (else 403)."""
    return trends.patient_timeseries(session, patient, from_day, to_day, bucket)
