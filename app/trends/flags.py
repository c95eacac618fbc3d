"""Baseline flags (how far a baseline can be trusted) and baseline readiness for planning."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Literal

from app.trends.days import ONE_DAY
from app.trends.medications import MedicationEvent, events_between
from app.trends.metrics import DiaryIndex, summarise
from app.trends.windows import Window

Flag = Literal[
    "short",
    "low_coverage",
    "selective_logging",
    "rising",
    "other_treatment",
    "medication_change",
    "old_reference",
    "medication_since_reference",
]
MIN_OBSERVED_DAYS = 7
LOW_COVERAGE = 0.5
SELECTIVE_COVERAGE = 0.8
RISING_FACTOR = 1.5
HALF_MIN_OBSERVED_DAYS = 3
OLD_REFERENCE_DAYS = 365


def rising(index: DiaryIndex, window: Window) -> bool:
    """The later half's attacks per day ≥ 1.5 x the earlier half's, both halves with ≥ 3
    observed days (halves: the first ⌊days / 2⌋ days and the rest). A later half without
    attacks never rises, even after an earlier half without attacks."""
    middle = window.start + timedelta(days=window.days // 2)
    earlier = summarise(index, window.start, middle - ONE_DAY)
    later = summarise(index, middle, window.end)
    if min(earlier.observed_days, later.observed_days) < HALF_MIN_OBSERVED_DAYS:
        return False
    earlier_rate, later_rate = earlier.attacks_per_day, later.attacks_per_day
    # Both halves have observed days, so both rates exist.
    assert earlier_rate is not None
    assert later_rate is not None
    return later_rate > 0 and later_rate >= RISING_FACTOR * earlier_rate


def baseline_flags(
    index: DiaryIndex,
    window: Window,
    *,
    other_session_days: Iterable[date],
    events: Iterable[MedicationEvent],
    booster_start: date | None = None,
    short_applies: bool = True,
) -> tuple[Flag, ...]:
    """The flags of a baseline ``window``, in the contract's order.

    ``other_session_days``: completed sessions of the patient's other series.
    ``booster_start``: for a booster, its start (adds the two flags about the time since).
    """
    events = tuple(events)
    summary = summarise(index, window.start, window.end)
    coverage = summary.observed_days / window.days
    flags: list[Flag] = []
    if short_applies and summary.observed_days < MIN_OBSERVED_DAYS:
        flags.append("short")
    if coverage < LOW_COVERAGE:
        flags.append("low_coverage")
    if coverage < SELECTIVE_COVERAGE and summary.pain_free_days == 0:
        flags.append("selective_logging")
    if rising(index, window):
        flags.append("rising")
    if any(window.contains(day) for day in other_session_days):
        flags.append("other_treatment")
    if events_between(events, window.start, window.end):
        flags.append("medication_change")
    if booster_start is not None:
        if (booster_start - window.end).days > OLD_REFERENCE_DAYS:
            flags.append("old_reference")
        if events_between(events, window.end + ONE_DAY, booster_start - ONE_DAY):
            flags.append("medication_since_reference")
    return tuple(flags)
