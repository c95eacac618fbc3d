"""Courses, the reference baseline, the horizon H and the windows it cuts (API.md, Trends)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.trends import NoCompletedSession, Window, diary_ranges, follow_up_windows, plan_for
from app.trends.courses import CoursePlace, SeriesSpan, place_series, series_span
from app.trends.plan import merge_ranges, plan_all
from app.trends.windows import Bound, earliest, horizon, window_name_of
from tests.trends.builders import day, other, series_info, session, trend_inputs


def spans(windows: tuple[Window, ...]) -> list[tuple[str, int, int]]:
    """(name, first offset, last offset) of each window, relative to day 0."""
    return [(w.name, (w.start - day(0)).days, (w.end - day(0)).days) for w in windows]


def span(number: int, start: int, end: int, new_course: bool | None = None) -> SeriesSpan:
    return SeriesSpan(series_info(number, new_course=new_course), day(start), day(end))


def course_of(places: tuple[CoursePlace, ...]) -> list[tuple[int, int, int]]:
    """(series number, number of its course's first series, position) per place."""
    return [(p.span.id.int, p.course_id.int, p.position) for p in places]


# --- courses ----------------------------------------------------------------------------------


def test_courses_first_series_starts_a_course() -> None:
    (place,) = place_series([span(1, 0, 4)])
    assert (place.course_id, place.booster, place.position) == (place.span.id, False, 0)
    assert place.next_start is None


@pytest.mark.parametrize(
    ("gap", "booster"),
    [(1, True), (182, True), (183, False)],  # start - P.end: within 182 days continues
)
def test_courses_series_within_182_days_of_the_previous_end_is_a_booster(
    gap: int, booster: bool
) -> None:
    places = place_series([span(1, 0, 10), span(2, 10 + gap, 12 + gap)])
    assert places[1].booster is booster
    assert places[1].course_id == (places[0].span.id if booster else places[1].span.id)


def test_courses_new_course_true_starts_a_course_within_182_days() -> None:
    places = place_series([span(1, 0, 4), span(2, 30, 34, new_course=True)])
    assert course_of(places) == [(1, 1, 0), (2, 2, 0)]


def test_courses_new_course_false_continues_the_course_after_182_days() -> None:
    places = place_series([span(1, 0, 4), span(2, 400, 404, new_course=False)])
    assert course_of(places) == [(1, 1, 0), (2, 1, 1)]


def test_courses_boosters_chain_on_the_series_just_before() -> None:
    # 3 continues 2 (within 182 days of 2's end) even though it is 300 days after 1's end.
    places = place_series([span(1, 0, 4), span(2, 150, 152), span(3, 304, 306), span(4, 600, 601)])
    assert course_of(places) == [(1, 1, 0), (2, 1, 1), (3, 1, 2), (4, 4, 0)]
    assert [p.next_start for p in places] == [day(150), day(304), day(600), None]


def test_courses_order_by_start_then_id() -> None:
    # Given out of order; equal starts are ordered by id.
    places = place_series([span(3, 50, 52), span(2, 0, 4), span(1, 0, 3)])
    assert course_of(places) == [(1, 1, 0), (2, 1, 1), (3, 1, 2)]
    assert places[0].next_start == day(0)  # the next series starts the same day


def test_course_start_and_end_are_completed_sessions_up_to_as_of() -> None:
    days = [day(0), day(4), day(9)]
    assert series_span(series_info(1), days, day(5)) == span(1, 0, 4)
    assert series_span(series_info(1), days, day(-1)) is None


def test_incomplete_sessions_do_not_start_or_end_a_series() -> None:
    inputs = trend_inputs(20, sessions=(session(0, completed=False), session(2), session(5, False)))
    plan = plan_for(inputs)
    assert (plan.start, plan.end) == (day(2), day(2))


def test_no_completed_session_by_as_of_is_no_plan() -> None:
    with pytest.raises(NoCompletedSession):
        plan_for(trend_inputs(10, sessions=(session(0, completed=False), session(11))))


def test_next_start_is_the_next_series_whatever_its_course() -> None:
    inputs = trend_inputs(100, others=[other(1, 40, new_course=True)], follow_up_days=84)
    plan = plan_for(inputs)
    assert plan.place.next_start == day(40)
    assert plan.horizon == Bound(day(39), "next_series")


def test_series_started_after_as_of_do_not_count() -> None:
    plan = plan_for(trend_inputs(30, others=[other(1, 31)]))
    assert plan.place.next_start is None
    assert plan.horizon == Bound(day(30), "as_of")


# --- reference baseline -----------------------------------------------------------------------


def test_reference_baseline_is_the_course_first_series_baseline() -> None:
    # The first series (day 0, baseline 14 days) and this booster starting on day 100.
    inputs = trend_inputs(
        130, sessions=(session(100), session(102)), baseline_days=28,
        others=[other(1, 0, 3, baseline_days=14)],
    )  # fmt: skip
    plan = plan_for(inputs)
    assert plan.place.booster
    assert plan.place.course_id.int == 1
    assert spans(plan.windows)[:3] == [
        ("baseline", 72, 99),  # its own, for information
        ("reference_baseline", -14, -1),
        ("treatment", 100, 102),
    ]


def test_first_series_reference_baseline_is_its_own_baseline() -> None:
    plan = plan_for(trend_inputs(20, baseline_days=7))
    assert plan.reference == plan.baseline
    assert [w.name for w in plan.windows] == ["baseline", "treatment", "follow_up_1"]


# --- horizon and windows ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_start", "as_of", "expected"),
    [
        (None, 200, Bound(day(94), "follow_up_end")),  # end 10 + follow_up_days 84
        (None, 50, Bound(day(50), "as_of")),
        (60, 200, Bound(day(59), "next_series")),
        # Ties: the first of as_of, follow_up_end, next_series names the bound.
        (None, 94, Bound(day(94), "as_of")),
        (95, 200, Bound(day(94), "follow_up_end")),
        (51, 50, Bound(day(50), "as_of")),
    ],
)
def test_horizon_is_the_earliest_of_follow_up_end_next_start_and_as_of(
    next_start: int | None, as_of: int, expected: Bound
) -> None:
    following = None if next_start is None else day(next_start)
    assert horizon(day(10), 84, following, day(as_of)) == expected


