"""Comparisons against the baseline: change, IMMPACT category, Mann-Whitney p, bootstrap CI."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal
from uuid import UUID

import numpy as np
from scipy.stats import mannwhitneyu

from app.trends.metrics import RangeSummary, as_float

BOOTSTRAP_RESAMPLES = 2000
COMPARED_METRICS = ("attacks_per_day", "mean_intensity", "pain_burden_per_day")
RESPONDER_REDUCTION_PCT = 50

Category = Literal["substantial", "moderate", "minimal", "no_change", "worse"]


def bootstrap_seed(series_id: UUID) -> int:
    """The bootstrap seed of a series: the same report always gets the same interval."""
    return series_id.int % 2**63


def bootstrap_ci(daily_attacks: Sequence[int], seed: int) -> tuple[float, float] | None:
    """Percentile 95 % interval of the mean daily attacks; ``None`` under 2 observed days.

    Each window gets a fresh generator from ``seed``, so a window's interval does not depend on
    which other windows exist (a later ``as_of`` never changes the baseline's interval).
    """
    if len(daily_attacks) < 2:
        return None
    rng = np.random.default_rng(seed)
    sample = np.asarray(daily_attacks, dtype=np.float64)
    picks = rng.integers(0, len(sample), size=(BOOTSTRAP_RESAMPLES, len(sample)))
    means = sample[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def mann_whitney_p(window: Sequence[int], baseline: Sequence[int]) -> float | None:
    """Two-sided asymptotic Mann-Whitney U p-value of per-observed-day attack counts.

    ``None`` when either sample is empty. When every value of both samples is the same, the
    samples are indistinguishable and the rank variance is zero: the p-value is 1.0 (SciPy 1.17
    says so too; older releases returned NaN). Any other non-finite result becomes ``None`` so a
    NaN never reaches JSON.
    """
    if not window or not baseline:
        return None
    if len({*window, *baseline}) == 1:
        return 1.0
    result = mannwhitneyu(window, baseline, alternative="two-sided", method="asymptotic")
    p_value = float(result.pvalue)
    return p_value if math.isfinite(p_value) else None


def change_pct(baseline: Fraction | None, value: Fraction | None) -> Fraction | None:
    """``100 x (value - baseline) / baseline``; ``None`` when baseline is 0 or either is null."""
    if baseline is None or value is None or baseline == 0:
        return None
    return 100 * (value - baseline) / baseline


def immpact_category(change: Fraction | None) -> Category | None:
    """The IMMPACT category of a change, judged on the exact reduction ``r = -change``."""
    if change is None:
        return None
    reduction = -change
    if reduction >= 50:
        return "substantial"
    if reduction >= 30:
        return "moderate"
    if reduction >= 10:
        return "minimal"
    if reduction > -10:
        return "no_change"
    return "worse"


@dataclass(frozen=True)
class Comparison:
    """One window x metric against the baseline; field names are the contract's JSON names."""

    window: str
    metric: str
    baseline: float | None
    value: float | None
    change_pct: float | None
    category: Category | None
    p_value: float | None


def compare(
    baseline: RangeSummary, window_name: str, window: RangeSummary
) -> tuple[Comparison, ...]:
    """The three comparisons of one non-baseline window."""
    comparisons: list[Comparison] = []
    for metric in COMPARED_METRICS:
        before, after = baseline.exact(metric), window.exact(metric)
        change = change_pct(before, after)
        p_value = None
        if metric == "attacks_per_day":
            p_value = mann_whitney_p(window.daily_attacks, baseline.daily_attacks)
        comparisons.append(
            Comparison(
                window=window_name,
                metric=metric,
                baseline=as_float(before),
                value=as_float(after),
                change_pct=as_float(change),
                category=immpact_category(change),
                p_value=p_value,
            )
        )
    return tuple(comparisons)


def is_responder(baseline_rate: Fraction | None, follow_up_rate: Fraction | None) -> bool | None:
    """At least 50 % fewer attacks per observed day than at baseline; ``None`` if undefined."""
    change = change_pct(baseline_rate, follow_up_rate)
    return None if change is None else -change >= RESPONDER_REDUCTION_PCT
