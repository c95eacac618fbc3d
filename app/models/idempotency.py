"""Idempotency keys: the first response to a keyed POST, replayed when the client retries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, SmallInteger, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.trends.days import utcnow

KEY_MAX = 255


class IdempotencyKey(Base):
    """Scoped to the patient and the caller: one caller's key never replays another's response.

    The primary key doubles as the unique constraint that settles a race between two
    concurrent requests with the same key (the patient lock normally serialises them first).
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        CheckConstraint("status_code BETWEEN 200 AND 299", name="status_code"),
        # The purge finds expired keys by age.
        Index("ix_idempotency_keys_created_at", "created_at"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_MAX), primary_key=True)
    # sha256 of method, route and the canonical (validated) body.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
