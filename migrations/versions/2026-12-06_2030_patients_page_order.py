"""the patients page's orders on the stored outcomes: attention, last session; expected return open

Revision ID: 0016p
Revises: 0016r
Create Date: 2026-12-06 20:30:00

The clinicians' patients page reads ``patient_outcomes`` in one indexed query per page
(services/outcomes/overview.py). "Needs attention first" walks the existing rank/key columns in
one index; "longest since the last session" gets its own rank/key (computed with the row, which
is recomputed when the patient's day moves on); ``expected_return_open`` says the expected
return's latest day is a lower bound. Rows stored before have none of these yet: every patient
is marked for recomputation (the next reader brings them up to date).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016p"
down_revision: str | Sequence[str] | None = "0016r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient_outcomes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "expected_return_open", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "session_rank", sa.SmallInteger(), server_default=sa.text("1"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("session_key", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.create_index(
            "ix_patient_outcomes_attention",
            ["ended_rank", "ended_key", "return_rank", "return_key", "sort_name", "patient_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_patient_outcomes_last_session",
            ["session_rank", "session_key", "sort_name", "patient_id"],
            unique=False,
        )
    op.execute(
        "INSERT INTO outcome_changes (patient_id, change_seq, patient_version) "
        "SELECT id, change_seq, version FROM patients WHERE NOT EXISTS "
        "(SELECT 1 FROM outcome_changes c WHERE c.patient_id = patients.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("patient_outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_outcomes_last_session")
        batch_op.drop_index("ix_patient_outcomes_attention")
        batch_op.drop_column("session_key")
        batch_op.drop_column("session_rank")
        batch_op.drop_column("expected_return_open")
