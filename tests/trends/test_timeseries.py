"""Day and ISO-week buckets for GET /timeseries."""

from __future__ import annotations

from datetime import date
from typing import cast

import pytest

from app.trends import Bucket, TimeseriesItem, bucket_ranges, timeseries
from app.trends.inputs import CheckinRow, EpisodeRow

MON, WED, TUE = date(2026, 1, 5), date(2026, 1, 7), date(2026, 1, 20)


def test_day_buckets() -> None:
    assert bucket_ranges(WED, date(2026, 1, 9), "day") == (
        (WED, WED),
        (date(2026, 1, 8), date(2026, 1, 8)),
        (date(2026, 1, 9), date(2026, 1, 9)),
    )


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        # Wednesday to the Tuesday two weeks later: the first and last weeks are cut.
        (WED, TUE, ((WED, date(2026, 1, 11)), (date(2026, 1, 12), date(2026, 1, 18)),
                    (date(2026, 1, 19), TUE))),
        (MON, date(2026, 1, 18), ((MON, date(2026, 1, 11)),
                                  (date(2026, 1, 12), date(2026, 1, 18)))),
        (WED, WED, ((WED, WED),)),
        (date(2026, 1, 11), date(2026, 1, 12), ((date(2026, 1, 11), date(2026, 1, 11)),
                                                 (date(2026, 1, 12), date(2026, 1, 12)))),
        # ISO week 1 of 2027 starts on Monday 2027-01-04; 2026-12-28 to 2027-01-03 is one week.
        (date(2026, 12, 31), date(2027, 1, 4), ((date(2026, 12, 31), date(2027, 1, 3)),
                                                 (date(2027, 1, 4), date(2027, 1, 4)))),
    ],
)  # fmt: skip
def test_week_buckets(first: date, last: date, expected: tuple[tuple[date, date], ...]) -> None:
    assert bucket_ranges(first, last, "week") == expected


def test_bucket_ranges_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="before"):
        bucket_ranges(TUE, WED, "day")
    with pytest.raises(ValueError, match="unknown bucket"):
        bucket_ranges(WED, TUE, cast(Bucket, "month"))


def test_timeseries_by_week() -> None:
    episodes = [
        EpisodeRow(WED, 3, 6, 20, ("eating",)),
        EpisodeRow(WED, 1, 8, 20, ()),
        EpisodeRow(date(2026, 1, 10), 2, 4, 20, ()),
        EpisodeRow(date(2026, 1, 21), 9, 9, 20, ()),  # after `to`
    ]
    checkins = [
        CheckinRow(date(2026, 1, 8), no_attacks=True),
        CheckinRow(date(2026, 1, 13), no_attacks=False, bni="IV"),  # observes nothing
    ]
    # Mean intensity per attack: (3 x 6 + 1 x 8 + 2 x 4) / 6, as the trend's windows weigh it.
    assert timeseries(episodes, checkins, WED, TUE, "week") == (
        TimeseriesItem(WED, date(2026, 1, 11), 3, 6, 2.0, 34 / 6, 8, 1),
        TimeseriesItem(date(2026, 1, 12), date(2026, 1, 18), 0, 0, None, None, None, 0),
        TimeseriesItem(date(2026, 1, 19), TUE, 0, 0, None, None, None, 0),
    )


def test_timeseries_by_day() -> None:
    items = timeseries(
        [EpisodeRow(WED, 4, 7, 20, ())], [CheckinRow(date(2026, 1, 8), True)], WED,
        date(2026, 1, 9), "day",
    )  # fmt: skip
    assert items == (
        TimeseriesItem(WED, WED, 1, 4, 4.0, 7.0, 7, 0),
        TimeseriesItem(date(2026, 1, 8), date(2026, 1, 8), 1, 0, 0.0, None, None, 1),
        TimeseriesItem(date(2026, 1, 9), date(2026, 1, 9), 0, 0, None, None, None, 0),
    )
