"""audit seals: the keyed seal over chains written before the audit key

Revision ID: 0015b01
Revises: 0010c
Create Date: 2026-12-06 10:03:00

Entries written before this revision carry plain SHA-256 hashes; a migration cannot re-key them
(it has no key, and re-hashing would rewrite an append-only trail). They stay as they are:
``paindiary audit seal`` (run by ``paindiary migrate``) records each such chain's head here,
with an HMAC under the audit key, and verification accepts unkeyed entries only up to a seal.
No rows are moved.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0015b01"
down_revision: str | Sequence[str] | None = "0010c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Append-only like audit_log itself (PostgreSQL; TRUNCATE stays for operators and tests).
APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_seals_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_seals is append-only';
END;
$$
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
FOR EACH ROW EXECUTE FUNCTION audit_seals_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "audit_seals",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_seals_seq")),
        sa.PrimaryKeyConstraint("patient_id", "seq", name=op.f("pk_audit_seals")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_seals_append_only ON audit_seals")
        op.execute("DROP FUNCTION IF EXISTS audit_seals_append_only()")
    op.drop_table("audit_seals")
