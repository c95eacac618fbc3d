"""Who may see or change which patient. Every patient-scoped request goes through here.

The owner patient has full access. Anyone else needs the patient's grant, checked on every
request (never baked into a token): not revoked, not expired, at least the access the route
needs; a partner client also needs the route's scope in its token. Someone without any active
grant gets the same 404 as for a patient that doesn't exist; a grantee who may read but not do
this gets 403. Each decision is audited on the patient's chain (services/audit.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.db import Database, utcnow
from app.errors import AppError, Forbidden, InsufficientScope, NotFound
from app.models import Grant, Patient
from app.services import audit
from app.services.actors import Actor

AccessMode = Literal["read", "write"]
Scope = Literal["diary:read", "diary:write", "reports:read"]

PATIENT_NOT_FOUND = "No such patient."
DEFAULT_SCOPE: dict[AccessMode, Scope] = {"read": "diary:read", "write": "diary:write"}


@dataclass(frozen=True)
class AccessPolicy:
    """What a route needs: the access level, the partner scope, or the patient themself."""

    mode: AccessMode
    scope: Scope
    owner_only: bool = False

    @classmethod
    def of(
        cls, mode: AccessMode, scope: Scope | None = None, *, owner_only: bool = False
    ) -> AccessPolicy:
        return cls(mode, scope or DEFAULT_SCOPE[mode], owner_only)


def parse_patient_ref(actor: Actor, pid: str) -> uuid.UUID:
    """``me`` stands for the caller's own patient record; anything else must be a UUID."""
    if pid == "me":
        if actor.patient_id is None:
            raise NotFound(PATIENT_NOT_FOUND)
        return actor.patient_id
    try:
        return uuid.UUID(pid)
    except ValueError as exc:
        raise NotFound(PATIENT_NOT_FOUND) from exc


def grantee_is(actor: Actor) -> ColumnElement[bool]:
    return Grant.client_id == actor.id if actor.is_client else Grant.grantee_user_id == actor.id


def active_grant() -> ColumnElement[bool]:
    """Evaluated at request time: revocation and expiry bite on the very next request."""
    return and_(
        Grant.revoked_at.is_(None), or_(Grant.expires_at.is_(None), Grant.expires_at > utcnow())
    )


def decide(
    session: Session, actor: Actor, pid: str, policy: AccessPolicy
) -> tuple[Patient | None, AppError | None]:
    """The patient (when it exists) and the reason to refuse, or None to allow. One query."""
    try:
        patient_id = parse_patient_ref(actor, pid)
    except NotFound as exc:
        return None, exc
    if actor.patient_id == patient_id:
        owned = session.get(Patient, patient_id)
        return owned, None if owned is not None else NotFound(PATIENT_NOT_FOUND)
    rows = session.execute(
        select(Patient, Grant.access)
        .outerjoin(Grant, and_(Grant.patient_id == Patient.id, grantee_is(actor), active_grant()))
        .where(Patient.id == patient_id)
    ).all()
    if not rows:
        return None, NotFound(PATIENT_NOT_FOUND)
    patient = rows[0][0]
    granted = {access for _, access in rows if access is not None}
    if not granted:
        return patient, NotFound(PATIENT_NOT_FOUND)
    if policy.owner_only:
        return patient, Forbidden("Only the patient may do this.")
    if policy.mode == "write" and "write" not in granted:
        return patient, Forbidden("Your access to this patient is read-only.")
    if actor.is_client and policy.scope not in actor.scopes:
        return patient, InsufficientScope(policy.scope)
    return patient, None


def _authorise(
    session: Session, actor: Actor, pid: str, policy: AccessPolicy, info: audit.RequestInfo
) -> Patient:
    patient, error = decide(session, actor, pid, policy)
    if error is not None:
        if patient is not None:  # a refused look at an existing patient is on their record
            audit.append(session, [audit.event_for(actor, patient.id, info, "denied")])
            session.commit()
        raise error
    assert patient is not None
    return patient


def authorise_read(
    db: Database,
    reader: Session,
    actor: Actor,
    pid: str,
    policy: AccessPolicy,
    info: audit.RequestInfo,
) -> Patient:
    """Decide and audit in one short write transaction of its own, before any data is read;
    the request's ``reader`` session reads the data afterwards.

    The reader's transaction (begun by the token lookup) ends first: it releases its pooled
    connection, so no request ever holds one connection while waiting for another (which could
    starve the pool), and the data is read in a snapshot that includes this very entry.
    """
    reader.commit()  # nothing to write; with expire_on_commit=False nothing is reloaded
    with db.session(write=True) as session:
        patient = _authorise(session, actor, pid, policy, info)
        audit.append(session, [audit.event_for(actor, patient.id, info, "success")])
        session.commit()
    return reader.merge(patient, load=False)


def authorise_write(
    session: Session, actor: Actor, pid: str, policy: AccessPolicy, info: audit.RequestInfo
) -> Patient:
    """Decide in the request's write transaction; the entry commits with the change."""
    patient = _authorise(session, actor, pid, policy, info)
    audit.stage(session, audit.event_for(actor, patient.id, info, "success"))
    return patient


def resolve_patient(session: Session, actor: Actor, pid: str, mode: AccessMode) -> Patient:
    """The patient the caller may access in ``mode``, or the refusal (not audited: for services
    that check a second patient reference; requests go through ``authorise_*``)."""
    patient, error = decide(session, actor, pid, AccessPolicy.of(mode))
    if error is not None:
        raise error
    assert patient is not None
    return patient


def visible_patients(
    session: Session, actor: Actor, *, limit: int, after: uuid.UUID | None = None
) -> list[Patient]:
    """The patients the caller may see, in id order (keyset pagination), ``limit`` + 1 at most."""
    query = select(Patient)
    if actor.patient_id is not None:
        query = query.where(Patient.id == actor.patient_id)
    else:
        granted = select(Grant.patient_id).where(grantee_is(actor), active_grant())
        query = query.where(Patient.id.in_(granted))
    if after is not None:
        query = query.where(Patient.id > after)
    return list(session.scalars(query.order_by(Patient.id).limit(limit + 1)))
