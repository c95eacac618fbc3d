"""outcomes kept ready: per-patient and per-series figures, with what they were computed from

Revision ID: 0016o1
Revises: 0015a2
Create Date: 2026-12-06 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0016o1"
down_revision: str | Sequence[str] | None = "0015a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patient_outcomes",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("patient_version", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("valid_until", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "sort_name",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("series_id", sa.Uuid(), nullable=True),
        sa.Column("series_name", sa.String(length=200), nullable=True),
        sa.Column("modality", sa.String(length=32), nullable=True),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end_day", sa.Date(), nullable=True),
        sa.Column("responder", sa.Boolean(), nullable=True),
        sa.Column("relief_status", sa.String(length=16), nullable=True),
        sa.Column("relief_days", sa.Integer(), nullable=True),
        sa.Column("relief_onset", sa.Date(), nullable=True),
        sa.Column("relief_end", sa.Date(), nullable=True),
        sa.Column("censor_reason", sa.String(length=24), nullable=True),
        sa.Column("expected_return_from", sa.Date(), nullable=True),
        sa.Column("expected_return_to", sa.Date(), nullable=True),
        sa.Column("ended_rank", sa.SmallInteger(), nullable=False),
        sa.Column("ended_key", sa.Integer(), nullable=False),
        sa.Column("return_rank", sa.SmallInteger(), nullable=False),
        sa.Column("return_key", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_patient_outcomes_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_outcomes")),
    )
    with op.batch_alter_table("patient_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patient_outcomes_ended",
            ["ended_rank", "ended_key", "sort_name", "patient_id"],
            unique=False,
        )
        batch_op.create_index("ix_patient_outcomes_name", ["sort_name", "patient_id"], unique=False)
        batch_op.create_index(
            "ix_patient_outcomes_return",
            ["return_rank", "return_key", "sort_name", "patient_id"],
            unique=False,
        )

    op.create_table(
        "series_outcomes",
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column(
            "sort_name",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("patient_name", sa.String(length=200), nullable=False),
        sa.Column("series_name", sa.String(length=200), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end_day", sa.Date(), nullable=True),
        sa.Column("course_id", sa.Uuid(), nullable=True),
        sa.Column("booster", sa.Boolean(), nullable=True),
        sa.Column("baseline_attacks_per_day", sa.Float(), nullable=True),
        sa.Column("follow_up_1_attacks_per_day", sa.Float(), nullable=True),
        sa.Column("change_pct", sa.Float(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("responder", sa.Boolean(), nullable=True),
        sa.Column("relief_status", sa.String(length=16), nullable=True),
        sa.Column("relief_days", sa.Integer(), nullable=True),
        sa.Column("relief_onset", sa.Date(), nullable=True),
        sa.Column("relief_end", sa.Date(), nullable=True),
        sa.Column("censor_reason", sa.String(length=24), nullable=True),
        sa.Column("baseline_flags", sa.JSON(), nullable=True),
        sa.Column("expected_return_from", sa.Date(), nullable=True),
        sa.Column("expected_return_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_series_outcomes_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", name=op.f("pk_series_outcomes")),
    )
    with op.batch_alter_table("series_outcomes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_series_outcomes_order", ["sort_name", "patient_id", "ordinal"], unique=False
        )
        batch_op.create_index("ix_series_outcomes_patient_id", ["patient_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("series_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_series_outcomes_patient_id")
        batch_op.drop_index("ix_series_outcomes_order")

    op.drop_table("series_outcomes")
    with op.batch_alter_table("patient_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_outcomes_return")
        batch_op.drop_index("ix_patient_outcomes_name")
        batch_op.drop_index("ix_patient_outcomes_ended")

    op.drop_table("patient_outcomes")
