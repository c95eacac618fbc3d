"""The audit trail: append to a patient's hash chain (checking it: ``audit_integrity``).

An entry says who did what to which patient's data and whether it was allowed; never the data,
never a token or password. Each patient has their own chain (``seq`` 1, 2, …), so appends for
different patients never wait on each other: the chain head is locked by bumping
``patients.audit_seq`` (a row lock on PostgreSQL; SQLite writers hold the database lock anyway).

Each entry's ``hash`` is HMAC-SHA-256, under the audit key from the settings, of the previous
entry's hash and the entry itself. The database never holds the key, so someone who can only
write the database cannot recompute a chain after changing it. The key reaches the append
through ``session.info`` (``Database(audit_key=…)``); without one, nothing is appended.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from app.db import AUDIT_KEY, Database
from app.models import AuditEntry, Patient
from app.services.identity.actors import Actor
from app.services.sync.sql import table_of
from app.trends.days import utcnow

log = logging.getLogger("paindiary.audit")

Action = Literal["read", "create", "update", "delete", "export", "erase"]
Outcome = Literal["success", "denied", "failed"]

PENDING = "paindiary.audit.pending"
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class RequestInfo:
    """What the request layer knows about a call: the route template, not the concrete URL."""

    action: Action
    resource: str
    resource_id: str | None = None
    request_id: str | None = None
    ip: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    patient_id: uuid.UUID
    actor_id: uuid.UUID
    actor_role: str
    actor_name: str
    client_id: uuid.UUID | None
    action: Action
    resource: str
    resource_id: str | None
    request_id: str | None
    ip: str | None
    outcome: Outcome


def event_for(
    actor: Actor, patient_id: uuid.UUID, info: RequestInfo, outcome: Outcome
) -> AuditEvent:
    return AuditEvent(
        patient_id=patient_id,
        actor_id=actor.id,
        actor_role=actor.role,
        actor_name=actor.display_name[:200],
        client_id=actor.id if actor.is_client else None,
        action=info.action,
        resource=info.resource[:200],
        resource_id=info.resource_id[:100] if info.resource_id else None,
        request_id=info.request_id[:64] if info.request_id else None,
        ip=info.ip[:64] if info.ip else None,
        outcome=outcome,
    )


def _canonical(fields: dict[str, Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, datetime):
            return value.isoformat()
        return value

    return json.dumps(
        {k: plain(v) for k, v in fields.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


HASHED_FIELDS = (
    "patient_id",
    "seq",
    "at",
    "actor_id",
    "actor_role",
    "actor_name",
    "client_id",
    "action",
    "resource",
    "resource_id",
    "request_id",
    "ip",
    "outcome",
)


def _payload(prev_hash: str, fields: Mapping[Any, Any]) -> bytes:
    return (prev_hash + _canonical({name: fields[name] for name in HASHED_FIELDS})).encode()


def chain_hash(key: bytes, prev_hash: str, fields: Mapping[Any, Any]) -> str:
    """An entry's hash: HMAC-SHA-256 under the audit key of the previous hash and the entry."""
    return hmac.digest(key, _payload(prev_hash, fields), "sha256").hex()


def legacy_hash(prev_hash: str, fields: Mapping[Any, Any]) -> str:
    """How entries were hashed before the audit key existed (plain SHA-256); verification
    accepts it only for the sealed start of a chain (``audit_integrity``)."""
    return hashlib.sha256(_payload(prev_hash, fields)).hexdigest()


def session_key(session: Session) -> bytes:
    key = session.info.get(AUDIT_KEY)
    if not isinstance(key, bytes) or not key:
        raise RuntimeError("no audit key: build the Database with audit_key=")
    return key


_patients = table_of(Patient)
_entries = table_of(AuditEntry)
# Built once, so their compiled forms are cached. Bumping ``audit_seq`` locks the chain head;
# the previous hash is read by a statement of its own, after the lock is held: on PostgreSQL a
# subquery of the UPDATE would read the snapshot taken before it waited for the lock, and miss
# the entry appended by the transaction it waited for.
_BUMP_CHAIN = (
    update(_patients)
    .where(_patients.c.id == bindparam("where_patient"))
    # Naming updated_at keeps its onupdate from firing: a look is not a change.
    .values(audit_seq=_patients.c.audit_seq + 1, updated_at=_patients.c.updated_at)
    .returning(_patients.c.audit_seq)
)
_PREV_HASH = select(_entries.c.hash).where(
    _entries.c.patient_id == bindparam("patient"), _entries.c.seq == bindparam("seq")
)
_INSERT_ENTRY = insert(_entries)


def append(session: Session, events: Iterable[AuditEvent]) -> int:
    """Append to each event's patient chain inside the caller's transaction (no commit).

    Patients are locked in id order, so two multi-patient appends cannot deadlock.
    A patient who no longer exists gets no entry. Returns the number of entries written.
    """
    key = session_key(session)
    written = 0
    for item in sorted(events, key=lambda e: e.patient_id):
        seq = session.execute(_BUMP_CHAIN, {"where_patient": item.patient_id}).scalar_one_or_none()
        if seq is None:
            continue
        prev_hash = GENESIS_HASH
        if seq > 1:
            prev_hash = session.execute(
                _PREV_HASH, {"patient": item.patient_id, "seq": seq - 1}
            ).scalar_one()
        fields: dict[str, Any] = {**vars(item), "seq": seq, "at": utcnow()}
        fields.update(prev_hash=prev_hash, hash=chain_hash(key, prev_hash, fields))
        session.execute(_INSERT_ENTRY, fields)
        written += 1
    return written


def record(db: Database, events: Sequence[AuditEvent]) -> None:
    """Append in a short transaction of its own (reads, and writes that never committed)."""
    if not events:
        return
    with db.session(write=True) as session:
        append(session, events)
        session.commit()


def stage(session: Session, item: AuditEvent) -> None:
    """Attach the entry to the caller's write transaction: it commits with the data, or
    ``settle`` records the attempt."""
    session.info[PENDING] = item


def note(session: Session, what: str) -> None:
    """Say more about the staged entry's write (e.g. a confirmed high dose): the access log
    shows its resource as ``/patients/{pid}/… (what)``. Nothing staged: nothing to say."""
    item: AuditEvent | None = session.info.get(PENDING)
    if item is not None and not item.resource.endswith(f" ({what})"):
        session.info[PENDING] = replace(item, resource=f"{item.resource} ({what})"[:200])


def is_pending(session: Session) -> bool:
    """Whether a staged entry awaits its commit (or ``settle``)."""
    return PENDING in session.info


def settle(db: Database, session: Session, *, failed: bool) -> None:
    """After a write request: if nothing committed the staged entry, record the attempt anyway."""
    item: AuditEvent | None = session.info.pop(PENDING, None)
    if item is None:
        return
    # End the request's transaction first: on SQLite it holds the one write lock.
    session.rollback()
    item = replace(item, outcome="failed") if failed else item
    try:
        record(db, [item])
    except Exception:
        if not failed:
            raise
        # The request already failed; don't hide its error behind the audit's.
        log.exception("could not record the audit entry of a failed request")


# Registered when this module is imported, which stage() guarantees before anything is staged.
@event.listens_for(Session, "before_commit")
def _append_staged(session: Session) -> None:
    item: AuditEvent | None = session.info.get(PENDING)
    if item is not None:
        session.flush()
        append(session, [item])


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    # Only now: if the commit failed, the entry stays staged and settle() records the attempt.
    session.info.pop(PENDING, None)
