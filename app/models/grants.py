"""Who a patient let in: access grants to clinicians and partner clients."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.trends.days import utcnow

_ACTIVE = text("revoked_at IS NULL")


class Grant(Base):
    """A patient's permission for one clinician or one partner client.

    Revoked grants stay as history. At most one unrevoked grant per (patient, grantee): a new
    grant to the same grantee revokes the previous one (see services/care/grants.py).
    """

    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint("access IN ('read', 'write')", name="access"),
        CheckConstraint("(grantee_user_id IS NULL) <> (client_id IS NULL)", name="one_grantee"),
        CheckConstraint("expires_at IS NULL OR expires_at > created_at", name="expiry"),
        Index(
            "uq_grants_active_user",
            "patient_id",
            "grantee_user_id",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        Index(
            "uq_grants_active_client",
            "patient_id",
            "client_id",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        # "Which patients may this clinician / client see": GET /patients.
        Index("ix_grants_grantee_user_id_patient_id", "grantee_user_id", "patient_id"),
        Index("ix_grants_client_id_patient_id", "client_id", "patient_id"),
        Index("ix_grants_patient_id_created_at", "patient_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE")
    )
    grantee_user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("partner_clients.id", ondelete="CASCADE"), default=None
    )
    access: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
