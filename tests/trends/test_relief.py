"""Duration of relief: R(d) over up to 7 days with >= 3 observed, ends at half the baseline."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.trends.inputs import CheckinRow, EpisodeRow
from app.trends.metrics import DiaryIndex
from app.trends.relief import Relief, relief_duration, rolling_rate
from tests.trends.builders import day, episode, no_attacks

END = day(0)  # last session; follow-up starts on day 1
B = Fraction(4)  # baseline attacks per observed day: relief ends at R(d) >= 2


def diary(attacks_by_day: dict[int, int]) -> DiaryIndex:
    """Day offset -> attacks (0 = a "no attacks" check-in); absent days are missing."""
    episodes: list[EpisodeRow] = [episode(d, n) for d, n in attacks_by_day.items() if n]
    checkins: list[CheckinRow] = [no_attacks(d) for d, n in attacks_by_day.items() if not n]
    return DiaryIndex.build(episodes, checkins)


@pytest.mark.parametrize(
    ("attacks_by_day", "last_day", "expected"),
    [
        # R(3) = 0 is the first defined value; R(5) = 7/5 < 2; R(6) = 15/6 >= 2: ends on day 6.
        ({1: 0, 2: 0, 3: 0, 4: 1, 5: 6, 6: 8}, 30, Relief(5, False)),
        # Exactly half the baseline ends relief (>=): R(3) = 6/3 = 2.
        ({1: 2, 2: 2, 3: 2}, 30, Relief(2, False)),
        # Just under half does not: R(3) = 5/3.
        ({1: 2, 2: 2, 3: 1}, 3, Relief(3, True)),
        # Never ends: censored at the last day looked at (day 10 - end).
        (dict.fromkeys(range(1, 11), 0), 10, Relief(10, True)),
        # The censoring day is the last day looked at, even past the last diary entry.
        ({1: 0, 2: 0, 3: 0}, 28, Relief(28, True)),
        # Missing days are skipped, never read as pain-free: R(7) over 1..7 = 6/4, then day 1
        # leaves the span and R(8) over 2..8 = 6/3 = 2 (read as zeros, days 4-6 and 8 hide it).
        ({1: 0, 2: 0, 3: 0, 7: 6, 9: 6}, 30, Relief(7, False)),
        # A bad start ends relief at the first defined R(d): R(3) = 9/3.
        ({1: 3, 2: 3, 3: 3, 4: 0, 5: 0, 6: 0}, 30, Relief(2, False)),
        # Attacks on and before the last session day are not part of any R(d).
        ({-1: 50, 0: 50, 1: 0, 2: 0, 3: 0}, 3, Relief(3, True)),
        # Relief that starts late: R(3) = 3/3 < 2 ... never >= 2.
        ({1: 1, 2: 1, 3: 1, 12: 0, 13: 0, 14: 0}, 14, Relief(14, True)),
    ],
)
def test_relief_duration(attacks_by_day: dict[int, int], last_day: int, expected: Relief) -> None:
    assert relief_duration(diary(attacks_by_day), B, END, day(last_day)) == expected


def test_old_attacks_leave_the_window() -> None:
    index = diary({1: 3, 2: 3, 3: 3, 4: 3, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0, 11: 0})
    # Day 2: fewer than 3 observed days in [1, 2].
    assert rolling_rate(index, day(1), day(2)) is None
    assert rolling_rate(index, day(1), day(3)) == Fraction(3)
    assert rolling_rate(index, day(1), day(7)) == Fraction(12, 7)  # [1, 7]
    assert rolling_rate(index, day(1), day(8)) == Fraction(9, 7)  # [2, 8]
    assert rolling_rate(index, day(1), day(11)) == Fraction(0)  # [5, 11]


def test_rolling_rate_never_looks_before_the_follow_up() -> None:
    index = diary({-2: 50, -1: 50, 0: 50, 1: 0, 2: 0, 3: 0})
    assert rolling_rate(index, day(1), day(3)) == Fraction(0)


@pytest.mark.parametrize(
    ("attacks_by_day", "baseline", "last_day"),
    [
        ({1: 0, 2: 0, 3: 0}, Fraction(0), 30),  # nothing to get relief from
        ({1: 0, 2: 0, 3: 0}, None, 30),  # no baseline rate
        ({1: 9, 5: 9}, B, 30),  # never 3 observed days in a span
        ({1: 0, 4: 0, 8: 0, 12: 0}, B, 30),  # observed days too far apart
        ({}, B, 30),  # no follow-up data
        ({1: 0, 2: 0, 3: 0}, B, 2),  # as_of before the third observed day
        ({1: 0, 2: 0, 3: 0}, B, 0),  # as_of on the last session day: no follow-up yet
    ],
)
def test_relief_is_undefined(
    attacks_by_day: dict[int, int], baseline: Fraction | None, last_day: int
) -> None:
    assert relief_duration(diary(attacks_by_day), baseline, END, day(last_day)) == Relief(
        None, None
    )