def test_bound_ties_name_the_first_reason() -> None:
    bounds = [Bound(day(5), "medication_change"), Bound(day(5), "next_series")]
    assert earliest(bounds).reason == "next_series"


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (94, [("follow_up_1", 11, 38), ("follow_up_2", 39, 66), ("follow_up_3", 67, 94)]),
        (40, [("follow_up_1", 11, 38), ("follow_up_2", 39, 40)]),
        (38, [("follow_up_1", 11, 38)]),
        (39, [("follow_up_1", 11, 38), ("follow_up_2", 39, 39)]),
        (11, [("follow_up_1", 11, 11)]),
        (10, []),  # the horizon on the last session day: no follow-up at all
        (3, []),
    ],
)
def test_follow_up_windows_are_28_day_blocks_cut_at_the_horizon(
    last: int, expected: list[tuple[str, int, int]]
) -> None:
    assert spans(follow_up_windows(day(10), day(last))) == expected


def test_follow_up_windows_for_the_longest_series_make_13_blocks() -> None:
    windows = follow_up_windows(day(0), day(364))
    assert len(windows) == 13
    assert all(window.days == 28 for window in windows)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (4, [("baseline", -14, -1), ("treatment", 0, 4)]),  # follow-ups not begun: dropped
        (5, [("baseline", -14, -1), ("treatment", 0, 4), ("follow_up_1", 5, 5)]),
        (40, [("baseline", -14, -1), ("treatment", 0, 4), ("follow_up_1", 5, 32),
              ("follow_up_2", 33, 40)]),
        (200, [("baseline", -14, -1), ("treatment", 0, 4), ("follow_up_1", 5, 32),
               ("follow_up_2", 33, 60)]),
    ],
)  # fmt: skip
def test_windows_are_cut_at_as_of_and_dropped_only_when_no_day_is_left(
    as_of: int, expected: list[tuple[str, int, int]]
) -> None:
    inputs = trend_inputs(
        as_of, sessions=(session(0), session(4)), baseline_days=14, follow_up_days=56
    )
    assert spans(plan_for(inputs).windows) == expected


