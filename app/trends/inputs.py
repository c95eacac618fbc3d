"""Rows the loader hands to the pure trend code.

The loader (``load.py``) reads only the date range returned by ``window_range`` and converts
plain Core rows into these frozen dataclasses. An episode's or session's ``local_day`` is the
calendar date of its ``started_at`` in the UTC offset it was written with
(``days.local_day_at_offset``); an assessment's, in the patient's time zone
(``days.local_day``). The pure code never sees a time zone again. Rows after ``as_of`` may be
passed: they are ignored.

What the loader must pass:
- ``episodes``: live (not deleted) episodes whose local day lies in the window range.
- ``checkins``: live check-ins whose date lies in the window range.
- ``sessions``: every live session of the series, completed or not.
- ``assessments``: the patient's live assessments up to ``as_of`` (at least, per instrument, the
  last one before the first completed session, and all from that day on: only those are used).
- ``medications``: the patient's live medication rows (at least those taken on a day of the
  window range). A medication row holds its current dose only.
- ``medication_doses``: the dose history of those rows (the ``medication_doses`` table, the API's
  ``doses``): entries from ``started_on`` on, one per day, each dose differing from the one
  before, within the medication's life. A row without history has had its dose since its start.
  Clients may also record a dose change as a stop and a new row of the same name (case-
  insensitive) starting on the stop day or the day after; both readings are understood (see
  ``medications.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True)
class SeriesInfo:
    """A treatment series' id and the lengths of its baseline and follow-up periods."""

    id: UUID
    baseline_days: int = 28
    follow_up_days: int = 84

    def __post_init__(self) -> None:
        if self.baseline_days < 1 or self.follow_up_days < 1:
            raise ValueError("baseline_days and follow_up_days must be at least 1")


@dataclass(frozen=True)
class EpisodeRow:
    """One live episode: an attack, or a volley of ``attack_count`` attacks logged together."""

    local_day: date
    attack_count: int
    intensity: int
    duration_seconds: int
    triggers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckinRow:
    """One daily check-in; ``day`` is its calendar date."""

    day: date
    no_attacks: bool
    bni: str | None = None
    background_pain: int | None = None


@dataclass(frozen=True)
class SessionRow:
    """One treatment session; ``adverse_effects`` holds ``(effect, severity)`` pairs."""

    id: UUID
    local_day: date
    completed: bool = True
    pain_before: int | None = None
    pain_after: int | None = None
    adverse_effects: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AssessmentRow:
    """One questionnaire result with its server-computed total."""

    instrument: str
    local_day: date
    taken_at: datetime
    total: int


@dataclass(frozen=True)
class MedicationRow:
    """One maintenance medication row with its current dose (history: ``MedicationDoseRow``)."""

    id: UUID
    name: str
    dose_mg_per_day: float
    started_on: date
    stopped_on: date | None = None


@dataclass(frozen=True)
class MedicationDoseRow:
    """From ``effective_on`` on, medication ``medication_id`` was taken at this dose.

    ``recorded_at`` orders entries of one day: the last one recorded is that day's dose.
    """

    medication_id: UUID
    effective_on: date
    dose_mg_per_day: float
    recorded_at: datetime


@dataclass(frozen=True)
class TrendInputs:
    """Everything ``compute_trend`` needs; ``timezone`` is only echoed into the result."""

    series: SeriesInfo
    timezone: str
    as_of: date
    sessions: tuple[SessionRow, ...] = ()
    episodes: tuple[EpisodeRow, ...] = ()
    checkins: tuple[CheckinRow, ...] = ()
    assessments: tuple[AssessmentRow, ...] = ()
    medications: tuple[MedicationRow, ...] = ()
    medication_doses: tuple[MedicationDoseRow, ...] = ()
