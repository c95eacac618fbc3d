"""Web sessions of the clinician web app (/clinic/): sign-in with a password, the session behind
the browser's cookie, its idle and absolute limits, its CSRF token, and sign-out.

The cookie carries 256 random bits; the ``web_sessions`` row holds their SHA-256 only. The row is
checked on every request, so sign-out, a password change or reset and the account's erasure
(``sessions.end_all_sign_ins``) end the session on the very next request, on every worker.
The CSRF token is an HMAC of the session's id under the server's key (the synchronizer-token
pattern without storing a second secret): it dies with the session and cannot be computed
without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.models import User, WebSession
from app.security.tokens import constant_time_equal, hash_opaque_token, new_opaque_token
from app.services.context import AppContext
from app.services.identity.actors import Actor
from app.services.identity.signin import check_password
from app.trends.days import utcnow

# last_seen_at is written at most this often (a write per page view would be wasted work), but
# always well inside the idle limit, so the limit is kept to within a tenth of itself.
MAX_TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class WebSignIn:
    """A successful sign-in: the cookie's value (None for a patient, who gets no web session)."""

    user_id: uuid.UUID
    role: str
    display_name: str
    token: str | None


@dataclass(frozen=True)
class WebCaller:
    """The signed-in person behind a request's cookie, and the CSRF token of their session."""

    actor: Actor
    email: str
    web_session_id: uuid.UUID
    csrf_token: str


def sign_in(
    session: Session, ctx: AppContext, *, email: str, password: str, client_ip: str
) -> WebSignIn:
    """Check the password under the same throttling as ``POST /auth/token`` (raises
    ``InvalidCredentials`` or ``TooManyRequests`` alike); staff get a web session, a patient
    none (their data lives in their app)."""
    user = check_password(session, ctx, email=email, password=password, client_ip=client_ip)
    if user.role == "patient":
        return WebSignIn(user.id, user.role, user.display_name, None)
    token = new_opaque_token()
    session.add(WebSession(user_id=user.id, token_hash=hash_opaque_token(token)))
    session.commit()
    return WebSignIn(user.id, user.role, user.display_name, token)


def csrf_token(ctx: AppContext, web_session_id: uuid.UUID) -> str:
    key = ctx.settings.signing_key().encode()
    message = b"paindiary-clinic-csrf:" + str(web_session_id).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def csrf_ok(caller: WebCaller, submitted: str | None) -> bool:
    return submitted is not None and constant_time_equal(caller.csrf_token, submitted)


def resolve(ctx: AppContext, token: str | None) -> WebCaller | None:
    """The caller of the cookie ``token``, or None when there is none or it has ended, gone
    idle or reached its absolute limit (then it is ended here). A short read; a short write
    only when the session ends here or its ``last_seen_at`` is due (see MAX_TOUCH_INTERVAL)."""
    if not token:
        return None
    with ctx.db.session() as reader:
        found = reader.execute(
            select(WebSession, User.email, User.display_name, User.role)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == hash_opaque_token(token))
        ).first()
    if found is None or found.WebSession.ended_at is not None:
        return None
    row: WebSession = found.WebSession
    now = utcnow()
    idle = timedelta(seconds=ctx.settings.web_idle_timeout_seconds)
    absolute = timedelta(seconds=ctx.settings.web_absolute_timeout_seconds)
    if now - row.last_seen_at > idle or now - row.created_at > absolute:
        with ctx.db.session(write=True) as writer:
            reason = "idle" if now - row.last_seen_at > idle else "expired"
            _end(writer, WebSession.id == row.id, reason)
            writer.commit()
        return None
    if now - row.last_seen_at >= min(MAX_TOUCH_INTERVAL, idle / 10):
        with ctx.db.session(write=True) as writer:
            touched = writer.execute(
                update(WebSession)
                .where(WebSession.id == row.id, WebSession.ended_at.is_(None))
                .values(last_seen_at=now)
            )
            writer.commit()
        if touched.rowcount != 1:  # type: ignore[attr-defined]
            return None  # ended (signed out elsewhere) since the read above
    actor = Actor(id=row.user_id, role=found.role, display_name=found.display_name)
    return WebCaller(actor, found.email, row.id, csrf_token(ctx, row.id))


def sign_out(session: Session, token: str | None) -> None:
    """End the session of the cookie ``token`` (nothing happens for an unknown one)."""
    if token:
        _end(session, WebSession.token_hash == hash_opaque_token(token), "signed_out")
        session.commit()


def end_web_sessions(session: Session, user_id: uuid.UUID, *, reason: str) -> None:
    """End every web session of the account; never commits (``end_all_sign_ins`` calls it)."""
    _end(session, WebSession.user_id == user_id, reason)


def _end(session: Session, which: ColumnElement[bool], reason: str) -> None:
    session.execute(
        update(WebSession)
        .where(which, WebSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason[:32])
    )
