"""The patient's access log: who read or changed their data (the patient only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import OwnPatient, SessionDep
from app.schemas.audit import AccessLogEntryOut
from app.schemas.common import Page
from app.services.care.access_log import LIST as CARE_LOG
from app.services.care.access_log import access_log

router = APIRouter(tags=["patients"])


@router.get(
    "/patients/{pid}/access-log",
    operation_id="getAccessLog",
    summary="Who read or changed your data, newest first (reading it is logged too)",
    responses=problems(401, 403, 404, 422),
)
def get_access_log(
    patient: OwnPatient,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, cursor_query(CARE_LOG)] = None,
) -> Page[AccessLogEntryOut]:
    """The patient only (grantees get 403). Every read, change, export and refusal of their
    data: when, who (id, role, name), the action, the route and record id, the outcome; never
    data. Newest first; page with `limit` and `next_cursor`."""
    return access_log(session, patient, limit=limit, cursor=cursor)
