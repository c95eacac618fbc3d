"""Maintenance-medication changes inside the report's windows (they confound the comparison).

The API keeps no dose history on a medication row, so a dose change is read from the rows: a row
that stops on day s and a row of the same name (case-insensitive) that starts on day s or s + 1
make one ``dose_change`` when their doses differ, and no change at all when they are equal (the
same regimen entered again). Every other start or stop inside the windows is reported as such.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from app.trends.inputs import MedicationRow
from app.trends.windows import Window, window_name_of

ChangeKind = Literal["start", "stop", "dose_change"]
MAX_DOSE_CHANGE_GAP_DAYS = 1


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


def _continues(stopped: MedicationRow, stop_day: dt.date, started: MedicationRow) -> bool:
    gap = (started.started_on - stop_day).days
    return (
        stopped.id != started.id
        and _key(stopped.name) == _key(started.name)
        and 0 <= gap <= MAX_DOSE_CHANGE_GAP_DAYS
    )


def medication_changes(
    rows: Iterable[MedicationRow], windows: Iterable[Window]
) -> tuple[MedicationChange, ...]:
    """Starts, stops and dose changes on a day of one of ``windows`` (clipped), in date order."""
    windows = tuple(windows)
    rows = tuple(rows)
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
    changes: list[MedicationChange] = []
    for stopped, stop_day in stops:
        started = next((row for row in starts if _continues(stopped, stop_day, row)), None)
        if started is None:
            changes.append(_change(windows, "stop", stopped, stop_day))
            continue
        starts.remove(started)
        if started.dose_mg_per_day != stopped.dose_mg_per_day:
            changes.append(
                _change(
                    windows, "dose_change", started, started.started_on, stopped.dose_mg_per_day
                )
            )
    changes.extend(_change(windows, "start", row, row.started_on) for row in starts)
    return tuple(sorted(changes, key=lambda change: (change.date, _key(change.name), change.kind)))


def _change(
    windows: tuple[Window, ...],
    kind: ChangeKind,
    row: MedicationRow,
    day: dt.date,
    previous_dose_mg_per_day: float | None = None,
) -> MedicationChange:
    window = window_name_of(windows, day)
    assert window is not None  # only days inside a window get here
    return MedicationChange(
        kind, day, window, row.id, row.name, row.dose_mg_per_day, previous_dose_mg_per_day
    )
