"""Rate-limit counters: shared by every worker and host because they live in the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.trends.days import utcnow


class RateLimit(Base):
    """One key's recent hits: a sliding log of at most ``limit`` epoch-second timestamps.

    Keys name what is limited and for whom, e.g. ``login:acct:<hash>``, ``login:ip:<ip>``,
    ``register:ip:<ip>``, ``export:patient:<id>``. Not patient data: no ``patient_id`` needed.
    """

    __tablename__ = "rate_limits"
    __table_args__ = (Index("ix_rate_limits_updated_at", "updated_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[list[float]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
