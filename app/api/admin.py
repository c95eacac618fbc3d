"""Admin: staff accounts and partner clients. Admins see no diary data unless granted."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.responses import problems
from app.deps import AdminActor, ContextDep, SessionDep
from app.schemas.auth import AdminUserIn, UserOut
from app.schemas.clients import ClientCreatedOut, ClientIn, ClientOut
from app.schemas.common import Page
from app.services import accounts, clients

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
    return accounts.create_staff_user(session, ctx, data)


@router.post(
    "/clients",
    status_code=status.HTTP_201_CREATED,
    operation_id="createPartnerClient",
    summary="Register a partner client; the secret is in this response only (admin only)",
    responses=problems(401, 403, 422),
)
def create_client(data: ClientIn, _admin: AdminActor, session: SessionDep) -> ClientCreatedOut:
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
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[ClientOut]:
    return clients.list_clients(session, limit=limit, cursor=cursor)


@router.delete(
    "/clients/{client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="disablePartnerClient",
    summary="Disable a partner client: its tokens stop working at once (admin only)",
    responses=problems(401, 403, 404, 422),
)
def disable_client(client_id: uuid.UUID, _admin: AdminActor, session: SessionDep) -> Response:
    clients.disable_client(session, client_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
