"""Relief as time to event (API.md, Trends: Relief): R(d), onset and end each confirmed by two
consecutive weeks, every status and every censor reason, on small hand-checkable diaries.

Unless said otherwise: the last session is on day 0, B = 4 attacks a day (half of it: 2), and a
diary maps day offsets to attacks (0 = a "no attacks" check-in; absent days are missing).
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.trends import Relief, compute_trend
from app.trends.inputs import CheckinRow, EpisodeRow
from app.trends.metrics import DiaryIndex
from app.trends.relief import RollingRate, relief
from app.trends.windows import Bound, CensorReason
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

END = day(0)
B = Fraction(4)


def diary(attacks_by_day: dict[int, int]) -> DiaryIndex:
    episodes: list[EpisodeRow] = [episode(d, n) for d, n in attacks_by_day.items() if n]
    checkins: list[CheckinRow] = [no_attacks(d) for d, n in attacks_by_day.items() if not n]
    return DiaryIndex.build(episodes, checkins)


def days(first: int, last: int, attacks: int) -> dict[int, int]:
    return dict.fromkeys(range(first, last + 1), attacks)


def relief_of(attacks_by_day: dict[int, int], last: int, reason: CensorReason = "as_of") -> Relief:
    return relief(diary(attacks_by_day), B, END, Bound(day(last), reason))


def trend_relief(after: dict[int, int], as_of: int, **settings: object) -> Relief | None:
    """The relief of a whole trend: 28 baseline days at 4 a day, one session on day 0."""
    episodes = [*daily(range(-28, 0), 4)]
    episodes += [episode(d, n) for d, n in after.items() if n]
    checkins = [no_attacks(d) for d, n in after.items() if not n]
    inputs = trend_inputs(as_of, episodes=episodes, checkins=checkins, **settings)  # type: ignore[arg-type]
    return compute_trend(inputs).relief


# --- R(d) -------------------------------------------------------------------------------------


def test_rolling_rate_is_attacks_per_observed_day_over_the_last_7_days_after_the_series() -> None:
    rate = RollingRate(
        diary({-1: 50, 0: 50, 1: 3, 2: 3, 3: 3, 4: 3, 8: 0, 9: 0, 10: 0}), END, day(12)
    )
    assert rate(day(2)) is None  # [1, 2]: fewer than 3 observed days
    assert rate(day(3)) == 3  # [1, 3]: days on and before the last session never count
    assert rate(day(7)) == 3  # [1, 7]: 12 attacks on 4 observed days; missing days left out
    assert rate(day(8)) == Fraction(9, 4)  # [2, 8]
    assert rate(day(10)) == Fraction(3, 4)  # [4, 10]: 3 attacks on 4 observed days
    assert rate(day(12)) == 0  # [6, 12]: 3 observed days
    assert rate.totals(day(1), day(10)) == (12, 7)


# --- statuses ---------------------------------------------------------------------------------


def test_relief_ended_needs_two_consecutive_weeks_back_at_half_b() -> None:
    # No attacks on days 1-20, then 4 a day: R(24) = 16/7 >= 2 first (R(23) = 12/7), and R(31).
    found = relief_of({**days(1, 20, 0), **days(21, 60, 4)}, 60)
    assert found == Relief(
        status="ended",
        onset_day=day(3),  # R(3) = 0 and R(10) = 0: the first defined R(d)
        duration_days=23,  # end_day - (end + 1)
        end_day=day(24),
        last_observed_day=None,
        censor_reason=None,
        lowest_rate=0.0,
        relief_rate=12 / 23,  # 12 attacks (days 21-23) on 23 observed days [1, 23]
        depth_pct=100 * (4 - 12 / 23) / 4,
    )


def test_relief_one_bad_week_does_not_end_it() -> None:
    # A bad week (days 21-27) inside a long relief: R(24..27) >= 2, but never R(d + 7) as well.
    found = relief_of({**days(1, 20, 0), **days(21, 27, 4), **days(28, 50, 0)}, 50)
    assert found.status == "ongoing"
    assert (found.onset_day, found.last_observed_day, found.duration_days) == (day(3), day(50), 50)
    assert found.censor_reason == "as_of"


def test_relief_onset_needs_two_consecutive_weeks_under_half_b() -> None:
    # One good week (days 8-14) between bad ones: R(d) < 2 on days 11-17, never R(d + 7) too.
    found = relief_of({**days(1, 7, 4), **days(8, 14, 0), **days(15, 40, 4)}, 40)
    assert found == Relief("no_relief")


def test_relief_onset_only_within_three_weeks_of_the_last_session() -> None:
    # Four weeks of attacks, then none: R(d) < 2 from day 25, after the onset search (day 21).
    found = relief_of({**days(1, 21, 4), **days(22, 60, 0)}, 60)
    assert found == Relief("no_relief")


def test_relief_status_no_relief_needs_14_defined_days_in_four_weeks() -> None:
    # A patient with no change at all: 4 a day, logged every other day.
    assert relief_of(dict.fromkeys(range(1, 29, 2), 4), 28) == Relief("no_relief")


def test_relief_status_undetermined_data_gap() -> None:
    # The issue's case: a few logged days, then silence; H' >= end + 28 but R(d) is defined on
    # days 3-9 only (7 < 14 days) and R(10) is not, so no onset either.
    found = relief_of(days(1, 3, 0), 84)
    assert found == Relief("undetermined", censor_reason="data_gap")


@pytest.mark.parametrize("reason", ["as_of", "follow_up_end", "next_series", "medication_change"])
def test_relief_status_undetermined_names_the_bound_before_four_weeks(
    reason: CensorReason,
) -> None:
    # No change at all, looked at for 20 days only: no onset, and too early for no_relief.
    assert relief_of(days(1, 20, 4), 20, reason) == Relief("undetermined", censor_reason=reason)


def test_relief_undetermined_when_h_prime_ends_before_the_series_does() -> None:
    assert relief_of(days(1, 20, 0), -3, "next_series") == Relief(
        "undetermined", censor_reason="next_series"
    )


def test_relief_status_ongoing_censored_by_as_of() -> None:
    found = relief_of(days(1, 40, 0), 40)
    assert (found.status, found.censor_reason) == ("ongoing", "as_of")
    assert (found.onset_day, found.last_observed_day, found.duration_days) == (day(3), day(40), 40)
    assert found.end_day is None


def test_relief_ongoing_with_a_confirming_week_needs_8_days() -> None:
    assert relief_of(days(1, 10, 0), 10).status == "ongoing"  # onset 3, R(10) confirms it
    assert relief_of(days(1, 9, 0), 9) == Relief("undetermined", censor_reason="as_of")


def test_relief_status_censored_follow_up_end() -> None:
    found = trend_relief(days(1, 60, 0), 60, follow_up_days=28)
    assert found is not None
    assert (found.status, found.censor_reason, found.duration_days) == (
        "censored",
        "follow_up_end",
        28,
    )
    assert found.last_observed_day == day(28)


def test_relief_status_censored_next_series() -> None:
    found = trend_relief(days(1, 60, 0), 60, others=[other(1, 40)])
    assert found is not None
    assert (found.status, found.censor_reason, found.duration_days) == (
        "censored",
        "next_series",
        39,
    )


def test_relief_status_censored_medication_change_by_a_start() -> None:
    started = medication(1, "Carbamazepine", 200, started=30)
    found = trend_relief(days(1, 60, 0), 60, medications=[started])
    assert found is not None
    assert (found.status, found.censor_reason, found.last_observed_day) == (
        "censored",
        "medication_change",
        day(29),
    )


def test_relief_status_censored_medication_change_by_a_dose_increase() -> None:
    raised = medication(1, "Carbamazepine", 600, started=-300, doses=[(-300, 400), (30, 600)])
    found = trend_relief(days(1, 60, 0), 60, medications=[raised])
    assert found is not None
    assert (found.status, found.censor_reason, found.duration_days) == (
        "censored",
        "medication_change",
        29,
    )


@pytest.mark.parametrize(
    "row",
    [
        medication(1, "Carbamazepine", 200, started=-300, doses=[(-300, 400), (30, 200)]),
        medication(1, "Carbamazepine", 400, started=-300, stopped=30),
    ],
    ids=["decrease", "stop"],
)
def test_relief_stops_and_decreases_do_not_cut_h_prime(row: object) -> None:
    found = trend_relief(days(1, 60, 0), 60, medications=[row])
    assert found is not None
    assert (found.status, found.censor_reason, found.duration_days) == ("ongoing", "as_of", 60)


def test_relief_ignores_medication_changes_before_the_series_or_after_h() -> None:
    before = medication(1, "Gabapentin", 900, started=-5)
    after = medication(2, "Baclofen", 30, started=70)  # after as_of: does not exist yet
    found = trend_relief(days(1, 60, 0), 60, medications=[before, after])
    assert found is not None
    assert found.status == "ongoing"


def test_relief_status_censored_data_gap() -> None:
    # Relief seen until the diary goes silent after day 20: R(24) over [18, 24] is the last
    # defined value; no R(d) in the last week looked at [34, 40].
    found = relief_of(days(1, 20, 0), 40)
    assert (found.status, found.censor_reason) == ("censored", "data_gap")
    assert (found.last_observed_day, found.duration_days) == (day(24), 24)


def test_relief_last_observed_day_may_come_before_later_diary_entries() -> None:
    # A bad week at the end (days 31-37) not yet confirmed by a second one: relief was last
    # seen on day 33 (R(34) = 16/7 >= 2), it is still ongoing as of day 37.
    found = relief_of({**days(1, 30, 0), **days(31, 37, 4)}, 37)
    assert (found.status, found.censor_reason) == ("ongoing", "as_of")
    assert (found.last_observed_day, found.duration_days) == (day(33), 33)


def test_relief_lowest_rate_relief_rate_and_depth() -> None:
    # 1 attack a day on days 1-30, then 4 a day: R(d) = 1 until day 30, R(33) = 16/7 >= 2.
    found = relief_of({**days(1, 30, 1), **days(31, 60, 4)}, 60)
    assert (found.status, found.onset_day, found.end_day) == ("ended", day(3), day(33))
    assert found.duration_days == 32
    assert found.lowest_rate == 1.0  # the minimum of many noisy windows …
    assert found.relief_rate == 38 / 32  # … while the relief's own rate: 38 attacks / 32 days
    assert found.depth_pct == pytest.approx(100 * (4 - 38 / 32) / 4)


# --- censor reason ties and the whole object ----------------------------------------------------


def test_censor_reason_tie_as_of_before_follow_up_end() -> None:
    found = trend_relief(days(1, 60, 0), 28, follow_up_days=28)
    assert found is not None
    assert (found.status, found.censor_reason) == ("ongoing", "as_of")


def test_censor_reason_tie_follow_up_end_before_next_series() -> None:
    found = trend_relief(days(1, 60, 0), 60, follow_up_days=28, others=[other(1, 29)])
    assert found is not None
    assert found.censor_reason == "follow_up_end"


def test_censor_reason_tie_next_series_before_medication_change() -> None:
    started = medication(1, "Carbamazepine", 200, started=40)
    found = trend_relief(days(1, 60, 0), 60, others=[other(1, 40)], medications=[started])
    assert found is not None
    assert found.censor_reason == "next_series"


@pytest.mark.parametrize(
    ("baseline", "expected_none"),
    [
        (daily(range(-28, 0), 4), False),
        ([], True),  # B null: no baseline data
        ([no_attacks(d) for d in range(-28, 0)], True),  # B = 0
        (daily(range(-6, 0), 4), True),  # 6 observed days in the reference baseline
    ],
)
def test_relief_null_when_b_is_null_or_zero_or_the_reference_is_short(
    baseline: list[EpisodeRow] | list[CheckinRow], expected_none: bool
) -> None:
    episodes = [row for row in baseline if isinstance(row, EpisodeRow)]
    checkins = [row for row in baseline if isinstance(row, CheckinRow)]
    checkins += [no_attacks(d) for d in range(1, 40)]
    result = compute_trend(trend_inputs(40, episodes=episodes, checkins=checkins))
    assert (result.relief is None) is expected_none


def test_relief_of_a_booster_uses_the_course_reference_baseline() -> None:
    # The first series (day 0) had B = 4; the booster on day 100 follows 2 a day (its own
    # "baseline" is the induction's relief tail): measured against 4, relief has an onset.
    episodes = [*daily(range(-28, 0), 4), *daily(range(72, 100), 2), *daily(range(101, 140), 1)]
    inputs = trend_inputs(139, sessions=(session(100),), episodes=episodes, others=[other(1, 0)])
    result = compute_trend(inputs)
    assert result.booster
    assert result.relief is not None
    assert (result.relief.status, result.relief.onset_day) == ("ongoing", day(103))
