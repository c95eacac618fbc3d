"""Duration of relief after a series: how long attack rates stay under half the baseline rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from app.trends.days import ONE_DAY, day_range
from app.trends.metrics import DiaryIndex, summarise

RELIEF_SPAN_DAYS = 7
RELIEF_MIN_OBSERVED_DAYS = 3


@dataclass(frozen=True)
class Relief:
    """``duration_days`` and ``ongoing`` (censored at the last day looked at); both or neither."""

    duration_days: int | None
    ongoing: bool | None


NO_RELIEF = Relief(duration_days=None, ongoing=None)


def rolling_rate(index: DiaryIndex, first_day: date, day: date) -> Fraction | None:
    """R(d): attacks per observed day over ``[max(first_day, d - 6), d]``.

    ``None`` (undefined) when that range has fewer than 3 observed days.
    """
    start = max(first_day, day - timedelta(days=RELIEF_SPAN_DAYS - 1))
    summary = summarise(index, start, day)
    if summary.observed_days < RELIEF_MIN_OBSERVED_DAYS:
        return None
    return summary.attacks_per_day


def relief_duration(
    index: DiaryIndex, baseline_rate: Fraction | None, end: date, last_day: date
) -> Relief:
    """Relief after the last session on ``end``, looking at days ``end + 1 .. last_day``.

    ``last_day`` is the last follow-up day not after ``as_of``. Relief ends on the first day d
    whose R(d) is at least half the baseline rate B: its duration is ``d - (end + 1)``. If it never
    ends, the duration is ``last_day - end`` and relief is ongoing. Both are ``None`` when B is 0
    or unknown, or when no R(d) is defined.
    """
    if not baseline_rate:
        return NO_RELIEF
    first_day = end + ONE_DAY
    any_defined = False
    for day in day_range(first_day, last_day):
        rate = rolling_rate(index, first_day, day)
        if rate is None:
            continue
        any_defined = True
        if rate >= baseline_rate / 2:
            return Relief(duration_days=(day - first_day).days, ongoing=False)
    if not any_defined:
        return NO_RELIEF
    return Relief(duration_days=(last_day - end).days, ongoing=True)
