"""Web sessions of the clinician web app (/clinic/): one row per browser sign-in.

The browser holds only a random token in an HttpOnly cookie; the row holds its hash, so the
database alone cannot be used to sign in. A session ends when its ``ended_at`` is set (sign-out,
password change or reset, erasure: ``services/identity/sessions.end_all_sign_ins``), after
``web_idle_timeout_seconds`` without a request, or ``web_absolute_timeout_seconds`` after sign-in.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.trends.days import utcnow


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_reason: Mapped[str | None] = mapped_column(String(32), default=None)
