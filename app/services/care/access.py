"""Who may see or change which patient. Every patient-scoped request goes through here.

The owner patient has full access. Anyone else needs the patient's grant, checked on every
request (never baked into a token): not revoked, not expired, at least the access the route
needs; a partner client also needs the route's scope in its token. Someone without any active
grant gets the same 404 as for a patient that doesn't exist; a grantee who may read but not do
this gets 403. Each decision is audited on the patient's chain (services/care/audit.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from app.db import Database, UTCDateTime
from app.errors import AppError, Forbidden, InsufficientScope, NotFound
from app.models import Grant, Patient
from app.services.care import audit
from app.services.identity.actors import Actor
from app.services.sync import listing
from app.trends.days import utcnow

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


def require_scope(actor: Actor, scope: Scope) -> None:
    """A partner token must carry ``scope`` (403 insufficient_scope); people need no scopes."""
    if actor.is_client and scope not in actor.scopes:
        raise InsufficientScope(scope)


def grantee_is(actor: Actor) -> ColumnElement[bool]:
    return Grant.client_id == actor.id if actor.is_client else Grant.grantee_user_id == actor.id


def active_grant() -> ColumnElement[bool]:
    """Evaluated at request time: revocation and expiry bite on the very next request."""
    return and_(
        Grant.revoked_at.is_(None), or_(Grant.expires_at.is_(None), Grant.expires_at > utcnow())
    )


# The per-request queries, prebuilt so that their compiled form is cached; ``now`` is bound at
# each request, so revocation and expiry still bite on the very next request.
_OWN = select(Patient).where(Patient.id == bindparam("patient"))


def _granted_query(grantee: InstrumentedAttribute[uuid.UUID | None]) -> Select[Patient, str]:
    now = bindparam("now", type_=UTCDateTime())
    active = and_(
        Grant.patient_id == Patient.id,
        grantee == bindparam("grantee"),
        Grant.revoked_at.is_(None),
        or_(Grant.expires_at.is_(None), Grant.expires_at > now),
    )
    return (
        select(Patient, Grant.access)
        .outerjoin(Grant, active)
        .where(Patient.id == bindparam("patient"))
    )


_GRANTED_TO_USER = _granted_query(Grant.grantee_user_id)
_GRANTED_TO_CLIENT = _granted_query(Grant.client_id)


def owned(actor: Actor, pid: str, own: Patient | None) -> Patient | None:
    """The caller's own patient record, read with the sign-in check
    (services/identity/auth.py), when ``pid`` names it: the patient themself needs no further
    read to be let in."""
    if own is None or actor.patient_id != own.id:
        return None
    if pid == "me":
        return own
    try:
        return own if uuid.UUID(pid) == own.id else None
    except ValueError:
        return None


def decide(
    session: Session, actor: Actor, pid: str, policy: AccessPolicy
) -> tuple[Patient | None, AppError | None]:
    """The patient (when it exists) and the reason to refuse, or None to allow. One query."""
    try:
        patient_id = parse_patient_ref(actor, pid)
    except NotFound as exc:
        return None, exc
    if actor.patient_id == patient_id:
        owned = session.execute(_OWN, {"patient": patient_id}).scalar_one_or_none()
        return owned, None if owned is not None else NotFound(PATIENT_NOT_FOUND)
    query = _GRANTED_TO_CLIENT if actor.is_client else _GRANTED_TO_USER
    params = {"patient": patient_id, "grantee": actor.id, "now": utcnow()}
    rows = session.execute(query, params).all()
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


def authorise_read(
    db: Database,
    reader: Session,
    actor: Actor,
    pid: str,
    policy: AccessPolicy,
    info: audit.RequestInfo,
    own: Patient | None = None,
) -> Patient:
    """Decide and audit in one short write transaction of its own, before any data is read;
    the request's ``reader`` session reads the data afterwards, in a snapshot that includes
    this very entry. One pooled connection at a time, released before the next step.
    ``own`` is the caller's own record when ``pid`` names it (see ``owned``).
    """
    with db.session(write=True) as session:
        patient, error = (own, None) if own is not None else decide(session, actor, pid, policy)
        if error is not None:
            if patient is not None:
                audit.append(session, [audit.event_for(actor, patient.id, info, "denied")])
                session.commit()
            raise error
        assert patient is not None
        audit.append(session, [audit.event_for(actor, patient.id, info, "success")])
        session.commit()
    return reader.merge(patient, load=False)


def authorise_write(
    db: Database,
    writer: Session,
    actor: Actor,
    pid: str,
    policy: AccessPolicy,
    info: audit.RequestInfo,
    own: Patient | None = None,
) -> Patient:
    """Decide in a short read of its own (none for the patient themself: ``own``); the entry is
    staged on the ``writer`` session and commits with the change (or ``audit.settle`` records
    the attempt).

    The write transaction begins only in the endpoint, so the lock is held within one thread
    hop. A grant revoked between this check and the commit is the same race PostgreSQL's READ
    COMMITTED had inside one transaction (the grant row is not locked): the request was
    allowed when it was checked; the next one is refused.
    """
    patient: Patient | None = own
    error: AppError | None = None
    if own is None:
        with db.session() as reader:
            patient, error = decide(reader, actor, pid, policy)
    if error is not None:
        if patient is not None:  # a refused look at an existing patient is on their record
            audit.record(db, [audit.event_for(actor, patient.id, info, "denied")])
        raise error
    assert patient is not None
    audit.stage(writer, audit.event_for(actor, patient.id, info, "success"))
    return writer.merge(patient, load=False)


# The patients a caller may see, in id order: the listing is a set, not a history.
PATIENTS = listing.Keyset("patients", (Patient.id,), newest_first=False)


def visible_patients(actor: Actor) -> Select[Patient, uuid.UUID]:
    """The patients the caller may see: their own record, or those with an active grant to
    them. Rows carry the ``Patient`` and its ``id`` (the key of ``PATIENTS``)."""
    query = select(Patient, Patient.id)
    if actor.patient_id is not None:
        return query.where(Patient.id == actor.patient_id)
    granted = select(Grant.patient_id).where(grantee_is(actor), active_grant())
    return query.where(Patient.id.in_(granted))
