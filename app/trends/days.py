"""Local days: the one place where a time zone turns instants into calendar dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)


def local_day(ts: datetime, tz: str) -> date:
    """The calendar date of ``ts`` in the IANA zone ``tz`` (DST-correct); ``ts`` must be aware."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("local_day needs an aware datetime")
    return ts.astimezone(ZoneInfo(tz)).date()


def _midnights(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    naive = datetime.combine(day, time())
    return (
        naive.replace(tzinfo=zone, fold=0).astimezone(UTC),
        naive.replace(tzinfo=zone, fold=1).astimezone(UTC),
    )


def utc_range(first_day: date, last_day: date, tz: str) -> tuple[datetime, datetime]:
    """Half-open UTC bounds ``[low, high)`` holding every instant of the local days given.

    For the loader's indexed ``started_at`` query. Where a DST change falls on midnight, local
    midnight is missing or doubled; the bounds then take the wider reading, so they may hold an
    hour too much but never miss an instant: the loader still computes each row's ``local_day``.
    """
    zone = ZoneInfo(tz)
    return min(_midnights(first_day, zone)), max(_midnights(last_day + ONE_DAY, zone))


def day_range(start: date, end: date) -> Iterator[date]:
    """The days from ``start`` to ``end``, both inclusive (nothing when ``end < start``)."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def inclusive_days(start: date, end: date) -> int:
    """The number of days in the inclusive range ``[start, end]``."""
    return (end - start).days + 1
