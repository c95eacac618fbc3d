"""Before/after trends of a treatment series: JSON, SVG chart, printable report; timeseries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from app.api.responses import problems
from app.deps import ReportablePatient, SessionDep
from app.schemas.trends import TimeseriesOut, TrendOut
from app.security.headers import report_headers, svg_headers
from app.services import trends

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
    description="Local days in the patient's time zone; unobserved days are missing, never "
    "zero. 409 while the series has no completed session on or before `as_of`.",
    responses=TREND_PROBLEMS,
)
def get_series_trend(
    sid: uuid.UUID, patient: ReportablePatient, session: SessionDep, as_of: AsOf = None
) -> TrendOut:
    return trends.series_trend(session, patient, sid, as_of)


@router.get(
    f"{SERIES}/chart.svg",
    operation_id="getSeriesChart",
    summary="The trend chart: daily attacks, 7-day mean, intensity, windows, sessions",
    response_class=Response,
    responses=_media("image/svg+xml", "An SVG document") | TREND_PROBLEMS,
)
def get_series_chart(
    sid: uuid.UUID, patient: ReportablePatient, session: SessionDep, as_of: AsOf = None
) -> Response:
    svg = trends.series_chart(session, patient, sid, as_of)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers=svg_headers(),
    )


@router.get(
    f"{SERIES}/report",
    operation_id="getSeriesReport",
    summary="A printable HTML report of the series for clinicians",
    description="Self-contained (inline chart and styles, no script), every patient-entered "
    "text escaped, sent with a strict Content-Security-Policy.",
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
    description="Both dates inclusive, at most 731 days apart, from 1900-01-01 to a year "
    "ahead; weeks run Monday to Sunday, the first and last cut to the range. Days without "
    "diary data are unobserved, never zero.",
    responses=problems(401, 403, 404, 422),
)
def get_timeseries(
    patient: ReportablePatient,
    session: SessionDep,
    from_day: Annotated[dt.date, Query(alias="from", description="First local day")],
    to_day: Annotated[dt.date, Query(alias="to", description="Last local day (inclusive)")],
    bucket: Annotated[Literal["day", "week"], Query()] = "day",
) -> TimeseriesOut:
    return trends.patient_timeseries(session, patient, from_day, to_day, bucket)
