"""The windows of a trend report and the horizon that cuts the follow-up.

baseline = [start - baseline_days, start - 1]; reference_baseline (boosters) = the course's
first series' baseline; treatment = [start, end]; follow_up_1..k = consecutive 28-day blocks
from end + 1, all cut at the horizon H = min(end + follow_up_days, next_start - 1, as_of).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from app.trends.days import ONE_DAY, inclusive_days

FOLLOW_UP_BLOCK_DAYS = 28
BASELINE = "baseline"
REFERENCE_BASELINE = "reference_baseline"
TREATMENT = "treatment"
FOLLOW_UP_PREFIX = "follow_up_"
FIRST_FOLLOW_UP = "follow_up_1"

# Why the look at a series stops; on a tie the first of this order names it (API.md, Relief).
CensorReason = Literal["as_of", "follow_up_end", "next_series", "medication_change", "data_gap"]
BOUND_ORDER: tuple[CensorReason, ...] = (
    "as_of",
    "follow_up_end",
    "next_series",
    "medication_change",
)


class NoCompletedSession(Exception):
    """The series has no completed session up to ``as_of``: there is nothing to report yet."""


@dataclass(frozen=True)
class Window:
    """An inclusive day range ``[start, end]`` with its contract name."""

    name: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window {self.name} ends before it starts")

    @property
    def days(self) -> int:
        return inclusive_days(self.start, self.end)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Bound:
    """The last day looked at, and which limit set it."""

    day: date
    reason: CensorReason


def earliest(bounds: Iterable[Bound]) -> Bound:
    """The earliest bound; on a tie the one whose reason comes first in ``BOUND_ORDER``."""
    return min(bounds, key=lambda bound: (bound.day, BOUND_ORDER.index(bound.reason)))


def horizon(end: date, follow_up_days: int, next_start: date | None, as_of: date) -> Bound:
    """H = min(end + follow_up_days, next_start - 1, as_of), with the limit that set it."""
    bounds = [Bound(as_of, "as_of"), Bound(end + timedelta(days=follow_up_days), "follow_up_end")]
    if next_start is not None:
        bounds.append(Bound(next_start - ONE_DAY, "next_series"))
    return earliest(bounds)


def baseline_window(name: str, start: date, baseline_days: int) -> Window:
    """The ``baseline_days`` days before ``start``."""
    return Window(name, start - timedelta(days=baseline_days), start - ONE_DAY)


def follow_up_windows(end: date, last_day: date) -> tuple[Window, ...]:
    """Consecutive 28-day blocks from ``end + 1``, the last one cut at ``last_day`` (H)."""
    blocks: list[Window] = []
    first = end + ONE_DAY
    while first <= last_day:
        last = min(first + timedelta(days=FOLLOW_UP_BLOCK_DAYS - 1), last_day)
        blocks.append(Window(f"{FOLLOW_UP_PREFIX}{len(blocks) + 1}", first, last))
        first = last + ONE_DAY
    return tuple(blocks)


def window_name_of(windows: Iterable[Window], day: date) -> str | None:
    """The name of the first window holding ``day``, or ``None`` outside all of them."""
    return next((window.name for window in windows if window.contains(day)), None)