def test_next_series_cuts_the_follow_up() -> None:
    inputs = trend_inputs(
        200, sessions=(session(0), session(4)), baseline_days=14, others=[other(1, 40, 41)]
    )
    assert spans(plan_for(inputs).windows)[2:] == [("follow_up_1", 5, 32), ("follow_up_2", 33, 39)]


def test_next_series_the_day_after_leaves_no_follow_up() -> None:
    inputs = trend_inputs(200, sessions=(session(0), session(4)), others=[other(1, 5)])
    assert [w.name for w in plan_for(inputs).windows] == ["baseline", "treatment"]


def test_window_name_of() -> None:
    windows = (Window("a", day(0), day(2)), Window("b", day(3), day(5)))
    assert [window_name_of(windows, day(d)) for d in (-1, 0, 2, 3, 5, 6)] == [
        None, "a", "a", "b", "b", None,
    ]  # fmt: skip


def test_window_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends before"):
        Window("w", day(1), day(0))


# --- what the loader reads --------------------------------------------------------------------


def test_diary_ranges_are_the_reference_baseline_and_own_baseline_to_h() -> None:
    booster = trend_inputs(
        130, sessions=(session(100), session(102)), baseline_days=28,
        others=[other(1, 0, 3, baseline_days=14)],
    )  # fmt: skip
    plan = plan_for(booster)
    assert diary_ranges(plan) == ((day(-14), day(-1)), (day(72), day(130)))
    assert diary_ranges(plan, through=day(140)) == ((day(-14), day(140)),)
    first = plan_for(trend_inputs(30, baseline_days=7))
    assert diary_ranges(first) == ((day(-7), day(30)),)


def test_diary_ranges_keep_the_treatment_when_h_falls_inside_it() -> None:
    # The next series starts on day 2, during this series' treatment (days 0..5).
    plan = plan_for(trend_inputs(30, sessions=(session(0), session(5)), others=[other(1, 2)]))
    assert plan.horizon.day == day(1)
    assert diary_ranges(plan) == ((day(-28), day(5)),)


def test_merge_ranges() -> None:
    ranges = [(day(10), day(12)), (day(0), day(3)), (day(4), day(5)), (day(11), day(20))]
    assert merge_ranges(ranges) == ((day(0), day(5)), (day(10), day(20)))
    assert merge_ranges([]) == ()


def test_plan_all_gives_every_started_series_in_course_order() -> None:
    plans = plan_all(
        [(series_info(2), [day(50)]), (series_info(1), [day(0)]), (series_info(3), [])], day(60)
    )
    assert [sid.int for sid in plans] == [1, 2]
    assert [plan.place.booster for plan in plans.values()] == [False, True]


@settings(max_examples=60, deadline=None)
@given(
    starts=st.lists(st.integers(0, 600), min_size=1, max_size=6),
    lengths=st.lists(st.integers(0, 20), min_size=6, max_size=6),
    as_of=st.integers(0, 700),
)
def test_courses_properties(starts: list[int], lengths: list[int], as_of: int) -> None:
    series = [
        (series_info(number + 1), [day(start), day(start + length)])
        for number, (start, length) in enumerate(zip(starts, lengths, strict=False))
    ]
    plans = list(plan_all(series, day(as_of)).values())
    for before, after in pairwise(plans):
        assert (before.start, before.series.id) <= (after.start, after.series.id)
        assert before.place.next_start == after.start
        assert before.horizon.day < after.start
    for plan in plans:
        first = next(p for p in plans if p.series.id == plan.place.course_id)
        assert (plan.reference.start, plan.reference.end) == (
            first.baseline.start,
            first.baseline.end,
        )
        assert plan.horizon.day <= day(as_of)
        for window in plan.follow_ups:
            assert plan.end < window.start <= window.end <= plan.horizon.day
