"""DELETE /me: erase the caller's account for good.

For a patient: the user, the patient record and every row that carries the patient's id (diary,
treatments, grants given, idempotency keys), and the account's sign-in sessions, refresh
tokens and mailed codes - in one transaction, so it happens completely or not at all. Old
tokens stop working on the next request (they name a user and a session that no longer exist).

What stays, by design: the patient's audit trail (``audit_log`` rows keyed by the now
meaningless patient id). It records who accessed the record and when - a trail most
jurisdictions require to outlive the record - and holds no health data. Its entries are
hash-chained and append-only, so they cannot be rewritten; entries the patient caused
themselves still carry their former user id and display name as the actor. The chain ends with
a pseudonymous ``erase`` entry (a random actor id, no name). Other people's clinical records
keep the ids of the clinicians who wrote them (e.g. ``treatment_sessions.recorded_by``).

For clinicians and admins: the user, their sessions, the grants patients gave them and the
idempotency keys they left in patients' diaries. Partner clients have no account to erase (403).

On SQLite, deleted content is zeroed (``secure_delete``) and the write-ahead log is checkpointed
and truncated straight after the erasure, so the erased text is in neither file.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db import Base
from app.errors import InvalidCredentials, Unauthorized
from app.models import (
    AccountCode,
    AuditEntry,
    AuthSession,
    Grant,
    IdempotencyKey,
    Patient,
    RefreshToken,
    User,
)
from app.security.rate_limit import login_account_key, mail_account_key, reset
from app.services.care import audit
from app.services.context import AppContext
from app.services.identity.actors import Actor, require_person
from app.services.identity.sessions import end_all_sign_ins
from app.services.identity.signin import check_password

WRONG_PASSWORD = "The password is wrong; nothing was deleted."
ERASED_NAME = "Erased account"
# Bulk deletes: nothing of these rows is loaded in the session that would need updating.
_PLAIN = {"synchronize_session": False}


def erase_me(
    session: Session, ctx: AppContext, actor: Actor, password: str, client_ip: str
) -> None:
    require_person(actor, "account to erase; ask an admin to disable it")
    email = session.scalar(select(User.email).where(User.id == actor.id))
    if email is None:  # pragma: no cover - the actor was resolved from this row a moment ago
        raise Unauthorized(WRONG_PASSWORD)
    # The password check is a password oracle too: it is throttled like a sign-in.
    try:
        check_password(
            session, ctx, email=email, password=password, client_ip=client_ip, sign_in=False
        )
    except InvalidCredentials as exc:
        raise Unauthorized(WRONG_PASSWORD) from exc
    # Not even a hashed trace of the e-mail stays in the counters.
    reset(session, login_account_key(email))
    reset(session, mail_account_key(email))
    end_all_sign_ins(session, actor.id, reason="erased")
    if actor.patient_id is not None:
        _erase_patient(session, actor.patient_id)
    _erase_account(session, actor.id)
    session.commit()
    # SQLite keeps the deleted rows' old pages in its write-ahead log until a checkpoint.
    ctx.db.checkpoint_wal()


def _erase_patient(session: Session, patient_id: uuid.UUID) -> None:
    # The last link of the patient's chain, written while the patient row still exists (the
    # append locks it, so no other write of this diary can slip in before the deletion).
    audit.append(
        session,
        [
            audit.AuditEvent(
                patient_id=patient_id,
                actor_id=uuid.uuid4(),
                actor_role="patient",
                actor_name=ERASED_NAME,
                client_id=None,
                action="erase",
                resource="/me",
                resource_id=None,
                request_id=None,
                ip=None,
                outcome="success",
            )
        ],
    )
    # Every table with a patient_id, dependants first; a table added later is covered too.
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in (AuditEntry.__tablename__, Patient.__tablename__):
            continue
        if "patient_id" in table.c:
            session.execute(delete(table).where(table.c.patient_id == patient_id))
    session.execute(delete(Patient).where(Patient.id == patient_id), execution_options=_PLAIN)


def _erase_account(session: Session, user_id: uuid.UUID) -> None:
    sign_ins = select(AuthSession.id).where(AuthSession.user_id == user_id)
    for statement in (
        delete(RefreshToken).where(RefreshToken.session_id.in_(sign_ins)),
        delete(AuthSession).where(AuthSession.user_id == user_id),
        delete(AccountCode).where(AccountCode.user_id == user_id),
        delete(Grant).where(Grant.grantee_user_id == user_id),
        delete(IdempotencyKey).where(IdempotencyKey.actor_id == user_id),
        delete(User).where(User.id == user_id),
    ):
        session.execute(statement, execution_options=_PLAIN)
