"""The cohort summary: responders and relief per group, one series per patient.

Each group (first series, boosters) takes, per patient, the earliest (by start, id) of that
patient's series in the group, so patients with short relief and many boosters do not dominate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from app.trends.relief import Relief
from app.trends.survival import ReliefSurvival, relief_survival


@dataclass(frozen=True)
class CohortEntry:
    """One series with a start, and what the summary counts of it."""

    patient_id: UUID
    series_id: UUID
    start: date
    booster: bool
    responder: bool | None
    relief: Relief | None


@dataclass(frozen=True)
class CohortGroup:
    """Field names are the contract's."""

    n: int
    responders: int
    responder_rate: float | None
    no_relief: int
    relief: ReliefSurvival


def cohort_group(entries: Iterable[CohortEntry], booster: bool) -> CohortGroup:
    """The summary of the group ``booster`` (false: first series, true: boosters)."""
    earliest: dict[UUID, CohortEntry] = {}
    for entry in sorted(entries, key=lambda entry: (entry.start, entry.series_id)):
        if entry.booster == booster:
            earliest.setdefault(entry.patient_id, entry)
    return group_of(
        (
            entry.responder,
            None if entry.relief is None else entry.relief.status,
            None if entry.relief is None else entry.relief.duration_days,
        )
        for entry in earliest.values()
    )


def group_of(chosen: Iterable[tuple[bool | None, str | None, int | None]]) -> CohortGroup:
    """The summary of a group's chosen series (one per patient, already picked):
    ``(responder, relief status, relief duration_days)`` each."""
    rows = list(chosen)
    verdicts = [responder for responder, _, _ in rows if responder is not None]
    responders = sum(verdicts)
    return CohortGroup(
        n=len(rows),
        responders=responders,
        responder_rate=responders / len(verdicts) if verdicts else None,
        no_relief=sum(status == "no_relief" for _, status, _ in rows),
        relief=relief_survival(
            (days, status == "ended") for _, status, days in rows if days is not None
        ),
    )
