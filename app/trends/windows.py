"""The windows of a trend report: baseline, treatment and 28-day follow-up blocks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from app.trends.days import ONE_DAY, inclusive_days
from app.trends.inputs import SeriesInfo

FOLLOW_UP_BLOCK_DAYS = 28
BASELINE = "baseline"
TREATMENT = "treatment"


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


def follow_up_windows(end: date, follow_up_days: int) -> tuple[Window, ...]:
    """Consecutive 28-day blocks from ``end + 1``, the last one cut at ``end + follow_up_days``."""
    blocks: list[Window] = []
    for number, offset in enumerate(range(0, follow_up_days, FOLLOW_UP_BLOCK_DAYS), start=1):
        length = min(FOLLOW_UP_BLOCK_DAYS, follow_up_days - offset)
        first = end + timedelta(days=offset + 1)
        blocks.append(Window(f"follow_up_{number}", first, first + timedelta(days=length - 1)))
    return tuple(blocks)


def series_windows(series: SeriesInfo, start: date, end: date) -> tuple[Window, ...]:
    """All windows of a series whose first completed session is on ``start``, last on ``end``."""
    baseline = Window(BASELINE, start - timedelta(days=series.baseline_days), start - ONE_DAY)
    treatment = Window(TREATMENT, start, end)
    return (baseline, treatment, *follow_up_windows(end, series.follow_up_days))


def clip_windows(windows: Iterable[Window], as_of: date) -> tuple[Window, ...]:
    """Each window cut at ``as_of``; a window is dropped only when no day of it is left."""
    return tuple(
        Window(window.name, window.start, min(window.end, as_of))
        for window in windows
        if window.start <= as_of
    )


def session_span(completed_session_days: Iterable[date], as_of: date) -> tuple[date, date]:
    """``(start, end)``: the first and last local day of a completed session up to ``as_of``."""
    days = [day for day in completed_session_days if day <= as_of]
    if not days:
        raise NoCompletedSession("no completed session up to as_of")
    return min(days), max(days)


def window_range(
    series: SeriesInfo, completed_session_days: Iterable[date], as_of: date
) -> tuple[date, date]:
    """The inclusive local-day range the loader must read episodes and check-ins for.

    Raises ``NoCompletedSession`` when no completed session lies on or before ``as_of``.
    """
    start, end = session_span(completed_session_days, as_of)
    windows = clip_windows(series_windows(series, start, end), as_of)
    return windows[0].start, windows[-1].end


def window_name_of(windows: Iterable[Window], day: date) -> str | None:
    """The name of the window holding ``day``, or ``None`` outside all of them."""
    return next((window.name for window in windows if window.contains(day)), None)
