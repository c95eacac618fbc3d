"""medication dose history kept whole

Revision ID: 0010c
Revises: 0010b
Create Date: 2026-12-06 10:02:00

``medication_doses`` was written only when a dose changed in place (the first change also wrote
the replaced dose from ``started_on``), with the new dose dated the day of the write and several
entries possible per day. It now holds each medication's whole history, as the API shows it
(``doses``): entries from ``started_on`` on, one per day, each dose differing from the one before,
all within the medication's life, the last one's dose the medication's ``dose_mg_per_day``.

Existing histories are rewritten to that shape, reading them as the trends did: of one day's
entries the last recorded wins; entries before ``started_on`` (a start moved later) count from
it, a first entry after it (a start moved earlier) holds from it; entries after ``stopped_on``
(a dose changed after the stop, dated the day of that write) count from the stop day, so the
last dose is still the medication's dose. A medication without entries gets its dose from
``started_on``. Deleted medications are rewritten too: their tombstones are exported.
"""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0010c"
down_revision: str | Sequence[str] | None = "0010b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH_MEDICATIONS = 1000

medications = sa.table(
    "medications",
    sa.column("id", sa.Uuid()),
    sa.column("patient_id", sa.Uuid()),
    sa.column("dose_mg_per_day", sa.Float()),
    sa.column("started_on", sa.Date()),
    sa.column("stopped_on", sa.Date()),
    sa.column("created_at", app.db.UTCDateTime()),
)
doses = sa.table(
    "medication_doses",
    sa.column("id", sa.Uuid()),
    sa.column("patient_id", sa.Uuid()),
    sa.column("medication_id", sa.Uuid()),
    sa.column("effective_on", sa.Date()),
    sa.column("dose_mg_per_day", sa.Float()),
    sa.column("recorded_at", app.db.UTCDateTime()),
)


def whole_history(
    medication: Any, entries: Sequence[tuple[date, datetime, float]]
) -> list[tuple[date, float, datetime]]:
    """``(effective_on, dose, recorded_at)`` of the medication's whole history."""
    started_on: date = medication.started_on
    stopped_on: date | None = medication.stopped_on
    by_day: dict[date, tuple[float, datetime]] = {}
    for effective_on, recorded_at, dose in sorted(entries, key=lambda e: (e[0], e[1])):
        day = max(effective_on, started_on)
        if stopped_on is not None:
            day = min(day, stopped_on)
        by_day[day] = (dose, recorded_at)
    if not by_day:
        by_day[started_on] = (medication.dose_mg_per_day, medication.created_at)
    last = max(by_day)
    if by_day[last][0] != medication.dose_mg_per_day:
        # Only rows written outside the API could get here: the medication's own dose wins.
        by_day[last] = (medication.dose_mg_per_day, by_day[last][1])
    steps: list[tuple[date, float, datetime]] = []
    for day, (dose, recorded_at) in sorted(by_day.items()):
        if not steps:
            steps.append((started_on, dose, recorded_at))
        elif dose != steps[-1][1]:
            steps.append((day, dose, recorded_at))
    return steps


def upgrade() -> None:
    bind = op.get_bind()
    last = None
    while True:
        query = sa.select(medications).order_by(medications.c.id).limit(BATCH_MEDICATIONS)
        if last is not None:
            query = query.where(medications.c.id > last)
        batch = bind.execute(query).all()
        if not batch:
            break
        ids = [row.id for row in batch]
        found: dict[Any, list[tuple[date, datetime, float]]] = {}
        for entry in bind.execute(
            sa.select(
                doses.c.medication_id,
                doses.c.effective_on,
                doses.c.recorded_at,
                doses.c.dose_mg_per_day,
            ).where(doses.c.medication_id.in_(ids))
        ):
            found.setdefault(entry.medication_id, []).append(
                (entry.effective_on, entry.recorded_at, entry.dose_mg_per_day)
            )
        bind.execute(sa.delete(doses).where(doses.c.medication_id.in_(ids)))
        bind.execute(
            sa.insert(doses),
            [
                {
                    "id": uuid.uuid4(),
                    "patient_id": row.patient_id,
                    "medication_id": row.id,
                    "effective_on": day,
                    "dose_mg_per_day": dose,
                    "recorded_at": recorded_at,
                }
                for row in batch
                for day, dose, recorded_at in whole_history(row, found.get(row.id, []))
            ],
        )
        last = ids[-1]
    with op.batch_alter_table("medication_doses", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            op.f("uq_medication_doses_medication_id_effective_on"),
            ["medication_id", "effective_on"],
        )


def downgrade() -> None:
    # The whole history reads correctly under the old meaning too; only the constraint goes.
    with op.batch_alter_table("medication_doses", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("uq_medication_doses_medication_id_effective_on"), type_="unique"
        )
