"""The change feed the offline app syncs from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import ReadablePatient, SessionDep
from app.schemas.common import Limit
from app.schemas.diary import ChangesOut
from app.services.sync import changes
from app.services.sync.changes import FEED

router = APIRouter(tags=["sync"])


@router.get(
    "/patients/{pid}/changes",
    operation_id="listChanges",
    summary="Every diary change since a cursor, in commit order (tombstones included)",
    responses=problems(401, 403, 404, 410, 422),
)
def list_changes(
    patient: ReadablePatient,
    session: SessionDep,
    since: Annotated[
        str | None,
        cursor_query(
            FEED, description="The next_cursor of the previous call; omit to sync from the start"
        ),
    ] = None,
    limit: Limit = 50,
) -> ChangesOut:
    """How the offline app syncs: every create, change and deletion (tombstones included) after
    `since`, in commit order, with the record's current state; pass the returned `next_cursor`
    as `since` next time. A cursor older than the purged tombstones is a 410: sync again from
    the start. The patient and their grantees (partners need `diary:read`, else 403)."""
    return changes.read_changes(session, patient, since=since, limit=limit)
