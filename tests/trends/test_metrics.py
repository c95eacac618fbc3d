"""Per-window metrics: hand-computed tables, missing days, volleys, blocks, empty windows."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.trends import CheckinRow, EpisodeRow, Window, WindowMetrics
from app.trends.metrics import DiaryIndex, summarise, trigger_counts, window_metrics
from tests.trends.builders import checkin, day, episode, no_attacks

WEEK = Window("baseline", day(0), day(6))


def metrics_of(
    episodes: list[EpisodeRow], checkins: list[CheckinRow], window: Window = WEEK
) -> WindowMetrics:
    index = DiaryIndex.build(episodes, checkins)
    return window_metrics(window, summarise(index, window.start, window.end))


# day 0: a volley of 3 eating attacks and one spontaneous attack; day 1: "no attacks";
# day 2: a volley of 2 without triggers; day 3: check-in without no_attacks (missing day, but
# its BNI and background pain count); day 4: nothing; day 5: an episode and a contradicting
# "no attacks" check-in; day 6: nothing. Observed days: 0, 1, 2, 5.
EPISODES = [
    episode(0, attacks=3, intensity=6, duration=20, triggers=["eating"]),
    episode(0, attacks=1, intensity=8, duration=60, triggers=["spontaneous"]),
    episode(2, attacks=2, intensity=4, duration=10),
    episode(5, attacks=1, intensity=5, duration=40, triggers=["touch", "eating", "eating"]),
]
CHECKINS = [
    no_attacks(1),
    checkin(3, bni="IV", background=3),
    checkin(5, bni="II", background=5, no_attacks=True),
]


def test_hand_computed_week() -> None:
    assert metrics_of(EPISODES, CHECKINS) == WindowMetrics(
        name="baseline",
        start=day(0),
        end=day(6),
        days=7,
        observed_days=4,
        coverage=4 / 7,
        attacks=7,
        attacks_per_day=1.75,  # 7 attacks / 4 observed days: days 3, 4, 6 are missing, not 0
        weekly_rate_range=None,  # one 7-day block: no range
        mean_intensity=39 / 7,  # per attack: (6*3 + 8*1 + 4*2 + 5*1) / 7 attacks
        max_intensity=8,
        pain_burden_per_day=9.75,  # (6*3 + 8*1 + 4*2 + 5*1) / 4
        pain_free_days=1,  # day 1 only: day 5 has an episode despite its check-in
        median_duration_seconds=70 / 3,  # per attack: median of 5, 20/3, 40, 60
        attacks_per_28_days=49.0,
        spontaneous_attacks=3,  # the spontaneous one + the volley of 2 without triggers
        bni_controlled_fraction=0.5,  # II controlled, IV not
        worst_bni="IV",
        mean_background_pain=4.0,
        trigger_counts={"eating": 4, "spontaneous": 1, "touch": 1},  # attacks, not episodes
    )


def test_empty_window_has_null_rates_and_zero_counts() -> None:
    metrics = metrics_of([], [])
    assert (metrics.days, metrics.observed_days, metrics.coverage) == (7, 0, 0.0)
    assert (metrics.attacks, metrics.pain_free_days, metrics.spontaneous_attacks) == (0, 0, 0)
    for name in (
        "attacks_per_day",
        "weekly_rate_range",
        "mean_intensity",
        "max_intensity",
        "pain_burden_per_day",
        "median_duration_seconds",
        "attacks_per_28_days",
        "bni_controlled_fraction",
        "worst_bni",
        "mean_background_pain",
    ):
        assert getattr(metrics, name) is None, name
    assert metrics.trigger_counts == {}


def test_check_ins_without_no_attacks_observe_nothing() -> None:
    metrics = metrics_of(
        [], [checkin(day_offset, bni="I", background=2) for day_offset in range(7)]
    )
    assert metrics.observed_days == 0
    assert metrics.attacks_per_day is None
    assert metrics.bni_controlled_fraction == 1.0
    assert metrics.worst_bni == "I"
    assert metrics.mean_background_pain == 2.0


def test_pain_free_week_has_zero_rates_but_null_episode_statistics() -> None:
    metrics = metrics_of([], [no_attacks(offset) for offset in range(0, 7, 2)])
    assert (metrics.observed_days, metrics.pain_free_days, metrics.attacks) == (4, 4, 0)
    assert metrics.attacks_per_day == 0.0
    assert metrics.pain_burden_per_day == 0.0
    assert metrics.attacks_per_28_days == 0.0
    assert metrics.mean_intensity is None
    assert metrics.max_intensity is None
    assert metrics.median_duration_seconds is None


@pytest.mark.parametrize(
    ("episodes", "attacks", "attacks_per_day", "mean_intensity", "burden"),
    [
        ([episode(0, attacks=20, intensity=7)], 20, 20.0, 7.0, 140.0),  # one volley, one day
        ([episode(0, 20, 7), episode(0, 1, 3)], 21, 21.0, 143 / 21, 143.0),
        ([episode(0, 20, 7), episode(6, 1, 3)], 21, 10.5, 143 / 21, 71.5),
        ([episode(0, 1, 9), episode(1, 1, 9), episode(2, 1, 9)], 3, 1.0, 9.0, 9.0),
    ],
)
def test_mean_intensity_is_attack_weighted(
    episodes: list[EpisodeRow],
    attacks: int,
    attacks_per_day: float,
    mean_intensity: float,
    burden: float,
) -> None:
    metrics = metrics_of(episodes, [])
    assert metrics.attacks == attacks
    assert metrics.attacks_per_day == attacks_per_day
    assert metrics.mean_intensity == mean_intensity
    assert metrics.pain_burden_per_day == burden


def test_volley_of_30_shocks_weighs_30_times_in_mean_intensity() -> None:
    # The case: "30 shocks at NRS 9" in one entry, and one attack at NRS 3.
    metrics = metrics_of([episode(0, attacks=30, intensity=9), episode(1, 1, 3)], [])
    assert metrics.mean_intensity == pytest.approx((30 * 9 + 3) / 31)


@pytest.mark.parametrize(
    ("episodes", "median"),
    [
        ([(1, 30)], 30.0),
        ([(1, 5), (1, 120)], 62.5),
        ([(10, 30)], 3.0),  # a volley of 10 logged as 30 s: 3 s an attack
        ([(10, 30), (1, 20), (2, 8)], 4.0),  # per attack: 3, 20, 4
        ([(1, 3), (1, 1), (1, 2), (1, 4)], 2.5),
    ],
)
def test_median_duration_is_per_attack(episodes: list[tuple[int, int]], median: float) -> None:
    rows = [episode(0, attacks=attacks, duration=seconds) for attacks, seconds in episodes]
    assert metrics_of(rows, []).median_duration_seconds == median


@pytest.mark.parametrize(
    ("triggers", "spontaneous"),
    [((), 4), (("spontaneous",), 4), (("spontaneous", "spontaneous"), 4),
     (("spontaneous", "eating"), 0), (("cold_wind",), 0)],
)  # fmt: skip
def test_spontaneous_attacks(triggers: tuple[str, ...], spontaneous: int) -> None:
    assert metrics_of([episode(0, attacks=4, triggers=triggers)], []).spontaneous_attacks == (
        spontaneous
    )


@pytest.mark.parametrize(
    ("grades", "fraction", "worst"),
    [
        (["I"], 1.0, "I"),
        (["I", "II", "IIIa", "IIIb"], 1.0, "IIIb"),
        (["IIIb", "IV"], 0.5, "IV"),
        (["V", "I", "IV"], 1 / 3, "V"),
        (["IIIa", "II"], 1.0, "IIIa"),
        (["II", "unknown"], 0.5, "unknown"),  # cannot come from the API: ranked worst, not lost
    ],
)
def test_bni(grades: list[str], fraction: float, worst: str) -> None:
    metrics = metrics_of([], [checkin(offset, bni=bni) for offset, bni in enumerate(grades)])
    assert metrics.bni_controlled_fraction == fraction
    assert metrics.worst_bni == worst


def test_bni_and_background_pain_skip_check_ins_without_them() -> None:
    metrics = metrics_of([], [checkin(0, bni="IV"), checkin(1, background=6), checkin(2)])
    assert metrics.bni_controlled_fraction == 0.0
    assert metrics.mean_background_pain == 6.0


def test_triggers_counted_in_attacks() -> None:
    episodes = [
        episode(0, attacks=10, triggers=["eating", "chewing"]),
        episode(1, attacks=1, triggers=["chewing", "chewing"]),  # a trigger named twice: once
        episode(2, attacks=5),
    ]
    assert trigger_counts(episodes) == {"chewing": 11, "eating": 10}
    assert list(trigger_counts(episodes)) == ["chewing", "eating"]


def test_rows_outside_the_window_are_ignored() -> None:
    metrics = metrics_of(
        [episode(-1, attacks=50), episode(7, attacks=50), episode(3, attacks=2)],
        [no_attacks(-2), checkin(8, bni="V")],
    )
    assert (metrics.observed_days, metrics.attacks, metrics.worst_bni) == (1, 2, None)


def test_index_ignores_rows_after_its_last_day() -> None:
    index = DiaryIndex.build(
        [episode(0), episode(5, attacks=9)], [no_attacks(1), no_attacks(6)], last_day=day(4)
    )
    assert index.observed_days == frozenset({day(0), day(1)})
    summary = summarise(index, day(0), day(6))
    assert summary.daily == ((day(0), 1), (day(1), 0))
    assert summary.attacks_per_day == Fraction(1, 2)


def test_summary_keeps_exact_fractions() -> None:
    index = DiaryIndex.build([episode(0), episode(0)], [no_attacks(1), no_attacks(2)])
    summary = summarise(index, day(0), day(2))
    assert summary.daily == ((day(0), 2), (day(1), 0), (day(2), 0))
    assert summary.exact("attacks_per_day") == Fraction(2, 3)
    assert summary.exact("mean_intensity") == Fraction(5)
    assert summary.exact("pain_burden_per_day") == Fraction(10, 3)


# --- 7-day blocks -----------------------------------------------------------------------------


def _block_summary(attacks_by_day: dict[int, int], last: int) -> tuple[Fraction, ...]:
    """Day offset -> attacks (0 = a "no attacks" check-in) over the window [0, last]."""
    episodes = [episode(d, n) for d, n in attacks_by_day.items() if n]
    checkins = [no_attacks(d) for d, n in attacks_by_day.items() if not n]
    return summarise(DiaryIndex.build(episodes, checkins), day(0), day(last)).block_rates()


def test_blocks_are_7_days_from_the_window_start_the_last_shorter() -> None:
    # Blocks [0-6], [7-13], [14-16]; each has 3 observed days here.
    rates = _block_summary({0: 1, 1: 2, 2: 3, 7: 0, 8: 0, 13: 3, 14: 5, 15: 5, 16: 5}, 16)
    assert rates == (Fraction(2), Fraction(1), Fraction(5))


def test_block_counts_with_at_least_3_observed_days() -> None:
    # Block [0-6] has 2 observed days (does not count); block [7-13] has 3.
    rates = _block_summary({0: 9, 6: 9, 7: 1, 10: 2, 13: 3}, 13)
    assert rates == (Fraction(2),)


def test_block_rate_is_attacks_over_observed_days_in_it() -> None:
    # Missing days inside a block are left out, not zeros: 12 attacks on 3 of 7 days = 4.
    assert _block_summary({0: 4, 3: 4, 6: 4}, 6) == (Fraction(4),)


def test_weekly_rate_range_is_min_and_max_of_counting_blocks() -> None:
    episodes = [episode(d, 2) for d in range(7)] + [episode(d, 5) for d in range(7, 14)]
    episodes += [episode(d, 1) for d in (14, 15)]  # a third block with 2 observed days
    metrics = metrics_of(episodes, [], Window("w", day(0), day(15)))
    assert metrics.weekly_rate_range == (2.0, 5.0)


def test_weekly_rate_range_null_under_two_counting_blocks() -> None:
    episodes = [episode(d, 2) for d in range(7)] + [episode(d, 5) for d in (7, 8)]
    assert metrics_of(episodes, [], Window("w", day(0), day(13))).weekly_rate_range is None


def test_exact_knows_only_the_compared_metrics() -> None:
    summary = summarise(DiaryIndex.build([episode(0)], []), day(0), day(0))
    with pytest.raises(ValueError, match="not a compared metric"):
        summary.exact("attacks")
