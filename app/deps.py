"""Request dependencies as Annotated aliases: the session, the caller and patient access."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.errors import Forbidden, Unauthorized
from app.models import Patient
from app.services.access import AccessMode, resolve_patient
from app.services.actors import Actor
from app.services.auth import resolve_actor
from app.services.context import AppContext

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    scheme_name="OAuth2Password",
    auto_error=False,
)


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_session(request: Request, ctx: ContextDep) -> Iterator[Session]:
    # Writers take SQLite's write lock when the transaction begins (see db.py); readers don't.
    session = ctx.db.session(write=request.method in WRITE_METHODS)
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def get_client_ip(request: Request) -> str:
    # uvicorn resolves X-Forwarded-For only from trusted proxies (--forwarded-allow-ips).
    return request.client.host if request.client else "unknown"


ClientIP = Annotated[str, Depends(get_client_ip)]


def get_actor(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    if not token:
        raise Unauthorized("Sign in first: send an access token as 'Authorization: Bearer …'.")
    actor = resolve_actor(session, ctx, token)
    request.state.actor = actor
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require_role(*roles: str) -> Callable[[Actor], Actor]:
    def dependency(actor: CurrentActor) -> Actor:
        if actor.role not in roles:
            raise Forbidden("Your role may not do this.")
        return actor

    return dependency


AdminActor = Annotated[Actor, Depends(require_role("admin"))]


def patient_access(mode: AccessMode) -> Callable[..., Patient]:
    def dependency(pid: str, actor: CurrentActor, session: SessionDep) -> Patient:
        return resolve_patient(session, actor, pid, mode)

    dependency.__name__ = f"patient_{mode}_access"
    return dependency


ReadablePatient = Annotated[Patient, Depends(patient_access("read"))]
WritablePatient = Annotated[Patient, Depends(patient_access("write"))]
