"""Rows the loader hands to the pure trend code.

The loader (``load.py``) reads only the day ranges the series' windows need (see
``plan.diary_ranges``) and converts plain Core rows into these frozen dataclasses. An episode's
or session's ``local_day`` is the calendar date of its ``started_at`` in the UTC offset it was
written with (``days.local_day_at_offset``): the day the patient lived; an assessment's, in the
patient's time zone (``days.local_day``). The pure code never sees a time zone. Rows after
``as_of`` may be passed: they are ignored.

What the loader must pass:
- ``sessions``: every live session of the series, completed or not.
- ``other_series``: the patient's other live series with the local days of their live completed
  sessions (courses, the horizon and the ``other_treatment`` flag need them).
- ``episodes`` and ``checkins``: live rows on the days of ``plan.diary_ranges`` (more is fine).
- ``assessments``: the patient's live assessments from the reference baseline's start to
  ``as_of``.
- ``medications``: the patient's live medications taken on a day of the diary ranges, each with
  its dose history (``doses``, oldest first; empty = one dose, ``dose_mg_per_day``, since
  ``started_on``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID


@dataclass(frozen=True)
class SeriesInfo:
    """A treatment series: its id, period lengths and course settings."""

    id: UUID
    baseline_days: int = 28
    follow_up_days: int = 84
    new_course: bool | None = None
    planned_start: date | None = None

    def __post_init__(self) -> None:
        if self.baseline_days < 1 or self.follow_up_days < 1:
            raise ValueError("baseline_days and follow_up_days must be at least 1")


@dataclass(frozen=True)
class OtherSeries:
    """Another series of the same patient and the local days of its completed sessions."""

    series: SeriesInfo
    completed_days: tuple[date, ...] = ()


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
class Vitals:
    """A session's recorded extremes; each ``None`` when not recorded."""

    systolic_max: int | None = None
    diastolic_max: int | None = None
    heart_rate_max: int | None = None
    spo2_min: int | None = None


NO_VITALS = Vitals()


@dataclass(frozen=True)
class SessionRow:
    """One treatment session; ``adverse_effects`` holds ``(effect, severity)`` pairs."""

    id: UUID
    local_day: date
    completed: bool = True
    pain_before: int | None = None
    pain_after: int | None = None
    adverse_effects: tuple[tuple[str, str], ...] = ()
    dose_mg_per_kg: float | None = None
    vitals: Vitals = NO_VITALS


@dataclass(frozen=True)
class AssessmentRow:
    """One questionnaire result with its server-computed total."""

    instrument: str
    local_day: date
    taken_at: datetime
    total: int


@dataclass(frozen=True)
class DoseEntry:
    """From ``from_day`` on, the medication was taken at ``mg_per_day``."""

    from_day: date
    mg_per_day: float


@dataclass(frozen=True)
class MedicationRow:
    """One maintenance medication with its dose history (``doses``, oldest first)."""

    id: UUID
    name: str
    dose_mg_per_day: float
    started_on: date
    stopped_on: date | None = None
    doses: tuple[DoseEntry, ...] = ()


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
    other_series: tuple[OtherSeries, ...] = ()
