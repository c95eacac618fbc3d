"""Outcomes of every treatment series of the patients a clinician may see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import ContextDep, CurrentActor, RequestInfoDep, SessionDep
from app.schemas.common import Limit
from app.schemas.trends import CohortOut
from app.services.outcomes import cohort

router = APIRouter(tags=["trends"])

CSV = "text/csv"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}}}
}


@router.get(
    "/cohort/series-outcomes",
    operation_id="getCohortOutcomes",
    summary="One row per series of every patient you may see, with a responder summary",
    response_model=CohortOut,
    responses=CSV_RESPONSE | problems(401, 403, 422),
)
def get_cohort_outcomes(
    actor: CurrentActor,
    session: SessionDep,
    ctx: ContextDep,
    info: RequestInfoDep,
    modality: Annotated[
        str | None, Query(max_length=32, description="Only series of this modality")
    ] = None,
    as_of: Annotated[
        dt.date | None,
        Query(description="Outcomes as of this day (default: each patient's local today)"),
    ] = None,
    limit: Limit = 50,
    cursor: Annotated[str | None, cursor_query(cohort.ORDER)] = None,
    summary: Annotated[
        bool, Query(description="Include the summary on the first page (default true)")
    ] = True,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> CohortOut | Response:
    """For clinicians (and partner clients with `reports:read`); patients and admins get 403.
    One row per live series of every patient who granted you access (baseline and follow-up
    rates, change, responder, relief days, status) and a summary. Each patient whose rows are
    sent is on that patient's access log. The figures are stored and brought up to date before
    every read (a change of the diary, of the patient or of their local day shows at once).
    `Accept: text/csv` returns the rows as CSV (the summary is in the JSON
    only) and every row at once; text cells that a spreadsheet would run as a formula start
    with `'`. JSON rows come in pages (`limit`, `cursor`; by patient name, then patient, then
    the patient's series by creation); the summary, over every row, comes with the first page
    (`summary=false` leaves it out)."""
    if accept and CSV in accept.lower():
        rows = cohort.every_row(session, ctx.db, actor, info, modality=modality, as_of=as_of)
        return Response(
            cohort.to_csv(rows),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="series-outcomes.csv"'},
        )
    return cohort.series_outcomes(
        session,
        ctx.db,
        actor,
        info,
        modality=modality,
        as_of=as_of,
        limit=limit,
        cursor=cursor,
        with_summary=summary,
    )
