"""Daily check-ins, addressed by their local date."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.conditional import IfMatch, IfNoneMatch, deleted, with_etag, with_etag_docs, written
from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import ReadablePatient, SessionDep, WritablePatient
from app.schemas.common import Limit, Page
from app.schemas.diary import CheckinIn, CheckinOut
from app.services.diary import checkins
from app.services.diary.checkins import LIST as CHECKINS

router = APIRouter(tags=["checkins"])

CHECKIN = "/patients/{pid}/checkins/{date}"


@router.put(
    CHECKIN,
    operation_id="putCheckin",
    summary="Create (201), replace (200) or revive after DELETE (201) the day's check-in",
    response_model=CheckinOut,
    responses=with_etag_docs(
        CheckinOut, s200="Replaced, or unchanged (same version)", s201="Created"
    )
    | problems(401, 403, 404, 409, 412, 422),
)
def put_checkin(
    date: dt.date,
    data: CheckinIn,
    patient: WritablePatient,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> CheckinOut:
    """One check-in per local day, addressed by its date: 201 when new (also after a DELETE), 200
    when replaced; the same body again changes nothing. `ETag` carries the version;
    `If-None-Match: *` makes it create-only and a stale `If-Match` is a 412. Dates after the
    patient's local today are a 422. The patient, and grantees with write access (partners need
    `diary:write`); read-only grantees get 403."""
    result = checkins.put_checkin(
        session, patient, date, data, if_match=if_match, if_none_match=if_none_match
    )
    return written(response, checkins.CHECKINS, result)


@router.get(
    "/patients/{pid}/checkins",
    operation_id="listCheckins",
    summary="Check-ins, newest first (from and to are inclusive dates)",
    responses=problems(401, 403, 404, 422),
)
def list_checkins(
    patient: ReadablePatient,
    session: SessionDep,
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    limit: Limit = 50,
    cursor: Annotated[str | None, cursor_query(CHECKINS)] = None,
) -> Page[CheckinOut]:
    """Newest first; `from` and `to` are inclusive dates; page with `limit` and `next_cursor`. The
    patient and their grantees (partners need `diary:read`, else 403)."""
    return checkins.list_checkins(
        session, patient, start=start, end=end, limit=limit, cursor=cursor
    )


@router.get(
    CHECKIN,
    operation_id="getCheckin",
    summary="The check-in of one day",
    responses=with_etag_docs(s200="The check-in") | problems(401, 403, 404, 422),
)
def get_checkin(
    date: dt.date, patient: ReadablePatient, session: SessionDep, response: Response
) -> CheckinOut:
    """The day's check-in with its version as `ETag`; none (or deleted): 404. The patient and
    their grantees (partners need `diary:read`, else 403)."""
    out = checkins.get_checkin(session, patient, date)
    with_etag(response, out.version)
    return out


@router.delete(
    CHECKIN,
    status_code=204,
    operation_id="deleteCheckin",
    summary="Delete the day's check-in (the date may be PUT again later)",
    responses=problems(401, 403, 404, 412, 422),
)
def delete_checkin(
    date: dt.date, patient: WritablePatient, session: SessionDep, if_match: IfMatch = None
) -> Response:
    """204 with the tombstone's version as `ETag`; the change feed reports it, and the date may be
    PUT again later. A stale `If-Match` is a 412. The patient, and grantees with write access
    (partners need `diary:write`); read-only grantees get 403."""
    version = checkins.delete_checkin(session, patient, date, if_match=if_match)
    return deleted(version)
