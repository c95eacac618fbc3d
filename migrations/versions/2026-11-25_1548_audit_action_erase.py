"""audit action erase

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-25 15:48:00

The audit trail's action CHECK gains ``erase``: the pseudonymous last entry of a patient's chain
when they delete their account (DELETE /me). No row changes, so the hash chains stay intact.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_ACTIONS = "action IN ('read', 'create', 'update', 'delete', 'export')"
NEW_ACTIONS = "action IN ('read', 'create', 'update', 'delete', 'export', 'erase')"


def _replace_check(condition: str) -> None:
    # Batch mode rebuilds the table on SQLite (copying rows verbatim); PostgreSQL alters in place,
    # which fires no row triggers, so the append-only trigger on audit_log is not in the way.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_log_action"), type_="check")
        batch_op.create_check_constraint(op.f("ck_audit_log_action"), sa.text(condition))


def upgrade() -> None:
    _replace_check(NEW_ACTIONS)


def downgrade() -> None:
    # Entries of erased accounts cannot be rewritten (append-only, hash-chained): refuse rather
    # than fail half-way on the CHECK.
    bind = op.get_bind()
    erased = bind.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'erase'")).scalar()
    if erased:
        raise RuntimeError("audit_log holds 'erase' entries; cannot downgrade below 0008")
    _replace_check(OLD_ACTIONS)
