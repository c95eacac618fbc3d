"""Maintenance-medication changes inside the report's windows (they confound the comparison).

A dose change reaches us in one of two ways:
- in place: the row keeps its id and the dose history (``MedicationDoseRow``) says from which
  day each dose held; consecutive history entries with different doses make a ``dose_change``;
- as a stop and a new row: a row that stops on day s and a row of the same name
  (case-insensitive) that starts on day s or s + 1 make one ``dose_change`` when their doses
  differ, and no change at all when they are equal (the same regimen entered again).
Every other start or stop inside the windows is reported as such.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from app.trends.inputs import MedicationDoseRow, MedicationRow
from app.trends.windows import Window, window_name_of

ChangeKind = Literal["start", "stop", "dose_change"]
MAX_DOSE_CHANGE_GAP_DAYS = 1

DoseSteps = tuple[tuple[dt.date, float], ...]


@dataclass(frozen=True)
class MedicationChange:
    """A start, stop or dose change on ``date``; ``previous_dose_mg_per_day`` for dose changes."""

    kind: ChangeKind
    date: dt.date
    window: str
    medication_id: UUID
    name: str
    dose_mg_per_day: float
    previous_dose_mg_per_day: float | None = None


def _key(name: str) -> str:
    return name.strip().casefold()


def dose_steps(row: MedicationRow, history: Iterable[MedicationDoseRow]) -> DoseSteps:
    """``(day, dose)`` from the row's start to its stop, one entry per day the dose changed.

    The first entry holds from the start (entries dated before it count from the start, which
    may have been moved later; a first entry dated after it, from a start moved earlier, is the
    earliest dose known). Of one day's entries the last recorded wins; entries after the stop
    are ignored. Without history the row's dose holds from its start.
    """
    by_day: dict[dt.date, float] = {}
    for entry in sorted(history, key=lambda entry: (entry.effective_on, entry.recorded_at)):
        if row.stopped_on is None or entry.effective_on <= row.stopped_on:
            by_day[max(entry.effective_on, row.started_on)] = entry.dose_mg_per_day
    steps: list[tuple[dt.date, float]] = []
    for day, dose in sorted(by_day.items()):
        if not steps:
            steps.append((row.started_on, dose))
        elif dose != steps[-1][1]:
            steps.append((day, dose))
    return tuple(steps) or ((row.started_on, row.dose_mg_per_day),)


def _continues(stopped: MedicationRow, stop_day: dt.date, started: MedicationRow) -> bool:
    gap = (started.started_on - stop_day).days
    return (
        stopped.id != started.id
        and _key(stopped.name) == _key(started.name)
        and 0 <= gap <= MAX_DOSE_CHANGE_GAP_DAYS
    )


def medication_changes(
    rows: Iterable[MedicationRow],
    windows: Iterable[Window],
    doses: Iterable[MedicationDoseRow] = (),
) -> tuple[MedicationChange, ...]:
    """Starts, stops and dose changes on a day of one of ``windows`` (clipped), in date order."""
    windows = tuple(windows)
    rows = tuple(rows)
    history: defaultdict[UUID, list[MedicationDoseRow]] = defaultdict(list)
    for entry in doses:
        history[entry.medication_id].append(entry)
    steps = {row.id: dose_steps(row, history[row.id]) for row in rows}
    starts = sorted(
        (row for row in rows if window_name_of(windows, row.started_on) is not None),
        key=lambda row: (row.started_on, _key(row.name), str(row.id)),
    )
    stops = sorted(
        (
            (row, row.stopped_on)
            for row in rows
            if row.stopped_on is not None and window_name_of(windows, row.stopped_on) is not None
        ),
        key=lambda pair: (pair[1], _key(pair[0].name), str(pair[0].id)),
    )
    changes = _in_place_changes(rows, steps, windows)
    for stopped, stop_day in stops:
        started = next((row for row in starts if _continues(stopped, stop_day, row)), None)
        stop_dose = steps[stopped.id][-1][1]
        if started is None:
            changes.append(_change(windows, "stop", stopped, stop_day, stop_dose))
            continue
        starts.remove(started)
        start_dose = steps[started.id][0][1]
        if start_dose != stop_dose:
            changes.append(
                _change(windows, "dose_change", started, started.started_on, start_dose, stop_dose)
            )
    changes.extend(
        _change(windows, "start", row, row.started_on, steps[row.id][0][1]) for row in starts
    )
    return tuple(sorted(changes, key=lambda change: (change.date, _key(change.name), change.kind)))


def _in_place_changes(
    rows: Sequence[MedicationRow], steps: Mapping[UUID, DoseSteps], windows: tuple[Window, ...]
) -> list[MedicationChange]:
    """Dose changes read from the history: each step after the first is one."""
    return [
        _change(windows, "dose_change", row, day, dose, previous)
        for row in rows
        for (_, previous), (day, dose) in zip(steps[row.id], steps[row.id][1:], strict=False)
        if window_name_of(windows, day) is not None
    ]


def _change(
    windows: tuple[Window, ...],
    kind: ChangeKind,
    row: MedicationRow,
    day: dt.date,
    dose: float,
    previous_dose_mg_per_day: float | None = None,
) -> MedicationChange:
    window = window_name_of(windows, day)
    assert window is not None  # only days inside a window get here
    return MedicationChange(kind, day, window, row.id, row.name, dose, previous_dose_mg_per_day)
