"""Treatment courses: an induction series and the boosters that follow it.

Order the patient's series that have a ``start`` (first completed session up to ``as_of``) by
(start, id); P = the series just before. A series starts a course when it is the first, or has
``new_course`` true, or has ``new_course`` null and start > P.end + 182 days; otherwise it
continues P's course. The course's first series gives every series of the course its
reference baseline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from app.trends.inputs import SeriesInfo

COURSE_GAP_DAYS = 182


@dataclass(frozen=True)
class SeriesSpan:
    """A series with the local days of its first and last completed session up to as_of."""

    series: SeriesInfo
    start: date
    end: date

    @property
    def id(self) -> UUID:
        return self.series.id


@dataclass(frozen=True)
class CoursePlace:
    """Where a series stands: its course's first series, its position, the next start."""

    span: SeriesSpan
    first: SeriesSpan
    position: int  # 0 for the course's first series, 1 for its first booster, …
    next_start: date | None  # the next series' start, whatever its course

    @property
    def course_id(self) -> UUID:
        return self.first.id

    @property
    def booster(self) -> bool:
        return self.position > 0


def series_span(
    series: SeriesInfo, completed_days: Iterable[date], as_of: date
) -> SeriesSpan | None:
    """The series' start and end from its completed sessions up to ``as_of``; ``None`` if none."""
    days = [day for day in completed_days if day <= as_of]
    if not days:
        return None
    return SeriesSpan(series, min(days), max(days))


def _starts_course(span: SeriesSpan, previous: SeriesSpan) -> bool:
    if span.series.new_course is not None:
        return span.series.new_course
    return span.start > previous.end + timedelta(days=COURSE_GAP_DAYS)


def place_series(spans: Iterable[SeriesSpan]) -> tuple[CoursePlace, ...]:
    """Every span's place in its course, ordered by (start, id)."""
    ordered = sorted(spans, key=lambda span: (span.start, span.id))
    places: list[CoursePlace] = []
    for number, span in enumerate(ordered):
        previous = places[-1] if places else None
        following = ordered[number + 1].start if number + 1 < len(ordered) else None
        if previous is None or _starts_course(span, previous.span):
            places.append(CoursePlace(span, span, 0, following))
        else:
            places.append(CoursePlace(span, previous.first, previous.position + 1, following))
    return tuple(places)
