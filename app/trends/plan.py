"""A series' plan: its course, windows and horizon, from session days alone (no diary).

The loader uses the plan to decide which days to read (``diary_ranges``) before it reads any
diary row; ``compute_trend`` builds the same plan again from the same inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from app.trends.courses import CoursePlace, place_series, series_span
from app.trends.days import ONE_DAY
from app.trends.inputs import SeriesInfo, TrendInputs
from app.trends.windows import (
    BASELINE,
    REFERENCE_BASELINE,
    TREATMENT,
    Bound,
    NoCompletedSession,
    Window,
    baseline_window,
    follow_up_windows,
    horizon,
)

DayRange = tuple[date, date]


@dataclass(frozen=True)
class SeriesPlan:
    """The windows of one series as of ``as_of``; ``horizon`` is H."""

    place: CoursePlace
    as_of: date
    horizon: Bound
    baseline: Window
    reference: Window  # the reference baseline: ``baseline`` itself for a course's first series
    treatment: Window
    follow_ups: tuple[Window, ...]

    @property
    def series(self) -> SeriesInfo:
        return self.place.span.series

    @property
    def start(self) -> date:
        return self.place.span.start

    @property
    def end(self) -> date:
        return self.place.span.end

    @property
    def windows(self) -> tuple[Window, ...]:
        """In the contract's order: baseline, reference_baseline (boosters), treatment, …"""
        reference = (self.reference,) if self.place.booster else ()
        return (self.baseline, *reference, self.treatment, *self.follow_ups)


def series_days(inputs: TrendInputs) -> list[tuple[SeriesInfo, tuple[date, ...]]]:
    """Every series of the inputs with the local days of its completed sessions."""
    own = tuple(row.local_day for row in inputs.sessions if row.completed)
    return [(inputs.series, own)] + [
        (other.series, other.completed_days) for other in inputs.other_series
    ]


def place_all(
    series: Iterable[tuple[SeriesInfo, Iterable[date]]], as_of: date
) -> tuple[CoursePlace, ...]:
    """The course place of every series that has a start by ``as_of``, by (start, id)."""
    spans = (series_span(info, days, as_of) for info, days in series)
    return place_series(span for span in spans if span is not None)


def plan_of(place: CoursePlace, as_of: date) -> SeriesPlan:
    """The windows and horizon of the series at ``place``."""
    span, first = place.span, place.first
    bound = horizon(span.end, span.series.follow_up_days, place.next_start, as_of)
    baseline = baseline_window(BASELINE, span.start, span.series.baseline_days)
    reference = (
        baseline_window(REFERENCE_BASELINE, first.start, first.series.baseline_days)
        if place.booster
        else baseline
    )
    return SeriesPlan(
        place=place,
        as_of=as_of,
        horizon=bound,
        baseline=baseline,
        reference=reference,
        treatment=Window(TREATMENT, span.start, span.end),
        follow_ups=follow_up_windows(span.end, bound.day),
    )


def plan_all(
    series: Iterable[tuple[SeriesInfo, Iterable[date]]], as_of: date
) -> dict[UUID, SeriesPlan]:
    """The plan of every series that has a start by ``as_of``, by series id (in course order)."""
    return {place.span.id: plan_of(place, as_of) for place in place_all(series, as_of)}


def plan_for(inputs: TrendInputs) -> SeriesPlan:
    """The plan of ``inputs.series``; raises ``NoCompletedSession`` when it has no start."""
    plans = plan_all(series_days(inputs), inputs.as_of)
    if inputs.series.id not in plans:
        raise NoCompletedSession("no completed session up to as_of")
    return plans[inputs.series.id]


def merge_ranges(ranges: Iterable[DayRange]) -> tuple[DayRange, ...]:
    """Inclusive day ranges, sorted, with overlapping or touching ones joined."""
    merged: list[DayRange] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + ONE_DAY:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)


def diary_ranges(plan: SeriesPlan, through: date | None = None) -> tuple[DayRange, ...]:
    """The days whose diary the series' numbers use: the reference baseline, and its own
    baseline to H. With ``through`` (the chart's as_of): every day from the first window's
    start to ``through``."""
    if through is not None:
        first = min(plan.reference.start, plan.baseline.start)
        return ((first, max(through, plan.end)),)
    return merge_ranges(
        [
            (plan.reference.start, plan.reference.end),
            (plan.baseline.start, max(plan.horizon.day, plan.end)),
        ]
    )
