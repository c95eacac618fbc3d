"""Change from baseline, IMMPACT categories, Mann-Whitney p-values, bootstrap intervals."""

from __future__ import annotations

import math
from fractions import Fraction
from types import SimpleNamespace
from uuid import UUID

import pytest
from scipy.stats import mannwhitneyu

from app.trends import Comparison
from app.trends import stats as stats_module
from app.trends.metrics import DiaryIndex, RangeSummary, summarise
from app.trends.stats import (
    bootstrap_ci,
    bootstrap_seed,
    change_pct,
    compare,
    immpact_category,
    is_responder,
    mann_whitney_p,
)
from tests.trends.builders import day, episode, no_attacks

F = Fraction


@pytest.mark.parametrize(
    ("baseline", "value", "expected"),
    [
        (F(2), F(1), F(-50)),
        (F(4), F(5), F(25)),
        (F(1, 3), F(1, 6), F(-50)),  # floats would say -49.99999999999999
        (F(3), F(0), F(-100)),
        (F(3), F(3), F(0)),
        (F(0), F(1), None),  # no change from a zero baseline
        (F(0), F(0), None),
        (None, F(1), None),
        (F(1), None, None),
        (None, None, None),
    ],
)
def test_change_pct(baseline: F | None, value: F | None, expected: F | None) -> None:
    assert change_pct(baseline, value) == expected


@pytest.mark.parametrize(
    ("change", "category"),
    [
        (F(-100), "substantial"),
        (F(-50), "substantial"),
        (F(-4999, 100), "moderate"),
        (F(-30), "moderate"),
        (F(-2999, 100), "minimal"),
        (F(-10), "minimal"),
        (F(-999, 100), "no_change"),
        (F(0), "no_change"),
        (F(999, 100), "no_change"),
        (F(10), "worse"),
        (F(250), "worse"),
        (None, None),
    ],
)
def test_immpact_category(change: F | None, category: str | None) -> None:
    assert immpact_category(change) == category


def summary_of(daily_attacks: list[int], intensity: int = 5) -> RangeSummary:
    """A range whose observed days have these attack counts (0: a "no attacks" check-in)."""
    episodes = [episode(i, n, intensity) for i, n in enumerate(daily_attacks) if n]
    checkins = [no_attacks(i) for i, n in enumerate(daily_attacks) if not n]
    return summarise(DiaryIndex.build(episodes, checkins), day(0), day(len(daily_attacks) + 3))


def test_compare_hand_computed() -> None:
    baseline = summary_of([4, 4, 4, 4], intensity=8)  # 4/day, intensity 8, burden 32/day
    follow_up = summary_of([1, 2, 0, 1], intensity=6)  # 1/day, intensity 6, burden 6/day
    expected_p = float(
        mannwhitneyu(
            [1, 2, 0, 1], [4, 4, 4, 4], alternative="two-sided", method="asymptotic"
        ).pvalue
    )
    assert compare(baseline, "follow_up_1", follow_up) == (
        Comparison("follow_up_1", "attacks_per_day", 4.0, 1.0, -75.0, "substantial", expected_p),
        Comparison("follow_up_1", "mean_intensity", 8.0, 6.0, -25.0, "minimal", None),
        Comparison("follow_up_1", "pain_burden_per_day", 32.0, 6.0, -81.25, "substantial", None),
    )
    assert 0 < expected_p < 0.05


def test_compare_halving_a_third_is_substantial_exactly() -> None:
    # 1 attack over 3 observed days, then 1 over 6: exactly -50 %, which float arithmetic misses.
    baseline, follow_up = summary_of([1, 0, 0]), summary_of([1, 0, 0, 0, 0, 0])
    attacks = compare(baseline, "follow_up_1", follow_up)[0]
    assert (attacks.change_pct, attacks.category) == (-50.0, "substantial")
    assert is_responder(baseline.attacks_per_day, follow_up.attacks_per_day) is True


