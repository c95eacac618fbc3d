"""Day and ISO-week buckets for ``GET /timeseries``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from app.trends.days import day_range
from app.trends.inputs import CheckinRow, EpisodeRow
from app.trends.metrics import DiaryIndex, as_float, summarise

Bucket = Literal["day", "week"]
BUCKETS: tuple[Bucket, ...] = ("day", "week")


@dataclass(frozen=True)
class TimeseriesItem:
    """One bucket; field names are the contract's JSON names."""

    start: date
    end: date
    observed_days: int
    attacks: int
    attacks_per_day: float | None
    mean_intensity: float | None
    max_intensity: int | None
    pain_free_days: int


def bucket_ranges(from_day: date, to_day: date, bucket: Bucket) -> tuple[tuple[date, date], ...]:
    """Inclusive ``(start, end)`` per bucket; ISO weeks run Monday to Sunday, cut to the range."""
    if to_day < from_day:
        raise ValueError("to must not be before from")
    if bucket == "day":
        return tuple((day, day) for day in day_range(from_day, to_day))
    if bucket != "week":
        raise ValueError(f"unknown bucket {bucket!r}")
    ranges: list[tuple[date, date]] = []
    monday = from_day - timedelta(days=from_day.weekday())
    while monday <= to_day:
        ranges.append((max(monday, from_day), min(monday + timedelta(days=6), to_day)))
        monday += timedelta(weeks=1)
    return tuple(ranges)


def timeseries(
    episodes: Iterable[EpisodeRow],
    checkins: Iterable[CheckinRow],
    from_day: date,
    to_day: date,
    bucket: Bucket,
) -> tuple[TimeseriesItem, ...]:
    """One item per bucket of ``[from_day, to_day]``, with the trend report's day semantics."""
    index = DiaryIndex.build(episodes, checkins)
    items: list[TimeseriesItem] = []
    for start, end in bucket_ranges(from_day, to_day, bucket):
        summary = summarise(index, start, end)
        items.append(
            TimeseriesItem(
                start=start,
                end=end,
                observed_days=summary.observed_days,
                attacks=summary.attacks,
                attacks_per_day=as_float(summary.attacks_per_day),
                mean_intensity=as_float(summary.mean_intensity),
                max_intensity=summary.max_intensity,
                pain_free_days=summary.pain_free_days,
            )
        )
    return tuple(items)
