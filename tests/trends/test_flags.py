"""Baseline flags and their warnings, and the readiness of a planned series' baseline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from app.trends import compute_trend
from app.trends.flags import Flag, baseline_flags, rising
from app.trends.inputs import CheckinRow, EpisodeRow, MedicationRow
from app.trends.medications import MedicationEvent, medication_events
from app.trends.metrics import DiaryIndex
from app.trends.readiness import Readiness, readiness
from app.trends.windows import Window
from tests.trends.builders import (
    daily,
    day,
    episode,
    medication,
    no_attacks,
    other,
    series_info,
    session,
    trend_inputs,
)

BASELINE = Window("baseline", day(-28), day(-1))


def flags_of(
    episodes: list[EpisodeRow],
    checkins: Sequence[CheckinRow] = (),
    *,
    other_session_days: Sequence[date] = (),
    events: Sequence[MedicationEvent] = (),
    booster_start: date | None = None,
) -> tuple[Flag, ...]:
    index = DiaryIndex.build(episodes, checkins)
    return baseline_flags(
        index,
        BASELINE,
        other_session_days=other_session_days,
        events=events,
        booster_start=booster_start,
    )


def test_a_full_baseline_raises_no_flag() -> None:
    assert flags_of(daily(range(-28, 0), 4)) == ()


def test_flag_short_under_7_observed_days() -> None:
    assert "short" in flags_of(daily(range(-6, 0), 4))
    assert "short" not in flags_of(daily(range(-7, 0), 4))


def test_flag_low_coverage_under_half_the_days() -> None:
    assert "low_coverage" in flags_of(daily(range(-13, 0), 4))  # 13 of 28
    assert "low_coverage" not in flags_of(daily(range(-14, 0), 4))  # 14 of 28


def test_flag_selective_logging_under_80_pct_and_no_pain_free_day() -> None:
    bad_days_only = daily(range(-22, 0), 4)  # 22 of 28 days = 79 %, all with attacks
    assert "selective_logging" in flags_of(bad_days_only)
    with_a_good_day = flags_of(bad_days_only, [no_attacks(-25)])  # 23 of 28, one pain-free
    assert "selective_logging" not in with_a_good_day
    assert "selective_logging" not in flags_of(daily(range(-23, 0), 4))  # 23 of 28 = 82 %


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        (2, 3, True),  # 1.5 x exactly
        (2, 2, False),
        (4, 5, False),
        (0, 1, True),  # from nothing to something
        (0, 0, False),  # nothing twice is not a rise
    ],
)
def test_flag_rising_later_half_at_least_1_5_times_the_earlier(
    earlier: int, later: int, expected: bool
) -> None:
    def day_rows(offset: int, attacks: int) -> list[EpisodeRow] | list[CheckinRow]:
        return [episode(offset, attacks)] if attacks else [no_attacks(offset)]

    rows = [row for d in range(-28, -14) for row in day_rows(d, earlier)]
    rows += [row for d in range(-14, 0) for row in day_rows(d, later)]
    episodes = [row for row in rows if isinstance(row, EpisodeRow)]
    checkins = [row for row in rows if isinstance(row, CheckinRow)]
    assert ("rising" in flags_of(episodes, checkins)) is expected


def test_flag_rising_halves_are_first_floor_half_days_and_the_rest() -> None:
    # 7 days: the first 3 days, then the last 4; each half needs 3 observed days.
    window = Window("baseline", day(0), day(6))
    index = DiaryIndex.build([*daily(range(3), 2), *daily(range(3, 7), 3)], [])
    assert rising(index, window)
    index = DiaryIndex.build([*daily(range(2), 2), *daily(range(3, 7), 9)], [])
    assert not rising(index, window)  # the earlier half has 2 observed days


def test_flag_other_treatment_a_completed_session_of_another_series_inside() -> None:
    assert "other_treatment" in flags_of(daily(range(-28, 0), 4), other_session_days=[day(-10)])
    assert "other_treatment" not in flags_of(daily(range(-28, 0), 4), other_session_days=[day(0)])


def test_flag_medication_change_inside_the_baseline() -> None:
    events = medication_events([medication(1, "Gabapentin", 900, started=-10)])
    assert "medication_change" in flags_of(daily(range(-28, 0), 4), events=events)
    events = medication_events([medication(1, "Gabapentin", 900, started=-29)])
    assert "medication_change" not in flags_of(daily(range(-28, 0), 4), events=events)


def test_flag_old_reference_more_than_365_days_before_the_booster() -> None:
    full = daily(range(-28, 0), 4)
    assert "old_reference" in flags_of(full, booster_start=day(365))  # ends day -1: 366 days
    assert "old_reference" not in flags_of(full, booster_start=day(364))


def test_flag_medication_since_reference_between_it_and_the_booster() -> None:
    events = medication_events([medication(1, "Gabapentin", 900, started=50)])
    full = daily(range(-28, 0), 4)
    assert flags_of(full, events=events, booster_start=day(100)) == ("medication_since_reference",)
    assert flags_of(full, events=events, booster_start=day(50)) == ()  # on the start: not before
    assert flags_of(full, events=events) == ()  # not a booster


def test_flags_come_in_the_contract_order() -> None:
    events = medication_events([medication(1, "Gabapentin", 900, started=-3, stopped=10)])
    flags = flags_of(
        daily(range(-3, 0), 9) + daily(range(-17, -14), 1),  # 3 + 3 observed days
        events=events,
        other_session_days=[day(-20)],
        booster_start=day(400),
    )
    assert flags == (
        "short",
        "low_coverage",
        "selective_logging",
        "rising",
        "other_treatment",
        "medication_change",
        "old_reference",
        "medication_since_reference",
    )


# --- in the trend: the reference baseline's flags and their warnings --------------------------


def test_trend_flags_are_those_of_the_reference_baseline_with_a_warning_each() -> None:
    # The case: logging only on bad days before treatment, every day after.
    inputs = trend_inputs(40, episodes=[*daily(range(-28, 0, 3), 8), *daily(range(1, 41), 4)])
    result = compute_trend(inputs)
    assert result.baseline_flags == ("low_coverage", "selective_logging")
    codes = [warning.code for warning in result.warnings]
    assert codes[:2] == ["baseline_low_coverage", "baseline_selective_logging"]
    assert "overstated" in result.warnings[1].message


def test_booster_trend_flags_old_reference_and_medication_since_reference() -> None:
    inputs = trend_inputs(
        440,
        sessions=(session(420),),
        episodes=[*daily(range(-28, 0), 4), *daily(range(392, 441), 2)],
        others=[other(1, 0), other(2, 200, new_course=False)],
        medications=[medication(1, "Gabapentin", 900, started=300)],
        new_course=False,
    )
    result = compute_trend(inputs)
    assert result.booster
    assert result.baseline_flags == ("old_reference", "medication_since_reference")
    assert [w.code for w in result.warnings][:2] == [
        "baseline_old_reference",
        "baseline_medication_since_reference",
    ]
    assert "421 days" in result.warnings[0].message


def test_trend_flags_other_treatment_from_a_series_of_another_course() -> None:
    inputs = trend_inputs(
        40, episodes=daily(range(-28, 41), 4), others=[other(1, -300, -10, new_course=None)]
    )
    result = compute_trend(inputs)
    assert result.booster  # day -10 is within 182 days of day -10: it continues that course
    inputs = trend_inputs(
        40,
        episodes=daily(range(-28, 41), 4),
        others=[other(1, -10)],
        new_course=True,
    )
    result = compute_trend(inputs)
    assert not result.booster
    assert result.baseline_flags == ("other_treatment",)


# --- readiness --------------------------------------------------------------------------------

PLANNED = day(0)  # baseline_days 28: the baseline runs from day -28 to day -1


def ready(
    as_of: int,
    episodes: Sequence[EpisodeRow] = (),
    *,
    other_session_days: Sequence[date] = (),
    medications: Sequence[MedicationRow] = (),
) -> Readiness:
    return readiness(
        series_info(1),
        PLANNED,
        day(as_of),
        episodes=episodes,
        other_session_days=other_session_days,
        medications=medications,
    )


def test_readiness_counts_elapsed_and_observed_days_against_80_pct() -> None:
    # 18 of 23 target days logged, 9 days to go: the app's "18 of 23, 9 to go".
    state = ready(-10, daily(range(-28, -10), 3))
    assert (state.baseline_start, state.baseline_end) == (day(-28), day(-1))
    assert (state.days_elapsed, state.observed_days, state.target_observed_days) == (19, 18, 23)
    assert (state.days_left, state.on_track) == (9, True)


def test_readiness_off_track_when_days_left_cannot_reach_the_target() -> None:
    state = ready(-10, daily(range(-28, -18), 3))
    assert (state.observed_days, state.days_left, state.on_track) == (10, 9, False)


def test_readiness_before_the_baseline_has_no_flags() -> None:
    state = ready(-40)
    assert (state.days_elapsed, state.days_left, state.observed_days, state.flags) == (
        0, 28, 0, (),
    )  # fmt: skip
    assert state.on_track


def test_readiness_flags_over_elapsed_days_short_only_once_the_baseline_is_over() -> None:
    during = ready(-20, daily(range(-28, -24), 3))  # 4 observed of 9 elapsed
    assert during.flags == ("low_coverage", "selective_logging")
    after = ready(5, daily(range(-28, -24), 3))
    assert after.days_elapsed == 28
    assert after.flags[0] == "short"


def test_readiness_flags_other_series_and_medication_changes() -> None:
    state = ready(
        -1,
        daily(range(-28, 0), 3),
        other_session_days=[day(-5), day(3)],
        medications=[medication(1, "Baclofen", 30, started=-2), medication(2, "X", 1, started=0)],
    )
    assert state.flags == ("other_treatment", "medication_change")


@pytest.mark.parametrize(("baseline_days", "target"), [(7, 6), (28, 23), (30, 24), (90, 72)])
def test_readiness_target_is_ceil_80_pct(baseline_days: int, target: int) -> None:
    state = readiness(series_info(1, baseline_days), date(2026, 6, 1), date(2026, 1, 1))
    assert state.target_observed_days == target
