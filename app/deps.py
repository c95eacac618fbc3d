"""Request dependencies as Annotated aliases: the session, the caller and patient access."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated

import anyio
from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.models import OAuth2 as OAuth2Model
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.errors import Forbidden, Unauthorized
from app.models import Patient
from app.route_index import below_api_version
from app.route_index import route_template as full_template
from app.security.tokens import AccessClaims, InvalidToken
from app.services.care import audit
from app.services.care.access import (
    AccessMode,
    AccessPolicy,
    Scope,
    authorise_read,
    authorise_write,
    owned,
)
from app.services.care.own_write import begin_own_write
from app.services.context import AppContext
from app.services.identity.actors import Actor
from app.services.identity.auth import INVALID_TOKEN, resolve_actor
from app.services.sync.records import ChangeSeq

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
METHOD_ACTIONS: dict[str, audit.Action] = {
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}
TOKEN_URL = "/api/v1/auth/token"
PARTNER_SCOPES = {
    "diary:read": "Read diary records of patients who granted access",
    "diary:write": "Write diary records of patients who granted write access",
    "reports:read": "Read trends, reports and exports of patients who granted access",
}


class OAuth2Bearer(OAuth2PasswordBearer):
    """A bearer token from either flow: people sign in with a password, partners with client
    credentials. Both flows are declared in the OpenAPI document."""

    def __init__(self) -> None:
        super().__init__(tokenUrl=TOKEN_URL, scheme_name="OAuth2", auto_error=False)
        self.model = OAuth2Model(
            flows=OAuthFlows(
                password=OAuthFlowPassword(tokenUrl=TOKEN_URL, scopes={}),
                clientCredentials=OAuthFlowClientCredentials(
                    tokenUrl=TOKEN_URL, scopes=PARTNER_SCOPES
                ),
            )
        )


oauth2_scheme = OAuth2Bearer()


# Every synchronous dependency costs a hop to the thread pool, and a request that holds a
# database connection (or SQLite's write lock) while it waits for a free thread stalls the
# threads that wait for that connection or lock: under load nothing moves until timeouts fire.
# So dependencies without I/O are ``async def`` (no hop), and each dependency that does touch the
# database ends its transaction before it returns; only the endpoint's own hop holds the write
# transaction, from its first statement to its commit.


async def _in_own_thread(call: Callable[[], object]) -> None:
    """Blocking teardown work on a thread outside the pool's limit (FastAPI does the same for
    sync teardowns), so it never queues behind requests waiting for the lock it releases."""
    await anyio.to_thread.run_sync(call, limiter=anyio.CapacityLimiter(1))


async def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_session(request: Request, ctx: ContextDep) -> AsyncIterator[Session]:
    # Writers take SQLite's write lock when the transaction begins (see db.py); readers don't.
    # Creating a session does no I/O; it connects on its first statement, in the endpoint.
    session = ctx.db.session(write=request.method in WRITE_METHODS)
    try:
        yield session
    finally:
        if session.in_transaction():
            await _in_own_thread(session.close)  # a rollback is I/O
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def get_client_ip(request: Request) -> str:
    # The peer's address; X-Forwarded-For counts only when the peer is one of the configured
    # PAINDIARY_TRUSTED_PROXIES (app/main.py installs the middleware that resolves it).
    return request.client.host if request.client else "unknown"


ClientIP = Annotated[str, Depends(get_client_ip)]


def get_actor(
    request: Request,
    ctx: ContextDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Actor:
    if not token:
        raise Unauthorized("Sign in first: send an access token as 'Authorization: Bearer …'.")
    # A short read of its own, ended here (see above). A patient's own record comes with it.
    with ctx.db.session() as reader:
        actor, own_patient = resolve_actor(reader, ctx, token)
    request.state.actor = actor
    request.state.own_patient = own_patient
    return actor


CurrentActor = Annotated[Actor, Depends(get_actor)]


def require_role(*roles: str) -> Callable[[Actor], Awaitable[Actor]]:
    async def dependency(actor: CurrentActor) -> Actor:
        if actor.role not in roles:
            raise Forbidden("Your role may not do this.")
        return actor

    return dependency


AdminActor = Annotated[Actor, Depends(require_role("admin"))]


def route_template(path: str, params: dict[str, str]) -> str:
    """The resource the audit trail names: ``/api/v1/patients/1b2…`` → ``/patients/{pid}``."""
    return below_api_version(full_template(path, params))


def request_info(request: Request, action: audit.Action | None = None) -> audit.RequestInfo:
    """What the audit trail records about this call: the route template (never the body)."""
    params = {name: str(value) for name, value in request.path_params.items()}
    resource = route_template(request.url.path, params)
    ids = [value for name, value in params.items() if name != "pid"]
    if action is None:
        action = "export" if "/export" in resource else METHOD_ACTIONS.get(request.method, "read")
    return audit.RequestInfo(
        action=action,
        resource=resource,
        resource_id=ids[-1] if ids else None,
        request_id=getattr(request.state, "request_id", None),
        ip=request.client.host if request.client else None,
    )


async def get_request_info(request: Request) -> audit.RequestInfo:
    return request_info(request)


RequestInfoDep = Annotated[audit.RequestInfo, Depends(get_request_info)]


# The examples name the signed-in patient's own record: what a client (and the fuzzer's
# examples phase) most often sends.
PatientRef = Annotated[
    str,
    Path(
        description="A patient's id, or `me` for the signed-in patient's own record",
        examples=["me", "3f0c6f1e-8a51-4c1b-9a8e-2f4d7c9b1a60"],
    ),
]


def patient_access(
    mode: AccessMode,
    *,
    scope: Scope | None = None,
    owner_only: bool = False,
    action: audit.Action | None = None,
) -> Callable[..., AsyncIterator[Patient]]:
    """Resolve ``{pid}`` to a patient the caller may access as the route needs, and audit it.

    ``scope`` is what a partner token must carry (default: diary:read / diary:write by
    ``mode``); ``owner_only`` routes are for the patient themself; ``action`` overrides the
    audit action derived from the method (``/export`` routes are exports).
    """
    policy = AccessPolicy.of(mode, scope, owner_only=owner_only)

    async def dependency(
        pid: PatientRef,
        request: Request,
        actor: CurrentActor,
        session: SessionDep,
        ctx: ContextDep,
    ) -> AsyncIterator[Patient]:
        info = request_info(request, action)
        own = owned(actor, pid, getattr(request.state, "own_patient", None))
        if request.method not in WRITE_METHODS:
            yield await run_in_threadpool(
                authorise_read, ctx.db, session, actor, pid, policy, info, own
            )
            return
        if own is not None:
            # The patient writing their own diary: nothing to read, so no thread hop; the
            # audit entry is staged and commits with the write.
            patient = authorise_write(ctx.db, session, actor, pid, policy, info, own)
        else:
            patient = await run_in_threadpool(
                authorise_write, ctx.db, session, actor, pid, policy, info
            )
        try:
            yield patient
        except Exception:
            if audit.is_pending(session):
                await _in_own_thread(partial(audit.settle, ctx.db, session, failed=True))
            raise
        if audit.is_pending(session):
            await _in_own_thread(partial(audit.settle, ctx.db, session, failed=False))

    dependency.__name__ = f"patient_{mode}_access"
    return dependency


# scope="function": the teardown (recording a write that never committed) runs before the
# response leaves, so the client never sees an answer whose audit entry is not yet stored.
ReadablePatient = Annotated[Patient, Depends(patient_access("read"), scope="function")]
WritablePatient = Annotated[Patient, Depends(patient_access("write"), scope="function")]
ReportablePatient = Annotated[
    Patient, Depends(patient_access("read", scope="reports:read"), scope="function")
]
OwnPatient = Annotated[Patient, Depends(patient_access("read", owner_only=True), scope="function")]


_WRITE = AccessPolicy.of("write")
# user id → the id of their own patient record, learnt from a full check in this process. A
# patient record never changes hands (an erased one takes its user along), so an entry never
# becomes wrong; what may change - the session, the record's existence - the one statement of
# ``begin_own_write`` checks on every write. Bounded: cleared when full.
_OWNERS: dict[uuid.UUID, uuid.UUID] = {}
_OWNERS_MAX = 100_000


def _known_owner(claims: AccessClaims, pid: str) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID] | None:
    """(user, auth session, patient) when this process has seen the token's user own ``pid``."""
    if claims.subject_kind != "user" or claims.session_id is None:
        return None
    try:
        user_id, patient_id = uuid.UUID(claims.subject), uuid.UUID(pid)
        auth_session_id = uuid.UUID(claims.session_id)
    except ValueError:
        return None
    if _OWNERS.get(user_id) != patient_id:
        return None
    return user_id, auth_session_id, patient_id


