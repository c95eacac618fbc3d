"""series_outcome: the cohort row's numbers, equal to compute_trend's."""

from __future__ import annotations

import pytest
from hypothesis import given

from app.trends import NoCompletedSession, compute_trend
from app.trends.outcome import SeriesOutcome, series_outcome
from tests.trends.builders import daily, day, no_attacks, session, trend_inputs
from tests.trends.test_properties import FAST, Diary, diaries

# Baseline -7..-1: 4 attacks a day. Sessions on days 0 and 2. Follow-up 1 is days 3..30:
# 1 attack a day on days 3..16, 3 a day on 17..30 -> 56 / 28 = 2 a day, exactly -50 %.
EPISODES = (
    *daily(range(-7, 0), attacks=4),
    *daily(range(3, 17), attacks=1),
    *daily(range(17, 31), attacks=3),
)


def outcome(as_of: int, **changes: object) -> SeriesOutcome:
    fields: dict[str, object] = {
        "sessions": (session(0), session(2)),
        "episodes": EPISODES,
        "baseline_days": 7,
        "follow_up_days": 56,
    }
    fields.update(changes)
    return series_outcome(trend_inputs(as_of, **fields))  # type: ignore[arg-type]


def test_a_complete_follow_up_1() -> None:
    # R(d) = 1 until d = 16; R(17) over 11..17 = (6 + 3) / 7 < 2; R(18) = (5 + 6) / 7 < 2;
    # R(19) = (4 + 9) / 7 < 2; R(20) = (3 + 12) / 7 >= 2: relief ends, 20 - 3 = 17 days.
    assert outcome(40) == SeriesOutcome(
        first_session_date=day(0),
        last_session_date=day(2),
        baseline_attacks_per_day=4.0,
        follow_up_1_attacks_per_day=2.0,
        change_pct=-50.0,
        category="substantial",
        responder=True,
        relief_duration_days=17,
        relief_ongoing=False,
        follow_up_1_complete=True,
    )


def test_during_follow_up_1_and_before_it() -> None:
    during = outcome(10)
    assert (during.follow_up_1_attacks_per_day, during.change_pct, during.category) == (
        1.0,
        -75.0,
        "substantial",
    )
    assert (during.responder, during.follow_up_1_complete) == (None, False)
    assert (during.relief_duration_days, during.relief_ongoing) == (8, True)
    before = outcome(2)
    assert (before.follow_up_1_attacks_per_day, before.change_pct, before.category) == (
        None,
        None,
        None,
    )
    assert (before.responder, before.relief_duration_days, before.relief_ongoing) == (
        None,
        None,
        None,
    )


def test_a_baseline_without_attacks_gives_no_change() -> None:
    zero = outcome(40, episodes=daily(range(3, 31)), checkins=[no_attacks(d) for d in range(-7, 0)])
    assert (zero.baseline_attacks_per_day, zero.follow_up_1_attacks_per_day) == (0.0, 1.0)
    assert (zero.change_pct, zero.category, zero.responder) == (None, None, None)
    assert (zero.relief_duration_days, zero.relief_ongoing) == (None, None)


def test_no_completed_session() -> None:
    with pytest.raises(NoCompletedSession):
        outcome(40, sessions=(session(0, completed=False), session(50)))


@FAST
@given(diary=diaries())
def test_equals_the_full_report(diary: Diary) -> None:
    result = compute_trend(diary.inputs)
    row = series_outcome(diary.inputs)
    comparison = next(
        (
            c
            for c in result.comparisons
            if (c.window, c.metric) == ("follow_up_1", "attacks_per_day")
        ),
        None,
    )
    assert (row.first_session_date, row.last_session_date) == (
        result.first_session_date,
        result.last_session_date,
    )
    assert row.baseline_attacks_per_day == result.windows[0].attacks_per_day
    assert row.follow_up_1_attacks_per_day == (comparison.value if comparison else None)
    assert row.change_pct == (comparison.change_pct if comparison else None)
    assert row.category == (comparison.category if comparison else None)
    assert (row.responder, row.relief_duration_days, row.relief_ongoing) == (
        result.responder,
        result.relief_duration_days,
        result.relief_ongoing,
    )
