"""outcomes kept ready: per-patient and per-series figures, with what they were computed from

Revision ID: 0016o1
Revises: 0016w1
Create Date: 2026-12-06 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0016o1"
down_revision: str | Sequence[str] | None = "0016w1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Every new patient, and every change of a patient's change_seq (each write of their records)
# or version (each change of the patient record), leaves a mark: what the outcomes' readers
# recompute (app/services/outcomes/ready.py). Audit appends bump audit_seq only: no mark.
MARK = (
    "INSERT INTO outcome_changes (patient_id, change_seq, patient_version) "
    "VALUES (NEW.id, NEW.change_seq, NEW.version) "
    "ON CONFLICT (patient_id) DO UPDATE SET change_seq = excluded.change_seq, "
    "patient_version = excluded.patient_version"
)
CHANGED = "NEW.change_seq <> OLD.change_seq OR NEW.version <> OLD.version"
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER outcomes_patient_new AFTER INSERT ON patients BEGIN {MARK}; END",
    "CREATE TRIGGER outcomes_patient_changed AFTER UPDATE OF change_seq, version ON patients "
    f"WHEN {CHANGED} BEGIN {MARK}; END",
)
POSTGRES_TRIGGERS = (
    "CREATE FUNCTION outcomes_mark_patient() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN {MARK}; RETURN NULL; END $$",
    "CREATE TRIGGER outcomes_patient_new AFTER INSERT ON patients "
    "FOR EACH ROW EXECUTE FUNCTION outcomes_mark_patient()",
    "CREATE TRIGGER outcomes_patient_changed AFTER UPDATE OF change_seq, version ON patients "
    f"FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION outcomes_mark_patient()",
)


def upgrade() -> None:
    op.create_table(
        "outcome_changes",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("patient_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_outcome_changes_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_outcome_changes")),
    )
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
        batch_op.create_index("ix_patient_outcomes_valid_until", ["valid_until"], unique=False)
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

    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        op.execute(statement)
    # Every patient there is: none has outcomes stored yet.
    op.execute(
        "INSERT INTO outcome_changes (patient_id, change_seq, patient_version) "
        "SELECT id, change_seq, version FROM patients"
    )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    on = " ON patients" if postgres else ""
    op.execute(f"DROP TRIGGER IF EXISTS outcomes_patient_changed{on}")
    op.execute(f"DROP TRIGGER IF EXISTS outcomes_patient_new{on}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS outcomes_mark_patient()")
    with op.batch_alter_table("series_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_series_outcomes_patient_id")
        batch_op.drop_index("ix_series_outcomes_order")

    op.drop_table("series_outcomes")
    with op.batch_alter_table("patient_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_outcomes_return")
        batch_op.drop_index("ix_patient_outcomes_valid_until")
        batch_op.drop_index("ix_patient_outcomes_name")
        batch_op.drop_index("ix_patient_outcomes_ended")

    op.drop_table("patient_outcomes")
    op.drop_table("outcome_changes")
