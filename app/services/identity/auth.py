"""Sign-in: the OAuth2 token endpoint's grants, revocation, and resolving a bearer token."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.errors import InvalidCredentials, OAuthError, Unauthorized
from app.models import AuthSession, Patient, RefreshToken, RevokedToken, User
from app.schemas.auth import TokenOut
from app.security.tokens import InvalidToken, hash_opaque_token, new_opaque_token
from app.services.context import AppContext
from app.services.identity.actors import Actor
from app.services.identity.signin import check_password
from app.trends.days import utcnow


def password_grant(
    session: Session, ctx: AppContext, username: str, password: str, client_ip: str
) -> TokenOut:
    try:
        user = check_password(session, ctx, email=username, password=password, client_ip=client_ip)
    except InvalidCredentials as exc:
        # RFC 6749 §5.2: wrong credentials are an invalid grant (400), identical for an
        # unknown e-mail and a wrong password.
        raise OAuthError("invalid_grant", exc.detail) from exc
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
    """RFC 7009: a refresh token or a person's access token ends the sign-in it belongs to; a
    partner's access token (no sign-in behind it) is refused by its ``jti`` until it expires.
    Unknown, expired and foreign tokens are fine: nothing happens."""
    session_id: uuid.UUID | None = None
    row = session.scalar(
        select(RefreshToken.session_id).where(RefreshToken.token_hash == hash_opaque_token(token))
    )
    if row is not None:
        session_id = row
    else:
        try:
            claims = ctx.tokens.decode_access(token)
            session_id = uuid.UUID(claims.session_id) if claims.session_id else None
        except (InvalidToken, ValueError):
            return
        if session_id is None:
            _revoke_jti(session, claims.jti, claims.expires_at)
            session.commit()
            return
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="revoked")
    )
    session.commit()


def _revoke_jti(session: Session, jti: str, expires_at: datetime) -> None:
    now = utcnow()
    # Entries of tokens that have expired anyway are dead weight: purged on the way.
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at <= now))
    dialect = session.get_bind().dialect.name
    insert_: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    # Revoking twice (or twice at once) is fine: the first entry stands.
    session.execute(
        insert_(RevokedToken).values(jti=jti, expires_at=expires_at).on_conflict_do_nothing()
    )


INVALID_TOKEN = "The access token is missing, invalid or expired."

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
        raise Unauthorized(INVALID_TOKEN) from exc
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

    return resolve_client_actor(session, subject, claims.scopes, claims.jti), None


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
