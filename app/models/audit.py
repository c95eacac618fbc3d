"""The audit trail: one append-only, hash-chained log per patient."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

# "erase": the pseudonymous last entry of a patient who deleted their account (DELETE /me).
ACTIONS = ("read", "create", "update", "delete", "export", "erase")
OUTCOMES = ("success", "denied", "failed")
GENESIS_HASH = "0" * 64


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class AuditEntry(Base):
    """Who touched which patient's data, how, and whether it was allowed. Never the data itself.

    The chain is per patient (``seq`` 1, 2, …; ``hash`` = HMAC-SHA-256 under the audit key of
    prev_hash + canonical entry; entries written before the key existed used plain SHA-256 and
    are vouched for by an ``AuditSeal``), so appends for different patients never wait on each
    other. No foreign keys: the trail outlives the accounts and clients it names.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(_in("action", ACTIONS), name="action"),
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint("seq >= 1", name="seq"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(16))
    resource: Mapped[str] = mapped_column(String(200))
    resource_id: Mapped[str | None] = mapped_column(String(100))
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditSeal(Base):
    """A keyed seal over the head of a chain written before the audit key existed.

    Those entries carry plain SHA-256 hashes that anyone with write access could recompute. The
    seal (written by ``paindiary audit seal``, which ``paindiary migrate`` runs) names the chain's
    head at the switch - ``seq`` and ``hash`` - and ``mac`` = HMAC-SHA-256 of both under the audit
    key: the unkeyed prefix up to it can then no longer change unnoticed, and unkeyed entries
    beyond it are not accepted. Append-only like the log itself.
    """

    __tablename__ = "audit_seals"
    __table_args__ = (CheckConstraint("seq >= 1", name="seq"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mac: Mapped[str] = mapped_column(String(64))