def _check_write(
    ctx: AppContext, session: Session, token: str, pid: str, info: audit.RequestInfo
) -> Patient:
    """The general path (get_actor and the write access check of ``WritablePatient``)."""
    with ctx.db.session() as reader:
        actor, own_patient = resolve_actor(reader, ctx, token)
    if own_patient is not None:
        if len(_OWNERS) >= _OWNERS_MAX:
            _OWNERS.clear()
        _OWNERS[actor.id] = own_patient.id
    own = owned(actor, pid, own_patient)
    return authorise_write(ctx.db, session, actor, pid, _WRITE, info, own)


def _record_failed(ctx: AppContext, token: str, pid: str, info: audit.RequestInfo) -> None:
    """The "failed" entry of a patient's own write refused before it began (its body), as
    ``WritablePatient`` records it; nothing when the sign-in has ended since (that was a 401)."""
    try:
        with ctx.db.session() as reader:
            actor, own_patient = resolve_actor(reader, ctx, token)
    except Unauthorized:
        return
    if owned(actor, pid, own_patient) is not None:
        audit.record(
            ctx.db, [audit.event_for(actor, uuid.UUID(str(actor.patient_id)), info, "failed")]
        )


_BEGUN = "paindiary.write.begun"  # session.info: ``PatientWrite.begin`` ran


