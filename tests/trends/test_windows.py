"""Window tiling: baseline, treatment, 28-day follow-up blocks, clipping to as_of."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.trends import NoCompletedSession, SeriesInfo, Window, follow_up_windows, window_range
from app.trends.windows import clip_windows, series_windows, session_span, window_name_of
from tests.trends.builders import SERIES_ID, day


def spans(windows: tuple[Window, ...]) -> list[tuple[str, int, int]]:
    """(name, first offset, last offset) of each window, relative to day 0."""
    return [(w.name, (w.start - day(0)).days, (w.end - day(0)).days) for w in windows]


@pytest.mark.parametrize(
    ("follow_up_days", "expected"),
    [
        (84, [("follow_up_1", 11, 38), ("follow_up_2", 39, 66), ("follow_up_3", 67, 94)]),
        (30, [("follow_up_1", 11, 38), ("follow_up_2", 39, 40)]),
        (28, [("follow_up_1", 11, 38)]),
        (29, [("follow_up_1", 11, 38), ("follow_up_2", 39, 39)]),
        (1, [("follow_up_1", 11, 11)]),
    ],
)
def test_follow_up_windows(follow_up_days: int, expected: list[tuple[str, int, int]]) -> None:
    assert spans(follow_up_windows(day(10), follow_up_days)) == expected


def test_follow_up_windows_for_the_longest_series_make_13_blocks() -> None:
    windows = follow_up_windows(day(0), 364)
    assert len(windows) == 13
    assert all(window.days == 28 for window in windows)


def test_series_windows() -> None:
    series = SeriesInfo(SERIES_ID, baseline_days=14, follow_up_days=56)
    assert spans(series_windows(series, day(0), day(4))) == [
        ("baseline", -14, -1),
        ("treatment", 0, 4),
        ("follow_up_1", 5, 32),
        ("follow_up_2", 33, 60),
    ]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (4, [("baseline", -14, -1), ("treatment", 0, 4)]),  # follow-ups not begun: dropped
        (5, [("baseline", -14, -1), ("treatment", 0, 4), ("follow_up_1", 5, 5)]),
        (40, [("baseline", -14, -1), ("treatment", 0, 4), ("follow_up_1", 5, 32),
              ("follow_up_2", 33, 40)]),
        (60, [("baseline", -14, -1), ("treatment", 0, 4), ("follow_up_1", 5, 32),
              ("follow_up_2", 33, 60)]),
        (500, [("baseline", -14, -1), ("treatment", 0, 4), ("follow_up_1", 5, 32),
               ("follow_up_2", 33, 60)]),
    ],
)  # fmt: skip
def test_clip_windows(as_of: int, expected: list[tuple[str, int, int]]) -> None:
    series = SeriesInfo(SERIES_ID, baseline_days=14, follow_up_days=56)
    assert spans(clip_windows(series_windows(series, day(0), day(4)), day(as_of))) == expected


def test_clip_windows_cuts_a_window_that_as_of_falls_inside() -> None:
    windows = (Window("a", day(0), day(9)), Window("b", day(10), day(19)))
    assert clip_windows(windows, day(3)) == (Window("a", day(0), day(3)),)
    assert clip_windows(windows, day(-1)) == ()


def test_window_days_and_contains() -> None:
    window = Window("w", day(0), day(6))
    assert window.days == 7
    assert window.contains(day(0))
    assert window.contains(day(6))
    assert not window.contains(day(7))
    assert not window.contains(day(-1))
    assert Window("one", day(3), day(3)).days == 1


def test_window_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        Window("w", day(1), day(0))


@pytest.mark.parametrize(("baseline_days", "follow_up_days"), [(0, 84), (28, 0), (-1, -1)])
def test_series_info_rejects_empty_periods(baseline_days: int, follow_up_days: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SeriesInfo(SERIES_ID, baseline_days, follow_up_days)


def test_series_info_defaults_follow_the_contract() -> None:
    series = SeriesInfo(SERIES_ID)
    assert (series.baseline_days, series.follow_up_days) == (28, 84)


def test_session_span_uses_completed_sessions_up_to_as_of() -> None:
    assert session_span([day(5), day(0), day(2), day(30)], day(10)) == (day(0), day(5))
    assert session_span([day(3)], day(3)) == (day(3), day(3))


@pytest.mark.parametrize("days", [[], [day(11)], [day(11), day(40)]])
def test_session_span_without_a_completed_session_raises(days: list[date]) -> None:
    with pytest.raises(NoCompletedSession):
        session_span(days, day(10))


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [(0, (-28, 0)), (2, (-28, 2)), (30, (-28, 30)), (86, (-28, 86)), (87, (-28, 86))],
)
def test_window_range(as_of: int, expected: tuple[int, int]) -> None:
    first, last = window_range(SeriesInfo(SERIES_ID), [day(0), day(2)], day(as_of))
    assert ((first - day(0)).days, (last - day(0)).days) == expected


def test_window_range_without_a_completed_session_raises() -> None:
    with pytest.raises(NoCompletedSession):
        window_range(SeriesInfo(SERIES_ID), [day(5)], day(4))


def test_window_name_of() -> None:
    windows = series_windows(SeriesInfo(SERIES_ID, 7, 56), day(0), day(0))
    assert window_name_of(windows, day(-7)) == "baseline"
    assert window_name_of(windows, day(0)) == "treatment"
    assert window_name_of(windows, day(29)) == "follow_up_2"
    assert window_name_of(windows, day(-8)) is None
    assert window_name_of(windows, day(57)) is None


@settings(max_examples=100, deadline=None)
@given(
    start=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    treatment_days=st.integers(0, 60),
    baseline_days=st.integers(7, 90),
    follow_up_days=st.integers(28, 364),
    as_of_after_end=st.integers(0, 500),
)
def test_windows_tile_without_gaps_or_overlaps(
    start: date, treatment_days: int, baseline_days: int, follow_up_days: int, as_of_after_end: int
) -> None:
    end = start + timedelta(days=treatment_days)
    as_of = end + timedelta(days=as_of_after_end)
    series = SeriesInfo(SERIES_ID, baseline_days, follow_up_days)
    windows = clip_windows(series_windows(series, start, end), as_of)

    assert windows[0].name == "baseline"
    assert windows[0].start == start - timedelta(days=baseline_days)
    assert windows[1] == Window("treatment", start, end)
    for before, after in itertools.pairwise(windows):
        assert after.start == before.end + timedelta(days=1)
    assert windows[-1].end == min(as_of, end + timedelta(days=follow_up_days))
    assert sum(w.days for w in windows) == baseline_days + treatment_days + 1 + min(
        as_of_after_end, follow_up_days
    )
    follow_ups = windows[2:]
    assert [w.name for w in follow_ups] == [f"follow_up_{i}" for i in range(1, len(follow_ups) + 1)]
    assert all(w.days == 28 for w in follow_ups[:-1])
    assert all(1 <= w.days <= 28 for w in follow_ups)
    assert window_range(series, [start, end], as_of) == (windows[0].start, windows[-1].end)
