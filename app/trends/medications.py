"""Maintenance-medication changes: what confounds a before/after comparison.

The changes are each medication's ``started_on``, its ``stopped_on`` and every later ``from``
of its dose history. A start or a dose increase during a series mixes two treatments' effects,
so it ends the look at relief (H'); a stop or a decrease, made because the patient is better,
can only bring the end of relief earlier and is listed and warned about but cuts nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal
from uuid import UUID

from app.trends.inputs import DoseEntry, MedicationRow
from app.trends.windows import Window, window_name_of

ChangeKind = Literal["start", "stop", "dose"]


@dataclass(frozen=True)
class MedicationEvent:
    """A change on ``date``: ``mg_per_day`` from then on (0 after a stop), and before it."""

    date: dt.date
    kind: ChangeKind
    medication_id: UUID
    name: str
    mg_per_day: float
    previous_mg_per_day: float | None

    @property
    def adds_treatment(self) -> bool:
        """A start or a dose increase: a second treatment's effect from this day on."""
        previous = self.previous_mg_per_day
        return previous is None or self.mg_per_day > previous


def dose_history(row: MedicationRow) -> tuple[DoseEntry, ...]:
    """The doses taken from ``started_on`` to the stop, one entry per day the dose changed.

    Of one day's entries the last wins; entries dated before the start count from it, and
    entries on or after the stop day are not taken. No history: one dose since the start.
    """
    by_day: dict[dt.date, float] = {}
    for entry in row.doses:
        by_day[max(entry.from_day, row.started_on)] = entry.mg_per_day
    steps: list[DoseEntry] = []
    for day, mg_per_day in sorted(by_day.items()):
        if not steps:
            steps.append(DoseEntry(row.started_on, mg_per_day))
        elif row.stopped_on is not None and day >= row.stopped_on:
            break
        elif mg_per_day != steps[-1].mg_per_day:
            steps.append(DoseEntry(day, mg_per_day))
    return tuple(steps) or (DoseEntry(row.started_on, row.dose_mg_per_day),)


def medication_events(rows: Iterable[MedicationRow]) -> tuple[MedicationEvent, ...]:
    """Every start, dose change and stop of ``rows``, by date (then name, kind)."""
    events: list[MedicationEvent] = []
    for row in rows:
        steps = dose_history(row)
        events.append(
            MedicationEvent(row.started_on, "start", row.id, row.name, steps[0].mg_per_day, None)
        )
        events.extend(
            MedicationEvent(
                step.from_day, "dose", row.id, row.name, step.mg_per_day, before.mg_per_day
            )
            for before, step in pairwise(steps)
        )
        if row.stopped_on is not None:
            events.append(
                MedicationEvent(row.stopped_on, "stop", row.id, row.name, 0.0, steps[-1].mg_per_day)
            )
    return tuple(sorted(events, key=lambda event: (event.date, event.name.casefold(), event.kind)))


def first_added_treatment(
    events: Iterable[MedicationEvent], first: dt.date, last: dt.date
) -> dt.date | None:
    """The first day in ``[first, last]`` a medication starts or its dose rises."""
    return min(
        (event.date for event in events if event.adds_treatment and first <= event.date <= last),
        default=None,
    )


def events_between(
    events: Iterable[MedicationEvent], first: dt.date, last: dt.date
) -> tuple[MedicationEvent, ...]:
    return tuple(event for event in events if first <= event.date <= last)


@dataclass(frozen=True)
class MedicationChange:
    """A change inside one of the report's windows; field names are the contract's."""

    date: dt.date
    kind: ChangeKind
    medication_id: UUID
    name: str
    window: str
    mg_per_day: float
    previous_mg_per_day: float | None


def changes_in_windows(
    events: Iterable[MedicationEvent], windows: Sequence[Window]
) -> tuple[MedicationChange, ...]:
    """The events on a day of one of ``windows``, each with the (first) window holding it."""
    changes: list[MedicationChange] = []
    for event in events:
        window = window_name_of(windows, event.date)
        if window is not None:
            changes.append(
                MedicationChange(
                    event.date,
                    event.kind,
                    event.medication_id,
                    event.name,
                    window,
                    event.mg_per_day,
                    event.previous_mg_per_day,
                )
            )
    return tuple(changes)
