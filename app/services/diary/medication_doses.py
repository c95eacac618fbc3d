"""A maintenance medication's dose history (``doses`` in the API, ``medication_doses`` rows).

The history is kept whole, in the medication's write transaction (under the patient's lock):

- a new medication has one entry: its dose from ``started_on``;
- a write that changes ``dose_mg_per_day``, or carries ``dose_changed_on``, adds
  ``{from: dose_changed_on, mg_per_day}`` (the day defaults to the patient's local today) and
  drops every entry from that day on: a change entered after the fact gets its own day, and a
  correction replaces what it corrects;
- the history then fits the medication's life: entries before a ``started_on`` moved later count
  from it (the last of them), the first entry holds from ``started_on``, and consecutive
  entries always differ in dose. Entries after ``stopped_on`` cannot exist: a stop before the
  last change is a 422, so the history never silently loses a recorded change.

So every medication has entries from its ``started_on`` on, one per day, within its life, and the
last entry's dose is its ``dose_mg_per_day``. The trends read the same rows (``app.trends.load``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, delete, insert, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import MedicationDose
from app.schemas.diary import DoseEntry
from app.trends import days
from app.trends.days import utcnow

Step = tuple[dt.date, float]
History = tuple[Step, ...]


def merged(steps: Iterable[Step]) -> History:
    """Consecutive entries with the same dose are one entry (the earlier day holds)."""
    out: list[Step] = []
    for day, dose in steps:
        if not out or dose != out[-1][1]:
            out.append((day, dose))
    return tuple(out)


def with_change(history: Sequence[Step], day: dt.date, dose: float) -> History:
    """``dose`` from ``day`` on: the entries dated on or after ``day`` are replaced."""
    return merged([*(step for step in history if step[0] < day), (day, dose)])


def fitted(history: Sequence[Step], started_on: dt.date) -> History:
    """The history from ``started_on`` on: what held on that day holds from it."""
    before = [step for step in history if step[0] <= started_on]
    after = [step for step in history if step[0] > started_on]
    first = before[-1][1] if before else after[0][1]
    later = after if before else after[1:]
    return merged([(started_on, first), *later])


def next_history(
    history: Sequence[Step],
    state: Mapping[str, Any],
    *,
    dose_changed: bool,
    dose_changed_on: dt.date | None,
    timezone: str,
    given: Iterable[str],
) -> History:
    """The history after a write that leaves the medication in ``state`` (its merged fields).

    ``given``: the fields the client sent, so a 422 names the field that was sent.
    """
    started_on: dt.date = state["started_on"]
    stopped_on: dt.date | None = state["stopped_on"]
    # Every stored medication has a history; an empty one reads as the dose from its start.
    result = tuple(history) or ((started_on, state["dose_mg_per_day"]),)
    if dose_changed or dose_changed_on is not None:
        day = check_change_day(dose_changed_on, started_on, stopped_on, timezone)
        result = with_change(result, day, state["dose_mg_per_day"])
    result = fitted(result, started_on)
    last_change = result[-1][0]
    if stopped_on is not None and stopped_on < last_change:
        name = "stopped_on" if "stopped_on" in given else "started_on"
        raise ValidationFailed(
            ["body", name],
            f"stopped_on must not be before the last dose change ({last_change.isoformat()}); "
            "re-date that change with dose_mg_per_day and dose_changed_on first",
        )
    return result


def check_change_day(
    day: dt.date | None, started_on: dt.date, stopped_on: dt.date | None, timezone: str
) -> dt.date:
    """``dose_changed_on`` (default: the patient's local today) within the medication's life."""
    today = days.local_today(timezone)
    loc = ["body", "dose_changed_on"]
    chosen = today if day is None else day
    if chosen > today:
        raise ValidationFailed(loc, "must not be after today (in the patient's time zone)")
    if chosen < started_on:
        raise ValidationFailed(loc, f"must not be before started_on ({started_on.isoformat()})")
    if stopped_on is not None and chosen > stopped_on:
        hint = "" if day is not None else "; send the day the dose changed"
        raise ValidationFailed(
            loc, f"must not be after stopped_on ({stopped_on.isoformat()}){hint}"
        )
    return chosen


def check_imported(
    history: Sequence[DoseEntry],
    *,
    dose_mg_per_day: float,
    started_on: dt.date,
    stopped_on: dt.date | None,
    loc: Sequence[str | int],
) -> History:
    """An export document's ``doses``: oldest first, the first from started_on, all within the
    medication's life, the last one's dose the medication's. Empty: the dose from started_on."""
    if not history:
        return ((started_on, dose_mg_per_day),)
    steps = [(entry.from_, entry.mg_per_day) for entry in history]
    if steps[0][0] != started_on:
        raise ValidationFailed([*loc, 0, "from"], "the first entry must be from started_on")
    for index in range(1, len(steps)):
        if steps[index][0] <= steps[index - 1][0]:
            raise ValidationFailed(
                [*loc, index, "from"], "entries must be oldest first, one per day"
            )
    if stopped_on is not None and steps[-1][0] > stopped_on:
        raise ValidationFailed([*loc, len(steps) - 1, "from"], "must not be after stopped_on")
    if steps[-1][1] != dose_mg_per_day:
        raise ValidationFailed(
            [*loc, len(steps) - 1, "mg_per_day"], "the last entry's dose must be dose_mg_per_day"
        )
    return merged(steps)


# --- storage ------------------------------------------------------------------------------------


def load(session: Session, patient_id: uuid.UUID, medication_id: uuid.UUID) -> History:
    return load_many(session, patient_id, [medication_id]).get(medication_id, ())


def all_of_patient(session: Session, patient_id: uuid.UUID) -> dict[uuid.UUID, History]:
    """Every medication history of the patient (deleted medications' too), by medication."""
    d = MedicationDose
    rows = session.execute(
        select(d.medication_id, d.effective_on, d.dose_mg_per_day)
        .where(d.patient_id == patient_id)
        .order_by(d.medication_id, d.effective_on)
    )
    return _grouped(rows)


def _grouped(rows: Iterable[Any]) -> dict[uuid.UUID, History]:
    found: defaultdict[uuid.UUID, list[Step]] = defaultdict(list)
    for medication_id, effective_on, dose in rows:
        found[medication_id].append((effective_on, dose))
    return {key: tuple(steps) for key, steps in found.items()}


def load_many(
    session: Session, patient_id: uuid.UUID, medication_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, History]:
    """The histories of these medications of one patient, oldest entry first."""
    if not medication_ids:
        return {}
    d = MedicationDose
    rows = session.execute(
        select(d.medication_id, d.effective_on, d.dose_mg_per_day)
        .where(d.patient_id == patient_id, d.medication_id.in_(list(medication_ids)))
        .order_by(d.medication_id, d.effective_on)
    )
    return _grouped(rows)


def store(
    session: Session,
    patient_id: uuid.UUID,
    medication_id: uuid.UUID,
    old: Sequence[Step],
    new: Sequence[Step],
) -> None:
    """Write ``new`` over ``old`` (the stored history, read under the patient's lock): the
    entries after the common beginning are rewritten."""
    same = 0
    while same < min(len(old), len(new)) and old[same] == new[same]:
        same += 1
    if same == len(old) == len(new):
        return
    d = MedicationDose
    stale = delete(d).where(d.patient_id == patient_id, d.medication_id == medication_id)
    if same > 0:
        stale = stale.where(d.effective_on > old[same - 1][0])
    session.execute(stale)
    if same < len(new):
        now = utcnow()
        session.execute(
            insert(d),
            [
                {
                    "id": uuid.uuid4(),
                    "patient_id": patient_id,
                    "medication_id": medication_id,
                    "effective_on": day,
                    "dose_mg_per_day": dose,
                    "recorded_at": now,
                }
                for day, dose in new[same:]
            ],
        )


def entries(history: Sequence[Step]) -> list[DoseEntry]:
    return [DoseEntry(from_=day, mg_per_day=dose) for day, dose in history]


def histories_of(session: Session, rows: Sequence[RowMapping]) -> dict[uuid.UUID, History]:
    """The histories of these medication rows (of one or more patients), in one query each."""
    by_patient: defaultdict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for row in rows:
        by_patient[row["patient_id"]].append(row["id"])
    found: dict[uuid.UUID, History] = {}
    for patient_id, ids in by_patient.items():
        found.update(load_many(session, patient_id, ids))
    return found
