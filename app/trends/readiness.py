"""Baseline readiness of a planned series: "18 of 23 baseline days logged, 9 days to go"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from app.trends.flags import Flag, baseline_flags
from app.trends.inputs import CheckinRow, EpisodeRow, MedicationRow, SeriesInfo
from app.trends.medications import medication_events
from app.trends.metrics import DiaryIndex, summarise
from app.trends.windows import BASELINE, Window, baseline_window

READY_FRACTION = (4, 5)  # target observed days = ceil(0.8 x baseline_days)


@dataclass(frozen=True)
class Readiness:
    """How a planned series' baseline is filling; field names are the contract's."""

    planned_start: date
    baseline_start: date
    baseline_end: date
    days_elapsed: int
    observed_days: int
    target_observed_days: int
    days_left: int
    on_track: bool
    flags: tuple[Flag, ...]


def readiness(
    series: SeriesInfo,
    planned_start: date,
    as_of: date,
    *,
    episodes: Iterable[EpisodeRow] = (),
    checkins: Iterable[CheckinRow] = (),
    medications: Iterable[MedicationRow] = (),
    other_session_days: Iterable[date] = (),
) -> Readiness:
    """The baseline before ``planned_start`` as of ``as_of``, flags over its elapsed days
    (``short`` only once the baseline is over; none while no day has elapsed)."""
    baseline = baseline_window(BASELINE, planned_start, series.baseline_days)
    days_elapsed = min(max((as_of - baseline.start).days + 1, 0), series.baseline_days)
    numerator, denominator = READY_FRACTION
    target = -(-numerator * series.baseline_days // denominator)
    days_left = series.baseline_days - days_elapsed
    observed = 0
    flags: tuple[Flag, ...] = ()
    if days_elapsed:
        elapsed = Window(BASELINE, baseline.start, min(as_of, baseline.end))
        index = DiaryIndex.build(episodes, checkins, last_day=as_of)
        observed = summarise(index, elapsed.start, elapsed.end).observed_days
        flags = baseline_flags(
            index,
            elapsed,
            other_session_days=[day for day in other_session_days if day <= as_of],
            events=[event for event in medication_events(medications) if event.date <= as_of],
            short_applies=baseline.end <= as_of,
        )
    return Readiness(
        planned_start=planned_start,
        baseline_start=baseline.start,
        baseline_end=baseline.end,
        days_elapsed=days_elapsed,
        observed_days=observed,
        target_observed_days=target,
        days_left=days_left,
        on_track=observed + days_left >= target,
        flags=flags,
    )
