"""medication dose history

Revision ID: 0007
Revises: 0008
Create Date: 2026-11-25 15:49:41.060518
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "medication_doses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("medication_id", sa.Uuid(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("dose_mg_per_day", sa.Float(), nullable=False),
        sa.Column("recorded_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "dose_mg_per_day > 0 AND dose_mg_per_day <= 100000",
            name=op.f("ck_medication_doses_dose"),
        ),
        sa.ForeignKeyConstraint(
            ["medication_id"],
            ["medications.id"],
            name=op.f("fk_medication_doses_medication_id_medications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_medication_doses_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medication_doses")),
    )
    with op.batch_alter_table("medication_doses", schema=None) as batch_op:
        batch_op.create_index("ix_medication_doses_medication_id", ["medication_id"], unique=False)
        batch_op.create_index(
            "ix_medication_doses_patient_medication",
            ["patient_id", "medication_id", "effective_on"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("medication_doses", schema=None) as batch_op:
        batch_op.drop_index("ix_medication_doses_patient_medication")
        batch_op.drop_index("ix_medication_doses_medication_id")

    op.drop_table("medication_doses")
