"""treatment session high_dose_confirmed

Revision ID: 0016r
Revises: 0015a2
Create Date: 2026-12-06 20:20:00

Dose safety (API.md, Treatments): a session above 2.0 mg/kg/h iv or 5 mg/kg in total is stored
only when its writer confirms it; the confirmation is kept with the session. Existing sessions
were never confirmed: false.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016r"
down_revision: str | Sequence[str] | None = "0015a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "high_dose_confirmed", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.drop_column("high_dose_confirmed")
