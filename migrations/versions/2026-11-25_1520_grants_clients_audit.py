"""grants, partner clients and the audit trail

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:19:20.301097
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("revoked_at IS NULL")

# PostgreSQL refuses UPDATE and DELETE on the audit trail outright (TRUNCATE, for test clean-up
# and operators, still works). SQLite relies on the hash chain to reveal tampering.
APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
"""


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("resource", sa.String(length=200), nullable=False),
        sa.Column("resource_id", sa.String(length=100), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "action IN ('read', 'create', 'update', 'delete', 'export')",
            name=op.f("ck_audit_log_action"),
        ),
        sa.CheckConstraint(
            "outcome IN ('success', 'denied', 'failed')", name=op.f("ck_audit_log_outcome")
        ),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_log_seq")),
        sa.PrimaryKeyConstraint("patient_id", "seq", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "partner_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_clients")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_partner_clients_secret_hash")),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("grantee_user_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("access", sa.String(length=8), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("access IN ('read', 'write')", name=op.f("ck_grants_access")),
        sa.CheckConstraint(
            "(grantee_user_id IS NULL) <> (client_id IS NULL)", name=op.f("ck_grants_one_grantee")
        ),
        sa.CheckConstraint(
            "expires_at IS NULL OR expires_at > created_at", name=op.f("ck_grants_expiry")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["partner_clients.id"],
            name=op.f("fk_grants_client_id_partner_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["grantee_user_id"],
            ["users.id"],
            name=op.f("fk_grants_grantee_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_grants_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
    )
    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_grants_client_id_patient_id", ["client_id", "patient_id"], unique=False
        )
        batch_op.create_index(
            "ix_grants_grantee_user_id_patient_id", ["grantee_user_id", "patient_id"], unique=False
        )
        batch_op.create_index(
            "ix_grants_patient_id_created_at", ["patient_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_grants_active_client",
            ["patient_id", "client_id"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )
        batch_op.create_index(
            "uq_grants_active_user",
            ["patient_id", "grantee_user_id"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )

    # Existing patients start with an empty chain; the default is only for the backfill.
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audit_seq", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.alter_column("audit_seq", server_default=None)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")

    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("audit_seq")

    with op.batch_alter_table("grants", schema=None) as batch_op:
        batch_op.drop_index("uq_grants_active_user")
        batch_op.drop_index("uq_grants_active_client")
        batch_op.drop_index("ix_grants_patient_id_created_at")
        batch_op.drop_index("ix_grants_grantee_user_id_patient_id")
        batch_op.drop_index("ix_grants_client_id_patient_id")

    op.drop_table("grants")
    op.drop_table("partner_clients")
    op.drop_table("audit_log")
