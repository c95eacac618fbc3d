"""A patient's past reliefs, described for planning the next booster (never a forecast)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from app.trends.relief import Relief, ReliefStatus

MIN_ENDED_RELIEFS = 2
CENSORED = ("ongoing", "censored")


@dataclass(frozen=True)
class Outlook:
    """Field names are the contract's; ``expected_return`` = [end + 1 + shortest, end + 1 +
    longest] with ``end`` of the course's latest series."""

    ended_reliefs: int
    shortest_days: int
    median_days: float
    longest_days: int
    longest_censored: bool
    latest_series_id: UUID
    latest_relief_status: ReliefStatus | None
    expected_return: tuple[date, date]


def _days(relief: Relief) -> int:
    assert relief.duration_days is not None  # a relief with an onset always has a duration
    return relief.duration_days


def outlook(
    reliefs: Iterable[Relief | None],
    latest_series_id: UUID,
    latest_relief: Relief | None,
    latest_end: date,
) -> Outlook | None:
    """From all of the patient's reliefs (any course); ``None`` under 2 ended ones."""
    with_onset = [
        (relief.status, _days(relief))
        for relief in reliefs
        if relief is not None and relief.onset_day is not None
    ]
    ended = sorted(days for status, days in with_onset if status == "ended")
    if len(ended) < MIN_ENDED_RELIEFS:
        return None
    longest = max(days for _, days in with_onset)
    first_day = latest_end + timedelta(days=1)
    return Outlook(
        ended_reliefs=len(ended),
        shortest_days=ended[0],
        median_days=float(statistics.median(ended)),
        longest_days=longest,
        longest_censored=any(status in CENSORED and days == longest for status, days in with_onset),
        latest_series_id=latest_series_id,
        latest_relief_status=None if latest_relief is None else latest_relief.status,
        expected_return=(
            first_day + timedelta(days=ended[0]),
            first_day + timedelta(days=longest),
        ),
    )