def test_compare_with_a_zero_or_empty_baseline() -> None:
    for baseline in (summary_of([0, 0, 0]), summary_of([])):
        for comparison in compare(baseline, "treatment", summary_of([3, 1])):
            assert comparison.change_pct is None
            assert comparison.category is None
    zero = compare(summary_of([0, 0, 0]), "treatment", summary_of([3, 1]))
    assert zero[0].baseline == 0.0
    assert zero[0].p_value is not None  # both samples exist, so the test still runs
    assert zero[1].baseline is None  # no episode: no mean intensity
    empty = compare(summary_of([]), "treatment", summary_of([3, 1]))
    assert empty[0].baseline is None
    assert empty[0].p_value is None


def test_compare_with_an_empty_window() -> None:
    comparisons = compare(summary_of([3, 3]), "follow_up_2", summary_of([]))
    assert [c.metric for c in comparisons] == [
        "attacks_per_day",
        "mean_intensity",
        "pain_burden_per_day",
    ]
    assert all(c.value is None and c.change_pct is None and c.p_value is None for c in comparisons)


@pytest.mark.parametrize(
    ("window", "baseline", "expected"),
    [
        ([], [1, 2], None),
        ([1, 2], [], None),
        ([], [], None),
        ([0, 0, 0], [0, 0], 1.0),  # indistinguishable samples (older SciPy: NaN)
        ([3], [3], 1.0),
    ],
)
def test_mann_whitney_edge_cases(
    window: list[int], baseline: list[int], expected: float | None
) -> None:
    assert mann_whitney_p(window, baseline) == expected


@pytest.mark.parametrize(
    ("window", "baseline"),
    [([1, 2, 3], [4, 5, 6]), ([0, 0, 1], [5, 7, 9, 2]), ([1], [3]), ([2, 2, 2, 3], [2, 2, 2, 2])],
)
def test_mann_whitney_is_scipys_asymptotic_two_sided_test(
    window: list[int], baseline: list[int]
) -> None:
    expected = mannwhitneyu(window, baseline, alternative="two-sided", method="asymptotic").pvalue
    assert mann_whitney_p(window, baseline) == pytest.approx(float(expected), abs=0, rel=1e-12)


def test_mann_whitney_never_returns_nan(monkeypatch: pytest.MonkeyPatch) -> None:
    def nan_result(*_args: object, **_kwargs: object) -> SimpleNamespace:
        return SimpleNamespace(statistic=math.nan, pvalue=math.nan)

    monkeypatch.setattr(stats_module, "mannwhitneyu", nan_result)
    assert mann_whitney_p([1, 2], [3, 4]) is None


def test_bootstrap_needs_two_observed_days() -> None:
    assert bootstrap_ci([], 1) is None
    assert bootstrap_ci([7], 1) is None
    assert bootstrap_ci([7, 7], 1) == (7.0, 7.0)


def test_bootstrap_is_reproducible_and_brackets_the_mean() -> None:
    sample = [0, 3, 8, 1, 12, 5, 0, 2, 9, 4]
    first = bootstrap_ci(sample, bootstrap_seed(UUID(int=42)))
    assert first == bootstrap_ci(sample, bootstrap_seed(UUID(int=42)))
    assert first is not None
    low, high = first
    assert min(sample) <= low < sum(sample) / len(sample) < high <= max(sample)
    # A 95 % interval of the mean is roughly mean +- 2 standard errors (sd 4.0 / sqrt(10)).
    assert 4.4 - 3.0 < low < 4.4 - 1.8
    assert 4.4 + 1.8 < high < 4.4 + 3.0
    assert bootstrap_ci(sample, bootstrap_seed(UUID(int=43))) != first


def test_bootstrap_seed_fits_in_63_bits() -> None:
    assert bootstrap_seed(UUID(int=2**63 + 5)) == 5
    assert bootstrap_seed(UUID(int=2**128 - 1)) == 2**63 - 1


@pytest.mark.parametrize(
    ("baseline", "follow_up", "expected"),
    [
        (F(4), F(2), True),
        (F(4), F(0), True),
        (F(4), F(201, 100), False),
        (F(4), F(5), False),
        (F(0), F(0), None),
        (None, F(1), None),
        (F(4), None, None),
    ],
)
def test_is_responder(baseline: F | None, follow_up: F | None, expected: bool | None) -> None:
    assert is_responder(baseline, follow_up) is expected
