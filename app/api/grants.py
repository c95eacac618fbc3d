"""The patient's grants to clinicians and partner clients (the patient only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import OwnPatient, SessionDep
from app.schemas.common import Page
from app.schemas.grants import GrantIn, GrantOut
from app.services.care import grants
from app.services.care.grants import LIST as GRANTS

router = APIRouter(tags=["patients"])


@router.post(
    "/patients/{pid}/grants",
    status_code=status.HTTP_201_CREATED,
    operation_id="createGrant",
    summary="Let a clinician (by e-mail) or a partner client read or write your data",
    responses=problems(401, 403, 404, 422),
)
def create_grant(data: GrantIn, patient: OwnPatient, session: SessionDep) -> GrantOut:
    """The patient only (grantees cannot grant further: 403). Names a clinician by
    `grantee_email` or a partner by `client_id`, with `read` or `write` access and an optional
    `expires_at`; 201. A new grant to a grantee who already has one replaces it (the old one
    is revoked)."""
    return grants.create_grant(session, patient, data)


@router.get(
    "/patients/{pid}/grants",
    operation_id="listGrants",
    summary="Your grants, newest first, including revoked and expired ones",
    responses=problems(401, 403, 404, 422),
)
def list_grants(
    patient: OwnPatient,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, cursor_query(GRANTS)] = None,
) -> Page[GrantOut]:
    """The patient only (grantees get 403). Every grant the patient gave, newest first,
    including revoked and expired ones; page with `limit` and `next_cursor`."""
    return grants.list_grants(session, patient, limit=limit, cursor=cursor)


@router.delete(
    "/patients/{pid}/grants/{gid}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="revokeGrant",
    summary="Revoke a grant; it stops working on the grantee's next request",
    responses=problems(401, 403, 404, 422),
)
def revoke_grant(gid: uuid.UUID, patient: OwnPatient, session: SessionDep) -> Response:
    """The patient only (grantees get 403). 204; access ends on the grantee's next request,
    whatever tokens they hold. A grant of another patient, or none, is a 404."""
    grants.revoke_grant(session, patient, gid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
