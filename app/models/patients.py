"""The patient record: profile, diagnosis and the per-patient change counter."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.trends.days import utcnow


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(
            "birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", name="birth_year"
        ),
        CheckConstraint("weight_kg IS NULL OR (weight_kg > 0 AND weight_kg <= 500)", name="weight"),
        CheckConstraint(
            "ichd3_type IN ('classical', 'secondary', 'idiopathic', 'unknown')", name="ichd3_type"
        ),
        CheckConstraint("side IS NULL OR side IN ('left', 'right', 'bilateral')", name="side"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    display_name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    birth_year: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    weight_kg: Mapped[float | None] = mapped_column(Numeric(5, 1, asdecimal=False), default=None)
    ichd3_type: Mapped[str] = mapped_column(String(16), default="unknown")
    side: Mapped[str | None] = mapped_column(String(16), default=None)
    branches: Mapped[list[str]] = mapped_column(JSON, default=list)
    concomitant_continuous_pain: Mapped[bool] = mapped_column(Boolean, default=False)
    diagnosed_on: Mapped[date | None] = mapped_column(Date, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Last change-feed position handed out for this patient; bumped under the row lock.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Length of this patient's audit chain; bumping it locks the chain head
    # (services/care/audit.py).
    audit_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # Highest change position whose tombstone was purged: a feed cursor below it may have missed
    # a deletion, so it gets 410 and the client resyncs in full.
    feed_horizon_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
