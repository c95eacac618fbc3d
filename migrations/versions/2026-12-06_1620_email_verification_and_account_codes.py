"""e-mail verification and one-time account codes (confirm an address, reset a password)

Accounts that exist before this revision predate verification: they count as confirmed from
their creation, so nobody already using the service is locked out by the upgrade.

Revision ID: 0015a1
Revises: 0015b01
Create Date: 2026-12-06 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0015a1"
down_revision: str | Sequence[str] | None = "0015b01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'reset_password')",
            name=op.f("ck_account_codes_purpose"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_account_codes_attempts")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_codes")),
        sa.UniqueConstraint("user_id", "purpose", name=op.f("uq_account_codes_user_id_purpose")),
    )
    with op.batch_alter_table("account_codes", schema=None) as batch_op:
        batch_op.create_index("ix_account_codes_expires_at", ["expires_at"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
    users = sa.table(
        "users",
        sa.column("created_at", app.db.UTCDateTime(timezone=True)),
        sa.column("email_verified_at", app.db.UTCDateTime(timezone=True)),
    )
    op.execute(users.update().values(email_verified_at=users.c.created_at))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")

    with op.batch_alter_table("account_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_account_codes_expires_at")

    op.drop_table("account_codes")
