"""Local days: the one place where a time zone turns instants into calendar dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
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


# --- a record's own written offset ------------------------------------------------------------
# An episode's or session's local day is the date of its ``started_at`` in the UTC offset it was
# written with (stored with the row), not in the patient's current zone: a later move of the
# patient changes no day already lived. Real offsets lie within ±14:00 (Kiribati, +14:00, is the
# furthest east; -12:00 the furthest west), which the API enforces on input.

MAX_OFFSET_MINUTES = 14 * 60


def offset_minutes(ts: datetime) -> int:
    """The UTC offset ``ts`` carries, in whole minutes (RFC 3339 offsets have no seconds; a
    zone's historical offset with seconds is rounded to the nearest minute)."""
    offset = ts.utcoffset()
    if offset is None:
        raise ValueError("offset_minutes needs an aware datetime")
    return round(offset.total_seconds() / 60)


def zone_offset_minutes(ts: datetime, tz: str) -> int:
    """The offset of the IANA zone ``tz`` at the instant ``ts``, in minutes (DST-correct)."""
    return offset_minutes(ts.astimezone(ZoneInfo(tz)))


def at_offset(ts: datetime, minutes: int) -> datetime:
    """The instant ``ts`` shown in the fixed UTC offset of ``minutes``."""
    return ts.astimezone(timezone(timedelta(minutes=minutes)))


def local_day_at_offset(ts: datetime, minutes: int) -> date:
    """The calendar date of the instant ``ts`` in the UTC offset of ``minutes`` minutes."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("local_day_at_offset needs an aware datetime")
    if abs(minutes) > MAX_OFFSET_MINUTES:
        raise ValueError(f"a UTC offset lies within ±{MAX_OFFSET_MINUTES} minutes")
    return (ts.astimezone(UTC) + timedelta(minutes=minutes)).date()


def any_offset_utc_range(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """Half-open UTC bounds ``[low, high)`` holding every instant that is on one of the days
    ``first_day .. last_day`` in *some* offset within ±14:00: the indexed ``started_at`` query for
    rows whose local day follows their own offset. It may hold up to 14 hours too much on each
    side; the caller keeps the rows whose ``local_day_at_offset`` is in range."""
    spread = timedelta(minutes=MAX_OFFSET_MINUTES)
    low = datetime.combine(first_day, time(), UTC) - spread
    high = datetime.combine(last_day + ONE_DAY, time(), UTC) + spread
    return low, high
