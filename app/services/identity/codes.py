"""One-time codes mailed to an account's address: to confirm it, or to reset the password.

Six random digits (``secrets``), so they can be typed from a phone's notification. That is only
a million values, which is why a code also expires (15 minutes), dies after 5 wrong tries, is
replaced when a new one is sent, is deleted once used, and is stored as an HMAC under a key
derived from the server's secret: a copy of the database alone does not reveal live codes (a
plain hash of six digits would be reversed in a millisecond).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.models import AccountCode
from app.services.context import AppContext

Purpose = Literal["verify_email", "reset_password"]
DIGITS = 6
MAX_TRIES = 5


def _digest(ctx: AppContext, user_id: uuid.UUID, purpose: Purpose, code: str) -> str:
    key = hashlib.sha256(b"paindiary account codes\0" + ctx.settings.signing_key().encode())
    message = f"{purpose}\n{user_id}\n{code}".encode()
    return hmac.new(key.digest(), message, hashlib.sha256).hexdigest()


def issue(
    session: Session, ctx: AppContext, user_id: uuid.UUID, purpose: Purpose, now: datetime
) -> str:
    """A new code for ``purpose``, replacing the account's previous one (and its used-up
    tries). Returns the code itself, which only the mail ever carries. Never commits."""
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    values = {
        "code_hash": _digest(ctx, user_id, purpose, code),
        "attempts": 0,
        "created_at": now,
        "expires_at": now + timedelta(seconds=ctx.settings.code_ttl_seconds),
    }
    dialect = session.get_bind().dialect.name
    insert_: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    # One statement, so two requests racing for the same account cannot both insert.
    session.execute(
        insert_(AccountCode)
        .values(id=uuid.uuid4(), user_id=user_id, purpose=purpose, **values)
        .on_conflict_do_update(index_elements=["user_id", "purpose"], set_=values)
    )
    # Expired codes of anyone are dead weight; clear them while we are here.
    session.execute(delete(AccountCode).where(AccountCode.expires_at < now))
    return code


def consume(
    session: Session,
    ctx: AppContext,
    user_id: uuid.UUID | None,
    purpose: Purpose,
    code: str,
    now: datetime,
) -> bool:
    """One try of ``code``: True when it is the account's live code for ``purpose`` (which is
    then deleted: single use); a wrong try uses up one of its 5. Never commits: the caller
    commits the spent try whatever the outcome. ``user_id`` None (no such account) does the
    same work and fails."""
    if user_id is None:
        hmac.compare_digest(_digest(ctx, uuid.UUID(int=0), purpose, code), "0" * 64)
        return False
    # Locked: concurrent tries of one code are counted one after another, never past 5.
    row = session.scalars(
        select(AccountCode)
        .where(AccountCode.user_id == user_id, AccountCode.purpose == purpose)
        .with_for_update()
    ).first()
    presented = _digest(ctx, user_id, purpose, code)
    if row is None or row.expires_at <= now or row.attempts >= MAX_TRIES:
        return False
    if hmac.compare_digest(row.code_hash, presented):
        session.delete(row)
        return True
    row.attempts += 1
    return False
