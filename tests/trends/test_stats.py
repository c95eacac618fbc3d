"""Comparisons with the reference baseline: change, category, rate ratio, block p-values,
responder (API.md, Trends: comparisons and responder)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import pytest
from scipy.stats import mannwhitneyu

from app.trends import compute_trend
from app.trends.metrics import DiaryIndex, RangeSummary, summarise
from app.trends.stats import (
    Comparison,
    block_p_value,
    change_pct,
    compare,
    immpact_category,
    is_responder,
    rate_ratio,
)
from tests.trends.builders import (
    daily,
    day,
    episode,
    medication,
    no_attacks,
    other,
    session,
    trend_inputs,
)


def summary_of(attacks: Sequence[int | None], first: int = 0) -> RangeSummary:
    """A range of len(attacks) days from day ``first``; None = a missing day, 0 = no attacks."""
    episodes = [episode(first + d, n) for d, n in enumerate(attacks) if n]
    checkins = [no_attacks(first + d) for d, n in enumerate(attacks) if n == 0]
    index = DiaryIndex.build(episodes, checkins)
    return summarise(index, day(first), day(first + len(attacks) - 1))


@pytest.mark.parametrize(
    ("change", "category"),
    [
        (-100, "substantial"), (-50, "substantial"), (Fraction(-4999, 100), "moderate"),
        (-30, "moderate"), (Fraction(-2999, 100), "minimal"), (-10, "minimal"),
        (Fraction(-999, 100), "no_change"), (0, "no_change"), (Fraction(999, 100), "no_change"),
        (10, "worse"), (250, "worse"), (None, None),
    ],
)  # fmt: skip
def test_immpact_categories(change: Fraction | int | None, category: str | None) -> None:
    assert immpact_category(None if change is None else Fraction(change)) == category


@pytest.mark.parametrize(
    ("baseline", "value", "change", "ratio"),
    [
        (Fraction(4), Fraction(1), Fraction(-75), Fraction(1, 4)),
        (Fraction(4), Fraction(6), Fraction(50), Fraction(3, 2)),
        (Fraction(0), Fraction(1), None, None),  # baseline 0: no change, no ratio
        (None, Fraction(1), None, None),
        (Fraction(2), None, None, None),
    ],
)
def test_change_pct_and_rate_ratio(
    baseline: Fraction | None,
    value: Fraction | None,
    change: Fraction | None,
    ratio: Fraction | None,
) -> None:
    assert change_pct(baseline, value) == change
    assert rate_ratio(baseline, value) == ratio


def test_comparisons_use_the_reference_baseline() -> None:
    # 28 days at 6 a day before the first series (day 0), 2 a day after its booster (day 100).
    inputs = trend_inputs(
        160, sessions=(session(100),), baseline_days=28,
        episodes=[*daily(range(-28, 0), 6), *daily(range(72, 100), 1), *daily(range(101, 161), 2)],
        others=[other(1, 0)],
    )  # fmt: skip
    result = compute_trend(inputs)
    apd = [c for c in result.comparisons if c.metric == "attacks_per_day"]
    assert {c.baseline for c in apd} == {6.0}  # not its own baseline's 1.0
    follow_up_1 = next(c for c in apd if c.window == "follow_up_1")
    assert follow_up_1.value == 2.0
    assert follow_up_1.change_pct == pytest.approx(-200 / 3)
    assert follow_up_1.rate_ratio == pytest.approx(1 / 3)
    assert follow_up_1.category == "substantial"


def test_comparisons_cover_treatment_and_follow_ups_only() -> None:
    result = compute_trend(trend_inputs(60, episodes=daily(range(-28, 61), 3)))
    windows = [c.window for c in result.comparisons]
    names = ("treatment", "follow_up_1", "follow_up_2", "follow_up_3")
    assert windows == [w for w in names for _ in range(3)]


@pytest.mark.parametrize(
    ("reference_days", "window_days", "has_category"),
    [(7, 7, True), (6, 28, False), (28, 6, False), (28, 1, False)],
)
def test_no_category_under_7_observed_days(
    reference_days: int, window_days: int, has_category: bool
) -> None:
    reference = summary_of([4] * reference_days)
    window = summary_of([1] * window_days, first=100)
    comparisons = compare(reference, "follow_up_1", window)
    assert all(c.change_pct is not None for c in comparisons)  # change is still given
    assert all((c.category is not None) is has_category for c in comparisons)


def test_one_observed_day_gets_no_category() -> None:
    # The case: a follow-up window of one observed day got "-53 % substantial".
    episodes = [*daily(range(-28, 0), 4), episode(10, 2)]
    result = compute_trend(trend_inputs(40, episodes=episodes))
    follow_up_1 = next(c for c in result.comparisons if c.window == "follow_up_1")
    assert follow_up_1.change_pct == -50.0
    assert follow_up_1.category is None


def test_p_value_is_mann_whitney_over_block_rates() -> None:
    reference = summary_of(
        [4, 5, 6, 4, 5, 6, 4] + [6] * 7 + [3, 3, 3, None, None, None, 9] + [5] * 7
    )
    window = summary_of([1] * 7 + [2] * 7 + [0, 1, 2, 3, 4, 5, 6] + [3, 3], first=100)
    (apd, mean, burden) = compare(reference, "follow_up_1", window)
    # Reference blocks: 34/7; 6; (3 + 3 + 3 + 9) / 4 observed days = 4.5; 5.
    # Window blocks: 1; 2; 21/7 = 3; the last has 2 observed days and does not count.
    expected = mannwhitneyu(
        [1.0, 2.0, 3.0], [34 / 7, 6.0, 4.5, 5.0], alternative="two-sided", method="asymptotic"
    ).pvalue
    assert apd.p_value == pytest.approx(expected)
    assert mean.p_value is None
    assert burden.p_value is None
    assert mean.rate_ratio is None
    assert burden.rate_ratio is None


def test_p_value_null_under_two_counting_blocks() -> None:
    reference = summary_of([4] * 14)
    assert compare(reference, "treatment", summary_of([1] * 9, 100))[0].p_value is None
    assert compare(reference, "treatment", summary_of([1] * 10, 100))[0].p_value is not None
    assert block_p_value([Fraction(1)], [Fraction(2), Fraction(3)]) is None
    assert block_p_value([Fraction(1), Fraction(2)], [Fraction(3)]) is None


def test_smallest_p_with_four_blocks_a_side_is_about_0_03() -> None:
    p_value = block_p_value([Fraction(n) for n in (1, 2, 3, 4)], [Fraction(n) for n in range(5, 9)])
    assert p_value == pytest.approx(0.0304, abs=1e-4)


def test_p_value_of_identical_blocks_is_what_scipy_says() -> None:
    same = [Fraction(2)] * 4
    assert block_p_value(same, same) == 1.0


def test_responder_at_50_pct_fewer_attacks_than_the_reference() -> None:
    reference = summary_of([4] * 28)
    assert is_responder(reference, summary_of([2] * 28, 100)) is True  # exactly 50 %
    assert is_responder(reference, summary_of([3] * 28, 100)) is False


def test_responder_null_when_its_category_is() -> None:
    assert is_responder(summary_of([4] * 6), summary_of([0] * 28, 100)) is None
    assert is_responder(summary_of([4] * 28), summary_of([0] * 6, 100)) is None
    assert is_responder(summary_of([0] * 28), summary_of([0] * 28, 100)) is None  # B = 0


@pytest.mark.parametrize(("as_of", "expected"), [(37, None), (38, True), (80, True)])
def test_responder_null_until_h_prime_reaches_end_plus_28(
    as_of: int, expected: bool | None
) -> None:
    inputs = trend_inputs(
        as_of, sessions=(session(0), session(10)),
        episodes=[*daily(range(-28, 0), 4), *daily(range(11, 81), 1)],
    )  # fmt: skip
    assert compute_trend(inputs).responder is expected


def test_responder_null_when_a_medication_start_cuts_h_prime_inside_follow_up_1() -> None:
    episodes = [*daily(range(-28, 0), 4), *daily(range(1, 81), 1)]
    started = medication(1, "Carbamazepine", 200, started=20)
    inputs = trend_inputs(80, episodes=episodes, medications=[started])
    assert compute_trend(inputs).responder is None
    late = medication(1, "Carbamazepine", 200, started=40)  # H' = 39 >= end + 28
    assert compute_trend(trend_inputs(80, episodes=episodes, medications=[late])).responder


def test_responder_null_when_the_next_series_starts_inside_follow_up_1() -> None:
    episodes = [*daily(range(-28, 0), 4), *daily(range(1, 81), 1)]
    inputs = trend_inputs(80, episodes=episodes, others=[other(1, 20)])
    assert compute_trend(inputs).responder is None


def test_comparison_fields_are_the_contract() -> None:
    assert list(Comparison.__dataclass_fields__) == [
        "window", "metric", "baseline", "value", "change_pct", "category", "p_value", "rate_ratio",
    ]  # fmt: skip


def test_tied_blocks_can_go_below_0_03_as_scipy_computes_it() -> None:
    # Four identical weeks on each side: the tie correction shrinks the variance.
    tied = block_p_value([Fraction(1)] * 4, [Fraction(6)] * 4)
    expected = mannwhitneyu([1.0] * 4, [6.0] * 4, alternative="two-sided", method="asymptotic")
    assert tied == pytest.approx(expected.pvalue)
    assert tied is not None
    assert tied < 0.03
