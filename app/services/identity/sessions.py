"""Ending sign-ins: the one place that knows every kind of sign-in an account can have."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import AuthSession
from app.services.identity.web_sessions import end_web_sessions
from app.trends.days import utcnow


def end_all_sign_ins(
    session: Session, user_id: uuid.UUID, *, reason: str, keep: uuid.UUID | None = None
) -> None:
    """End every sign-in of the account, except the session ``keep`` (a password change keeps
    the caller's own). Called by the password change, the password reset and the erasure, so
    a new kind of sign-in is ended everywhere by adding it here.

    - Refresh-token families (``auth_sessions``): revoked, so their refresh tokens are refused
      and their access tokens, which name their family and are checked on every request, stop
      working on the next request.
    - Web sessions of the clinician web app (``web_sessions``): all of them end (``keep`` names
      a refresh-token family, never a browser), so the cookie is refused on its next request.

    Never commits: it belongs to the caller's transaction (the new password and the ended
    sessions become true together).
    """
    ended = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        ended = ended.where(AuthSession.id != keep)
    session.execute(ended.values(revoked_at=utcnow(), revoked_reason=reason[:32]))
    end_web_sessions(session, user_id, reason=reason)
