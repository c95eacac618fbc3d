"""Relief across patients: Kaplan-Meier through SciPy (``scipy.stats.ecdf``), never by hand.

A censored relief of 40 days means "at least 40": a plain median of such values would
understate relief, so ended reliefs are events and ongoing or censored ones are right-censored
at their ``duration_days``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scipy.stats import CensoredData, ecdf

MEDIAN_SURVIVAL = 0.5


@dataclass(frozen=True)
class ReliefSurvival:
    """``{n, events, median_days, median_ci95}``; the last two ``None`` when n is 0."""

    n: int
    events: int
    median_days: float | None
    median_ci95: tuple[float | None, float | None] | None


def _first_at_or_below(times: Sequence[float], survival: Sequence[float]) -> float | None:
    """The least time where ``survival`` is ≤ 0.5 (an undefined, NaN bound never is)."""
    return next(
        (
            float(time)
            for time, value in zip(times, survival, strict=True)
            if math.isfinite(value) and value <= MEDIAN_SURVIVAL
        ),
        None,
    )


def relief_survival(reliefs: Iterable[tuple[int, bool]]) -> ReliefSurvival:
    """Kaplan-Meier over ``(duration_days, ended)`` pairs of the reliefs with an onset."""
    pairs = list(reliefs)
    if not pairs:
        return ReliefSurvival(0, 0, None, None)
    events = [days for days, ended in pairs if ended]
    censored = [days for days, ended in pairs if not ended]
    survival = ecdf(CensoredData(uncensored=events, right=censored)).sf
    with warnings.catch_warnings():
        # "The confidence interval is undefined at some observations": those bounds are NaN,
        # and a NaN bound never reaches 0.5 (its end of the interval is then null).
        warnings.simplefilter("ignore", RuntimeWarning)
        interval = survival.confidence_interval(method="linear")
    return ReliefSurvival(
        n=len(pairs),
        events=len(events),
        median_days=_first_at_or_below(survival.quantiles, survival.probabilities),
        median_ci95=(
            _first_at_or_below(interval.low.quantiles, interval.low.probabilities),
            _first_at_or_below(interval.high.quantiles, interval.high.probabilities),
        ),
    )


@dataclass(frozen=True)
class ReliefCurve:
    """The Kaplan-Meier step function of relief: ``survival[i]`` is the share still in relief
    just after day ``times[i]`` (event days only, ascending; before the first, 1.0).
    ``censored`` are the censored durations with the curve's value there, for tick marks;
    ``last_day`` is the longest duration looked at (where the curve stops being known)."""

    n: int
    times: tuple[float, ...]
    survival: tuple[float, ...]
    censored: tuple[tuple[float, float], ...]
    last_day: float

    def at(self, day: float) -> float:
        """The share still in relief after ``day``."""
        value = 1.0
        for time, share in zip(self.times, self.survival, strict=True):
            if time > day:
                break
            value = share
        return value


def relief_curve(reliefs: Iterable[tuple[int, bool]]) -> ReliefCurve:
    """The Kaplan-Meier curve (SciPy's) over ``(duration_days, ended)`` pairs."""
    pairs = list(reliefs)
    if not pairs:
        return ReliefCurve(0, (), (), (), 0.0)
    events = [days for days, ended in pairs if ended]
    censored = sorted(days for days, ended in pairs if not ended)
    survival = ecdf(CensoredData(uncensored=events, right=censored)).sf
    times = tuple(float(time) for time in survival.quantiles)
    shares = tuple(float(value) for value in survival.probabilities)
    if not events:  # SciPy then reports the censoring times at 1.0: no step at all
        times, shares = (), ()
    curve = ReliefCurve(len(pairs), times, shares, (), float(max(days for days, _ in pairs)))
    return ReliefCurve(
        curve.n,
        curve.times,
        curve.survival,
        tuple((float(days), curve.at(days)) for days in censored),
        curve.last_day,
    )
