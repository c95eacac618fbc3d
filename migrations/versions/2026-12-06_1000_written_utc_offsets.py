"""written UTC offsets of episodes and treatment sessions

Revision ID: 0010a
Revises: 0007
Create Date: 2026-12-06 10:00:00

Episodes and treatment sessions keep the UTC offset their ``started_at`` was written with
(``started_offset_minutes``): it gives the record's local day and is how ``started_at`` is
returned, so a later change of the patient's time zone moves no recorded day.

Rows written before the offset was kept take the offset of their patient's time zone at that
instant (DST-correct, zoneinfo), computed here in Python, in batches, since neither SQLite nor
every PostgreSQL setup can do it in SQL. The episodes' covering index gains the column so the
trends still read their window from the index alone.
"""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0010a"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("episodes", "treatment_sessions")
BATCH_ROWS = 2000
MAX_OFFSET_MINUTES = 14 * 60
OFFSET_CHECK = f"started_offset_minutes BETWEEN {-MAX_OFFSET_MINUTES} AND {MAX_OFFSET_MINUTES}"
INDEX_COLUMNS = [
    "patient_id",
    "started_at",
    "id",
    "intensity",
    "attack_count",
    "duration_seconds",
    "trigger_mask",
    "deleted_at",
]


@cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - names are validated
        return ZoneInfo("UTC")


def _offset_minutes(started_at: datetime, timezone: str) -> int:
    offset = started_at.astimezone(_zone(timezone)).utcoffset()
    assert offset is not None
    # Historical local mean times carry seconds; RFC 3339 offsets are whole minutes.
    return round(offset.total_seconds() / 60)


def _backfill(table_name: str) -> None:
    bind = op.get_bind()
    rows_table = sa.table(
        table_name,
        sa.column("id", sa.Uuid()),
        sa.column("patient_id", sa.Uuid()),
        sa.column("started_at", app.db.UTCDateTime()),
        sa.column("started_offset_minutes", sa.SmallInteger()),
    )
    patients = sa.table("patients", sa.column("id", sa.Uuid()), sa.column("timezone", sa.String()))
    update = (
        sa.update(rows_table)
        .where(rows_table.c.id == sa.bindparam("row_id"))
        .values(started_offset_minutes=sa.bindparam("offset"))
    )
    last = None
    while True:
        query = (
            sa.select(rows_table.c.id, rows_table.c.started_at, patients.c.timezone)
            .join(patients, patients.c.id == rows_table.c.patient_id)
            .where(rows_table.c.started_offset_minutes.is_(None))
            .order_by(rows_table.c.id)
            .limit(BATCH_ROWS)
        )
        if last is not None:
            query = query.where(rows_table.c.id > last)
        batch = bind.execute(query).all()
        if not batch:
            return
        bind.execute(
            update,
            [
                {"row_id": row.id, "offset": _offset_minutes(row.started_at, row.timezone)}
                for row in batch
            ],
        )
        last = batch[-1].id


def upgrade() -> None:
    for table_name in TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("started_offset_minutes", sa.SmallInteger(), nullable=True)
            )
        _backfill(table_name)
    for table_name in TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.alter_column(
                "started_offset_minutes", existing_type=sa.SmallInteger(), nullable=False
            )
            batch_op.create_check_constraint(
                op.f(f"ck_{table_name}_started_offset"), sa.text(OFFSET_CHECK)
            )
            if table_name == "episodes":
                batch_op.drop_index("ix_episodes_patient_started")
                batch_op.create_index(
                    "ix_episodes_patient_started",
                    [*INDEX_COLUMNS, "started_offset_minutes"],
                    unique=False,
                )


def downgrade() -> None:
    for table_name in TABLES:
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            if table_name == "episodes":
                batch_op.drop_index("ix_episodes_patient_started")
                batch_op.create_index("ix_episodes_patient_started", INDEX_COLUMNS, unique=False)
            batch_op.drop_constraint(op.f(f"ck_{table_name}_started_offset"), type_="check")
            batch_op.drop_column("started_offset_minutes")
