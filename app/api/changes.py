"""The change feed the offline app syncs from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.responses import problems
from app.deps import ReadablePatient, SessionDep
from app.schemas.common import Limit
from app.schemas.diary import ChangesOut
from app.services import changes

router = APIRouter(tags=["sync"])


@router.get(
    "/patients/{pid}/changes",
    operation_id="listChanges",
    summary="Every diary change since a cursor, in commit order (tombstones included)",
    responses=problems(401, 404, 410, 422),
)
def list_changes(
    patient: ReadablePatient,
    session: SessionDep,
    since: Annotated[
        str | None,
        Query(description="The next_cursor of the previous call; omit to sync from the start"),
    ] = None,
    limit: Limit = 50,
) -> ChangesOut:
    return changes.read_changes(session, patient, since=since, limit=limit)
