"""Per-window metrics: hand-computed tables, missing days, volleys, empty windows."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.trends import CheckinRow, EpisodeRow, Window, WindowMetrics
from app.trends.metrics import DiaryIndex, summarise, trigger_counts, window_metrics
from tests.trends.builders import checkin, day, episode, no_attacks

WEEK = Window("baseline", day(0), day(6))


def metrics_of(
    episodes: list[EpisodeRow],
    checkins: list[CheckinRow],
    window: Window = WEEK,
    ci95: tuple[float, float] | None = None,
) -> WindowMetrics:
    index = DiaryIndex.build(episodes, checkins)
    return window_metrics(window, summarise(index, window.start, window.end), ci95)


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
    assert metrics_of(EPISODES, CHECKINS, ci95=(1.0, 2.5)) == WindowMetrics(
        name="baseline",
        start=day(0),
        end=day(6),
        days=7,
        observed_days=4,
        coverage=4 / 7,
        attacks=7,
        attacks_per_day=1.75,  # 7 attacks / 4 observed days: days 3, 4, 6 are missing, not 0
        attacks_per_day_ci95=(1.0, 2.5),
        mean_intensity=5.75,  # (6 + 8 + 4 + 5) / 4 episodes, each once whatever its volley
        max_intensity=8,
        pain_burden_per_day=9.75,  # (6*3 + 8*1 + 4*2 + 5*1) / 4
        pain_free_days=1,  # day 1 only: day 5 has an episode despite its check-in
        median_duration_seconds=30.0,  # median of 10, 20, 40, 60
        attacks_per_28_days=49.0,
        spontaneous_attacks=3,  # the spontaneous one + the volley of 2 without triggers
        bni_controlled_fraction=0.5,  # II controlled, IV not
        worst_bni="IV",
        mean_background_pain=4.0,
        trigger_counts={"eating": 2, "spontaneous": 1, "touch": 1},
    )


def test_empty_window_has_null_rates_and_zero_counts() -> None:
    metrics = metrics_of([], [])
    assert (metrics.days, metrics.observed_days, metrics.coverage) == (7, 0, 0.0)
    assert (metrics.attacks, metrics.pain_free_days, metrics.spontaneous_attacks) == (0, 0, 0)
    for name in (
        "attacks_per_day",
        "attacks_per_day_ci95",
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
        ([episode(0, 20, 7), episode(0, 1, 3)], 21, 21.0, 5.0, 143.0),
        ([episode(0, 20, 7), episode(6, 1, 3)], 21, 10.5, 5.0, 71.5),
        ([episode(0, 1, 9), episode(1, 1, 9), episode(2, 1, 9)], 3, 1.0, 9.0, 9.0),
    ],
)
def test_volleys(
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


@pytest.mark.parametrize(
    ("durations", "median"),
    [([30], 30.0), ([5, 120], 62.5), ([1, 2, 86400], 2.0), ([3, 1, 2, 4], 2.5)],
)
def test_median_duration_counts_each_episode_once(durations: list[int], median: float) -> None:
    episodes = [episode(0, attacks=10, duration=seconds) for seconds in durations]
    assert metrics_of(episodes, []).median_duration_seconds == median


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


def test_trigger_counts_count_episodes_not_attacks() -> None:
    episodes = [
        episode(0, attacks=10, triggers=["eating", "chewing"]),
        episode(1, attacks=1, triggers=["chewing", "chewing"]),
        episode(2, attacks=5),
    ]
    assert trigger_counts(episodes) == {"chewing": 2, "eating": 1}
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
    assert summary.daily_attacks == (1, 0)
    assert summary.attacks_per_day == Fraction(1, 2)


def test_summary_keeps_exact_fractions() -> None:
    index = DiaryIndex.build([episode(0), episode(0)], [no_attacks(1), no_attacks(2)])
    summary = summarise(index, day(0), day(2))
    assert summary.daily_attacks == (2, 0, 0)
    assert summary.exact("attacks_per_day") == Fraction(2, 3)
    assert summary.exact("mean_intensity") == Fraction(5)
    assert summary.exact("pain_burden_per_day") == Fraction(10, 3)