@dataclass(frozen=True)
class PatientWrite:
    """``WritablePatient`` for the hot path: the same answers, in the same order (401, 404 and
    403 before the body is validated), and the same audit entries, at less cost.

    A patient writing their own record, once this process has seen them own it, is checked in
    the endpoint's own thread hop and write transaction (``begin``): one hop to the thread pool
    instead of two, and one statement (services/care/own_write.py) where the general path runs
    five before the data. Everyone else is checked here first, as ``WritablePatient`` does."""

    ctx: AppContext
    session: Session  # the request's write session (no SessionDep: one dependency fewer)
    token: str
    pid: str
    info: audit.RequestInfo
    patient: Patient | None  # checked already (the general path)
    owner: tuple[uuid.UUID, uuid.UUID, uuid.UUID] | None  # (user, auth session, patient)

    def begin(self) -> tuple[Patient, ChangeSeq | None]:
        """The patient, and the change position already reserved (None: the write takes it)."""
        self.session.info[_BEGUN] = True
        if self.patient is not None:
            return self.patient, None
        assert self.owner is not None
        user_id, auth_session_id, patient_id = self.owner
        mine = begin_own_write(
            self.session,
            user_id=user_id,
            auth_session_id=auth_session_id,
            patient_id=patient_id,
            info=self.info,
        )
        if mine is not None:
            return mine
        # The session ended or the record is gone since: the general path says which (401).
        return _check_write(self.ctx, self.session, self.token, self.pid, self.info), None


async def get_patient_write(
    pid: str, request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AsyncIterator[PatientWrite]:
    if not token:
        raise Unauthorized("Sign in first: send an access token as 'Authorization: Bearer …'.")
    ctx: AppContext = request.app.state.ctx
    try:
        claims = ctx.tokens.decode_access(token)
    except InvalidToken as exc:
        raise Unauthorized(INVALID_TOKEN) from exc
    info = request_info(request)
    session = ctx.db.session(write=True)
    owner = _known_owner(claims, pid)
    try:
        patient = None
        if owner is None:
            patient = await run_in_threadpool(_check_write, ctx, session, token, pid, info)
        yield PatientWrite(ctx, session, token, pid, info, patient, owner)
    except Exception:
        if audit.is_pending(session):
            await _in_own_thread(partial(audit.settle, ctx.db, session, failed=True))
        elif owner is not None and session.info.get(_BEGUN) is None:
            # Refused before ``begin`` (the body): recorded as the general path records it.
            await _in_own_thread(partial(_record_failed, ctx, token, pid, info))
        raise
    else:
        if audit.is_pending(session):
            await _in_own_thread(partial(audit.settle, ctx.db, session, failed=False))
    finally:
        # As get_session: a rollback is I/O; an ended transaction closes without any.
        if session.in_transaction():
            await _in_own_thread(session.close)
        else:
            session.close()


# As WritablePatient, for endpoints that call ``begin`` in their own hop (see PatientWrite).
PatientWriteDep = Annotated[PatientWrite, Depends(get_patient_write, scope="function")]
