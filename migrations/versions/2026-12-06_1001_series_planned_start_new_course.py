"""series planned_start and new_course

Revision ID: 0010b
Revises: 0010a
Create Date: 2026-12-06 10:01:00

A treatment series may carry the day its first session is planned for (``planned_start``, for
baseline readiness) and a course override (``new_course``: true, false, or null to let the
182-day rule decide). Both are null on existing series, which is their meaning before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010b"
down_revision: str | Sequence[str] | None = "0010a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLANNED_START_CHECK = "planned_start IS NULL OR planned_start BETWEEN '1900-01-01' AND '2199-12-31'"


def upgrade() -> None:
    with op.batch_alter_table("treatment_series", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("new_course", sa.Boolean(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_treatment_series_planned_start"), sa.text(PLANNED_START_CHECK)
        )


def downgrade() -> None:
    with op.batch_alter_table("treatment_series", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_treatment_series_planned_start"), type_="check")
        batch_op.drop_column("new_course")
        batch_op.drop_column("planned_start")
