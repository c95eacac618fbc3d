"""Admin: staff accounts and partner clients. Admins see no diary data unless granted."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import AdminActor, ContextDep, SessionDep
from app.schemas.auth import AdminUserIn, UserOut
from app.schemas.clients import ClientCreatedOut, ClientIn, ClientOut
from app.schemas.common import Page
from app.services.care import clients
from app.services.care.clients import LIST as CLIENTS
from app.services.identity import accounts

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    operation_id="createStaffUser",
    summary="Create a clinician or admin account (admin only)",
    responses=problems(401, 403, 409, 422),
)
def create_user(
    data: AdminUserIn, _admin: AdminActor, session: SessionDep, ctx: ContextDep
) -> UserOut:
    """Admins only (others 403). Creates a `clinician` or `admin` account with the given
    password and answers 201 with it; an e-mail already registered is a 409. Clinicians see
    no patient until a patient grants them access by e-mail."""
    return accounts.create_staff_user(session, ctx, data)


@router.post(
    "/clients",
    status_code=status.HTTP_201_CREATED,
    operation_id="createPartnerClient",
    summary="Register a partner client; the secret is in this response only (admin only)",
    responses=problems(401, 403, 422),
)
def create_client(data: ClientIn, _admin: AdminActor, session: SessionDep) -> ClientCreatedOut:
    """Admins only (others 403). Answers 201 with `client_id` and `client_secret`: hand both
    to the partner now, as only a hash of the secret is kept. The partner's tokens can carry at
    most the `scopes` registered here, and reach only patients who grant the client access."""
    return clients.register_client(session, data)


@router.get(
    "/clients",
    operation_id="listPartnerClients",
    summary="Registered partner clients, without secrets (admin only)",
    responses=problems(401, 403, 422),
)
def list_clients(
    _admin: AdminActor,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, cursor_query(CLIENTS)] = None,
) -> Page[ClientOut]:
    """Admins only (others 403). Every registered client in id order, disabled ones included
    (`disabled_at`); page with `limit` and the returned `next_cursor`."""
    return clients.list_clients(session, limit=limit, cursor=cursor)


@router.delete(
    "/clients/{client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="disablePartnerClient",
    summary="Disable a partner client: its tokens stop working at once (admin only)",
    responses=problems(401, 403, 404, 422),
)
def disable_client(client_id: uuid.UUID, _admin: AdminActor, session: SessionDep) -> Response:
    """Admins only (others 403). 204; the client can no longer get tokens and the ones it
    holds fail from the next request. Idempotent; its grants stay on record. Unknown id: 404."""
    clients.disable_client(session, client_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
