"""Local days and the loader's UTC query bounds, across DST changes and half-hour zones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.trends import local_day, utc_range
from app.trends.days import (
    CLOCK_SKEW,
    at_local,
    day_range,
    inclusive_days,
    local_today,
    to_utc,
    utc_text,
    utc_today,
    utcnow,
    wall_clock,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "tz", "expected"),
    [
        # Berlin springs forward on 2026-03-29 at 02:00 CET -> 03:00 CEST.
        (utc("2026-03-28T22:59:59"), "Europe/Berlin", date(2026, 3, 28)),  # 23:59:59 CET
        (utc("2026-03-28T23:00:00"), "Europe/Berlin", date(2026, 3, 29)),  # 00:00 CET
        (utc("2026-03-29T21:59:59"), "Europe/Berlin", date(2026, 3, 29)),  # 23:59:59 CEST
        (utc("2026-03-29T22:00:00"), "Europe/Berlin", date(2026, 3, 30)),
        # ... and falls back on 2026-10-25: 02:00-03:00 happens twice.
        (utc("2026-10-25T00:30:00"), "Europe/Berlin", date(2026, 10, 25)),  # 02:30 CEST
        (utc("2026-10-25T01:30:00"), "Europe/Berlin", date(2026, 10, 25)),  # 02:30 CET
        (utc("2026-10-25T22:59:59"), "Europe/Berlin", date(2026, 10, 25)),  # 23:59:59 CET
        # New York: 23:30 local on either side of its 2026-03-08 change.
        (utc("2026-03-08T04:30:00"), "America/New_York", date(2026, 3, 7)),  # 23:30 EST
        (utc("2026-03-09T03:30:00"), "America/New_York", date(2026, 3, 8)),  # 23:30 EDT
        # Kolkata is UTC+05:30 all year.
        (utc("2026-03-01T18:00:00"), "Asia/Kolkata", date(2026, 3, 1)),  # 23:30 IST
        (utc("2026-03-01T18:29:59"), "Asia/Kolkata", date(2026, 3, 1)),
        (utc("2026-03-01T18:30:00"), "Asia/Kolkata", date(2026, 3, 2)),  # midnight IST
        # The offset a client sent does not matter, only the instant.
        (
            datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "Europe/London",
            date(2026, 3, 1),  # 18:00 GMT
        ),
        (
            datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=1))),
            "Asia/Kolkata",
            date(2026, 3, 2),  # 04:00 IST
        ),
    ],
)
def test_local_day(instant: datetime, tz: str, expected: date) -> None:
    assert local_day(instant, tz) == expected


def test_local_day_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        local_day(datetime(2026, 3, 1, 23, 30), "Europe/Berlin")


@pytest.mark.parametrize(
    ("first", "last", "tz", "low", "high"),
    [
        # A 23-hour day and a 25-hour day in Berlin.
        (
            date(2026, 3, 29),
            date(2026, 3, 29),
            "Europe/Berlin",
            "2026-03-28T23:00:00",
            "2026-03-29T22:00:00",
        ),
        (
            date(2026, 10, 25),
            date(2026, 10, 25),
            "Europe/Berlin",
            "2026-10-24T22:00:00",
            "2026-10-25T23:00:00",
        ),
        (
            date(2026, 3, 1),
            date(2026, 3, 31),
            "Asia/Kolkata",
            "2026-02-28T18:30:00",
            "2026-03-31T18:30:00",
        ),
    ],
)
def test_utc_range(first: date, last: date, tz: str, low: str, high: str) -> None:
    assert utc_range(first, last, tz) == (utc(low), utc(high))


ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "America/Santiago", "America/Havana"]


@settings(max_examples=100, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    first=st.dates(date(2025, 1, 1), date(2027, 12, 31)),
    length=st.integers(0, 3),
    seconds=st.integers(-3 * 86400, 7 * 86400),
)
def test_utc_range_holds_every_instant_of_its_local_days(
    tz: str, first: date, length: int, seconds: int
) -> None:
    # Santiago and Havana change clocks at local midnight: the hard case.
    last = first + timedelta(days=length)
    low, high = utc_range(first, last, tz)
    instant = low + timedelta(seconds=seconds)
    if first <= local_day(instant, tz) <= last:
        assert low <= instant < high
    assert high - low <= timedelta(days=length + 1, hours=2)


def test_day_helpers() -> None:
    assert list(day_range(date(2026, 2, 27), date(2026, 3, 1))) == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    ]
    assert list(day_range(date(2026, 3, 1), date(2026, 2, 28))) == []
    assert inclusive_days(date(2026, 1, 1), date(2026, 12, 31)) == 365


def test_instants_are_written_in_utc_with_a_z() -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    assert utc_text(datetime(2026, 3, 1, 23, 30, tzinfo=kolkata)) == "2026-03-01T18:00:00Z"
    assert utc_text(utc("2026-03-01T07:15:00.250000")) == "2026-03-01T07:15:00.250000Z"
    assert to_utc(datetime(2026, 3, 1, 1, 0, tzinfo=kolkata)) == utc("2026-02-28T19:30:00")
    assert to_utc(datetime(2026, 3, 1, 1, 0, tzinfo=kolkata)).tzinfo is UTC


@pytest.mark.parametrize("convert", [utc_text, to_utc, lambda ts: local_day(ts, "UTC")])
def test_a_naive_datetime_is_refused(convert: Callable[[datetime], object]) -> None:
    with pytest.raises(ValueError, match="aware"):
        convert(datetime(2026, 3, 1, 12, 0))


def test_wall_clock_and_at_local_go_both_ways_across_dst() -> None:
    # Berlin: 09:30 is CET (UTC+1) before 2026-03-29, CEST (UTC+2) after.
    assert at_local(date(2026, 3, 28), time(9, 30), "Europe/Berlin") == utc("2026-03-28T08:30:00")
    assert at_local(date(2026, 3, 30), time(9, 30), "Europe/Berlin") == utc("2026-03-30T07:30:00")
    shown = wall_clock(utc("2026-03-30T07:30:00"), "Europe/Berlin")
    assert (shown.date(), shown.time(), shown.utcoffset()) == (
        date(2026, 3, 30),
        time(9, 30),
        timedelta(hours=2),
    )
    # In the gap (02:30 does not exist on 2026-03-29) the earlier reading is taken.
    assert at_local(date(2026, 3, 29), time(2, 30), "Europe/Berlin") == utc("2026-03-29T01:30:00")


def test_local_today_allows_the_clock_skew() -> None:
    # 23:55 in Berlin: within the skew of midnight, a client may already call it the next day.
    now = utc("2026-03-01T22:55:00")
    assert local_day(now, "Europe/Berlin") == date(2026, 3, 1)
    assert local_today("Europe/Berlin", now) == date(2026, 3, 2)
    assert local_today("Europe/Berlin", now - CLOCK_SKEW) == date(2026, 3, 1)
    before = utcnow().date()
    assert before <= utc_today() <= utcnow().date()
