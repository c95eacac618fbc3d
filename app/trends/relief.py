"""Relief after a series as time to event: onset, end, or censoring (API.md, Relief).

R(d), for d after the last session (``end``), is attacks per observed day over
[max(end + 1, d - 6), d], defined when that range holds at least 3 observed days. B is the
reference baseline's attacks per day, H' the last day looked at (``Bound``). Onset and end each
need two consecutive weeks of evidence (R(d) and R(d + 7)), so one bad or good week decides
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from itertools import accumulate
from typing import Literal

from app.trends.days import ONE_DAY, day_range
from app.trends.metrics import DiaryIndex
from app.trends.windows import Bound, CensorReason

RELIEF_SPAN_DAYS = 7
RELIEF_MIN_OBSERVED_DAYS = 3
CONFIRM_DAYS = 7  # R(d + 7) must agree with R(d)
ONSET_SEARCH_DAYS = 21  # onset is looked for in [end + 1, end + 21]
ASSESSED_DAYS = 28  # no_relief needs H' >= end + 28 …
NO_RELIEF_MIN_DEFINED_DAYS = 14  # … and R(d) defined on 14 days of [end + 1, end + 28]

ReliefStatus = Literal["ended", "ongoing", "censored", "no_relief", "undetermined"]


@dataclass(frozen=True)
class Relief:
    """The relief object of the contract; field names are its JSON names."""

    status: ReliefStatus
    onset_day: date | None = None
    duration_days: int | None = None
    end_day: date | None = None
    last_observed_day: date | None = None
    censor_reason: CensorReason | None = None
    lowest_rate: float | None = None
    relief_rate: float | None = None
    depth_pct: float | None = None


class RollingRate:
    """R(d) for ``end < d <= last``, from running sums over the days after ``end``."""

    def __init__(self, index: DiaryIndex, end: date, last: date) -> None:
        self.first = end + ONE_DAY
        attacks: list[int] = []
        observed: list[int] = []
        for day in day_range(self.first, last):
            attacks.append(sum(row.attack_count for row in index.episodes_by_day.get(day, ())))
            observed.append(day in index.observed_days)
        self._attacks = [0, *accumulate(attacks)]
        self._observed = [0, *accumulate(observed)]

    def totals(self, first: date, last: date) -> tuple[int, int]:
        """Attacks and observed days over ``[first, last]`` (both after ``end``)."""
        low, high = (first - self.first).days, (last - self.first).days + 1
        return (
            self._attacks[high] - self._attacks[low],
            self._observed[high] - self._observed[low],
        )

    def __call__(self, day: date) -> Fraction | None:
        span_start = max(self.first, day - timedelta(days=RELIEF_SPAN_DAYS - 1))
        attacks, observed = self.totals(span_start, day)
        return Fraction(attacks, observed) if observed >= RELIEF_MIN_OBSERVED_DAYS else None


def relief(index: DiaryIndex, baseline_rate: Fraction, end: date, bound: Bound) -> Relief:
    """Relief after the last session on ``end`` with B = ``baseline_rate`` (> 0), looking at
    the days up to ``bound.day`` (H'); ``bound.reason`` names the limit that set H'."""
    last = bound.day
    rate = RollingRate(index, end, last)
    half = baseline_rate / 2

    def below(day: date) -> bool:
        value = rate(day)
        return value is not None and value < half

    def above(day: date) -> bool:
        value = rate(day)
        return value is not None and value >= half

    confirm = timedelta(days=CONFIRM_DAYS)
    onset_search = day_range(
        rate.first, min(end + timedelta(days=ONSET_SEARCH_DAYS), last - confirm)
    )
    onset = next((day for day in onset_search if below(day) and below(day + confirm)), None)
    if onset is None:
        return _without_onset(rate, end, bound)
    end_search = day_range(onset + ONE_DAY, last - confirm)
    ended = next((day for day in end_search if above(day) and above(day + confirm)), None)
    if ended is not None:
        last_relief = ended - ONE_DAY
        status: ReliefStatus = "ended"
        reason: CensorReason | None = None
        duration = (ended - rate.first).days
    else:
        last_relief = max(day for day in day_range(onset, last) if below(day))
        # An onset confirmed a week later means H' >= end + 8, so the last week is after end.
        last_week = day_range(last - timedelta(days=RELIEF_SPAN_DAYS - 1), last)
        silent = all(rate(day) is None for day in last_week)
        reason = "data_gap" if silent else bound.reason
        status = "ongoing" if reason == "as_of" else "censored"
        duration = (last_relief - end).days
    defined = (rate(day) for day in day_range(onset, last_relief))
    attacks, observed = rate.totals(rate.first, last_relief)
    relief_rate = Fraction(attacks, observed)
    return Relief(
        status=status,
        onset_day=onset,
        duration_days=duration,
        end_day=ended,
        last_observed_day=None if ended is not None else last_relief,
        censor_reason=reason,
        lowest_rate=float(min(value for value in defined if value is not None)),
        relief_rate=float(relief_rate),
        depth_pct=float(100 * (baseline_rate - relief_rate) / baseline_rate),
    )


def _without_onset(rate: RollingRate, end: date, bound: Bound) -> Relief:
    """``no_relief`` when four weeks were looked at with enough data, else ``undetermined``."""
    assessed = bound.day >= end + timedelta(days=ASSESSED_DAYS)
    if assessed:
        weeks = day_range(rate.first, end + timedelta(days=ASSESSED_DAYS))
        if sum(rate(day) is not None for day in weeks) >= NO_RELIEF_MIN_DEFINED_DAYS:
            return Relief("no_relief")
    return Relief("undetermined", censor_reason="data_gap" if assessed else bound.reason)
