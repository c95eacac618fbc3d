"""The patient writing their own diary, checked and positioned in one statement.

Most writes come from the patient's own app. For them, the sign-in check (the session still
stands), the access check (the patient record is the caller's), the change-feed position and the
audit-chain position are one ``UPDATE patients … RETURNING`` in the write transaction, which
also takes the patient's row lock (``records.ChangeSeq``, ``audit``). It returns the previous
audit hash too, when its snapshot can see it.

When the statement matches no row - another caller's patient, an ended session, an erased
patient - nothing was changed and the caller takes the general path (``deps.get_actor`` and
``access.authorise_write``), which tells these cases apart and audits a refusal. So every
answer is the same as the general path's; only the patient's own writes get cheaper.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import Label

from app.models import AuditEntry, AuthSession, Patient, User
from app.services.care import audit
from app.services.identity.actors import Actor
from app.services.sync.records import ChangeSeq
from app.services.sync.sql import table_of

_patients = table_of(Patient)
_users = table_of(User)
_sessions = table_of(AuthSession)
_entries = table_of(AuditEntry)


def _user_column(name: str) -> Label[Any]:
    return (
        select(_users.c[name])
        .where(_users.c.id == _patients.c.user_id)
        .scalar_subquery()
        .label(f"actor_{name}")
    )


# Built once, so its compiled form is cached. In RETURNING, audit_seq is the new value.
_OWN_WRITE = (
    update(_patients)
    .where(
        _patients.c.id == bindparam("patient"),
        _patients.c.user_id == bindparam("user"),
        exists().where(
            _sessions.c.id == bindparam("auth_session"),
            _sessions.c.user_id == _patients.c.user_id,
            _sessions.c.revoked_at.is_(None),
        ),
    )
    # Naming updated_at keeps its onupdate from firing: positions are not a profile change.
    .values(
        change_seq=_patients.c.change_seq + 1,
        audit_seq=_patients.c.audit_seq + 1,
        updated_at=_patients.c.updated_at,
    )
    .returning(
        *_patients.c,
        _user_column("display_name"),
        _user_column("role"),
        select(_entries.c.hash)
        .where(
            _entries.c.patient_id == _patients.c.id,
            _entries.c.seq == _patients.c.audit_seq - 1,
        )
        .scalar_subquery()
        .label("prev_hash"),
    )
)


def begin_own_write(
    session: Session,
    *,
    user_id: uuid.UUID,
    auth_session_id: uuid.UUID,
    patient_id: uuid.UUID,
    info: audit.RequestInfo,
) -> tuple[Patient, ChangeSeq] | None:
    """The patient (a detached copy) and one reserved change position, with the audit entry
    staged at its reserved chain position; None when this is not the caller's own patient with
    a standing session (then nothing was changed and the transaction is rolled back)."""
    params = {"patient": patient_id, "user": user_id, "auth_session": auth_session_id}
    row = session.execute(_OWN_WRITE, params).mappings().first()
    if row is None:
        session.rollback()
        return None
    actor = Actor(
        id=user_id,
        role=row["actor_role"],
        display_name=row["actor_display_name"],
        patient_id=patient_id,
        session_id=auth_session_id,
    )
    audit_seq: int = row["audit_seq"]
    prev_hash: str | None = row["prev_hash"]
    if prev_hash is None and audit_seq == 1:
        prev_hash = audit.GENESIS_HASH
    audit.stage(
        session,
        audit.event_for(actor, patient_id, info, "success"),
        reserved=(audit_seq, prev_hash),
    )
    patient = Patient(**{column.key: row[column.key] for column in _patients.c})
    return patient, ChangeSeq.reserved(int(row["change_seq"]))
