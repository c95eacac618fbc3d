"""Sign-in: the OAuth2 token endpoint's grants, revocation, and resolving a bearer token."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.errors import OAuthError, Unauthorized
from app.models import AuthSession, Patient, RefreshToken, User
from app.schemas.auth import TokenOut
from app.security.rate_limit import login_account_key, login_ip_key, rate_limit, release, reset
from app.security.tokens import InvalidToken, hash_opaque_token, new_opaque_token
from app.services.context import AppContext
from app.services.identity.actors import Actor
from app.trends.days import utcnow

INVALID_LOGIN = "The e-mail address or password is wrong."


def password_grant(
    session: Session, ctx: AppContext, username: str, password: str, client_ip: str
) -> TokenOut:
    email = username.strip().lower()
    settings = ctx.settings
    window = settings.login_failure_window_seconds
    # Counted before the password is checked and committed at once: a correct password cannot
    # bypass the limit, and a failure stays counted although this request ends in an error.
    # IP first, then account: if the account refuses, the IP is not charged for the attempt.
    ip_hit = rate_limit(
        session, login_ip_key(client_ip), limit=settings.login_max_failures_per_ip, window=window
    )
    rate_limit(
        session,
        login_account_key(email),
        limit=settings.login_max_failures_per_account,
        window=window,
    )
    user = session.scalar(select(User).where(User.email == email))
    session.commit()  # and no transaction (on SQLite: no write lock) during the slow hash

    # Same work and same answer for an unknown e-mail and a wrong password.
    ok = ctx.passwords.verify(password, user.password_hash if user else None)
    if user is None or not ok:
        raise OAuthError("invalid_grant", INVALID_LOGIN, status=401)
    # Success: the account starts afresh; the IP only gets this attempt back, since a sign-in
    # that works must not wipe failures other accounts' guessers left from the same address.
    reset(session, login_account_key(email))
    release(session, ip_hit)
    auth_session = AuthSession(user_id=user.id)
    session.add(auth_session)
    session.flush()
    refresh = _new_refresh_token(session, ctx, auth_session.id)
    token = _access_for(ctx, user, auth_session.id)
    session.commit()
    return TokenOut(access_token=token, expires_in=_ttl(ctx), refresh_token=refresh, scope="")


def refresh_grant(session: Session, ctx: AppContext, refresh_token: str) -> TokenOut:
    now = utcnow()
    row = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_opaque_token(refresh_token))
    )
    if row is None:
        raise OAuthError("invalid_grant", "The refresh token is not valid.")
    family = session.get(AuthSession, row.session_id)
    if family is None or family.revoked_at is not None or row.expires_at <= now:
        raise OAuthError("invalid_grant", "The refresh token has expired or was revoked.")
    # Spend it atomically: of two concurrent uses, exactly one wins.
    spent = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        # A spent token came back: it was stolen or replayed. End the whole family.
        family.revoked_at = now
        family.revoked_reason = "refresh_reuse"
        session.commit()
        raise OAuthError("invalid_grant", "The refresh token was already used; the session ended.")
    user = session.get(User, family.user_id)
    if user is None:  # pragma: no cover - cascades remove the family with the user
        raise OAuthError("invalid_grant", "The account no longer exists.")
    new_refresh = _new_refresh_token(session, ctx, family.id)
    token = _access_for(ctx, user, family.id)
    session.commit()
    return TokenOut(access_token=token, expires_in=_ttl(ctx), refresh_token=new_refresh, scope="")


def revoke(session: Session, ctx: AppContext, token: str) -> None:
    """RFC 7009: end the session a refresh or access token belongs to; unknown tokens are fine."""
    session_id: uuid.UUID | None = None
    row = session.scalar(
        select(RefreshToken.session_id).where(RefreshToken.token_hash == hash_opaque_token(token))
    )
    if row is not None:
        session_id = row
    else:
        try:
            claims = ctx.tokens.decode_access(token)
            if claims.session_id:
                session_id = uuid.UUID(claims.session_id)
        except (InvalidToken, ValueError):
            return
    if session_id is not None:
        session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason="revoked")
        )
        session.commit()


# Prebuilt (its compiled form is cached): who the token's user is, whether the sign-in still
# stands, and their own patient record, which the patient app's requests then need not read again.
_USER_ACTOR = (
    select(User.display_name, User.role, AuthSession.revoked_at, Patient)
    .join(AuthSession, AuthSession.user_id == User.id)
    .outerjoin(Patient, Patient.user_id == User.id)
    .where(User.id == bindparam("user_id"), AuthSession.id == bindparam("session_id"))
)


def resolve_actor(session: Session, ctx: AppContext, token: str) -> tuple[Actor, Patient | None]:
    """The caller of a bearer token, and their own patient record (patients only)."""
    try:
        claims = ctx.tokens.decode_access(token)
        subject = uuid.UUID(claims.subject)
        session_id = uuid.UUID(claims.session_id) if claims.session_id else None
    except (InvalidToken, ValueError) as exc:
        raise Unauthorized("The access token is missing, invalid or expired.") from exc
    if claims.subject_kind == "user" and session_id is not None:
        # One round trip: the user, their patient record and whether the session still stands.
        found = session.execute(_USER_ACTOR, {"user_id": subject, "session_id": session_id}).first()
        if found is None or found.revoked_at is not None:
            raise Unauthorized("The session has ended; sign in again.")
        patient: Patient | None = found.Patient
        actor = Actor(
            id=subject,
            role=found.role,
            display_name=found.display_name,
            patient_id=patient.id if patient is not None else None,
            session_id=session_id,
        )
        return actor, patient
    from app.services.care.clients import resolve_client_actor

    return resolve_client_actor(session, subject, claims.scopes), None


def _new_refresh_token(session: Session, ctx: AppContext, session_id: uuid.UUID) -> str:
    token = new_opaque_token()
    session.add(
        RefreshToken(
            session_id=session_id,
            token_hash=hash_opaque_token(token),
            expires_at=utcnow() + timedelta(days=ctx.settings.refresh_token_days),
        )
    )
    return token


def _access_for(ctx: AppContext, user: User, session_id: uuid.UUID) -> str:
    return ctx.tokens.issue_access(
        subject=str(user.id), subject_kind="user", now=utcnow(), session_id=str(session_id)
    )


def _ttl(ctx: AppContext) -> int:
    return int(ctx.tokens.access_ttl.total_seconds())
