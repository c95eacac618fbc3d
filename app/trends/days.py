"""Time: the one place where instants become calendar dates, wall-clock times or UTC text.

Everything here is pure (the standard library only), so the trend code and the rest of the app
share it: instants are aware ``datetime``s, zones are IANA names such as ``Europe/Berlin``, and
the API writes instants in UTC with a ``Z``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)
# Phones log offline and their clocks drift; ten minutes is generous for a drifting clock and
# still rejects a wrong date or AM/PM mistake. Dates are compared with the patient's local today
# at now + CLOCK_SKEW (``local_today``).
CLOCK_SKEW = timedelta(minutes=10)


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_today() -> date:
    """Today's date in UTC (file names, bounds that belong to no patient's zone)."""
    return utcnow().date()


@cache
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _aware(ts: datetime) -> datetime:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError("an aware datetime is needed")
    return ts


def to_utc(ts: datetime) -> datetime:
    """The same instant with UTC as its zone."""
    return _aware(ts).astimezone(UTC)


def utc_text(ts: datetime) -> str:
    """An instant as the API writes it: ISO 8601 in UTC with a ``Z`` (``2026-03-01T07:15:00Z``)."""
    return to_utc(ts).isoformat().replace("+00:00", "Z")


def wall_clock(ts: datetime, tz: str) -> datetime:
    """The instant as the clocks in ``tz`` show it (aware, with that zone's offset then)."""
    return _aware(ts).astimezone(_zone(tz))


def local_day(ts: datetime, tz: str) -> date:
    """The calendar date of ``ts`` in the IANA zone ``tz`` (DST-correct); ``ts`` must be aware."""
    return wall_clock(ts, tz).date()


def at_local(day: date, clock: time, tz: str) -> datetime:
    """The instant (in UTC) at which the clocks in ``tz`` show ``clock`` on ``day``. In a DST
    gap or overlap, the earlier reading (``fold=0``)."""
    return datetime.combine(day, clock, _zone(tz)).astimezone(UTC)


def local_today(tz: str, now: datetime | None = None) -> date:
    """The latest date a client in ``tz`` may call today: its calendar date, allowing the same
    clock skew as timestamps."""
    return local_day((now or utcnow()) + CLOCK_SKEW, tz)


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
    zone = _zone(tz)
    return min(_midnights(first_day, zone)), max(_midnights(last_day + ONE_DAY, zone))


def day_range(start: date, end: date) -> Iterator[date]:
    """The days from ``start`` to ``end``, both inclusive (nothing when ``end < start``)."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def inclusive_days(start: date, end: date) -> int:
    """The number of days in the inclusive range ``[start, end]``."""
    return (end - start).days + 1
