"""Questionnaire results around a series: per instrument, before start and per later window."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from app.trends.inputs import AssessmentRow
from app.trends.windows import Window

PGIC = "pgic"
PGIC_IMPROVED_MAX = 2  # PGIC 1-2: much or very much improved


@dataclass(frozen=True)
class AssessmentValue:
    """The last result of an instrument before the first session day."""

    taken_at: datetime
    total: int


@dataclass(frozen=True)
class WindowAssessment:
    """The last result of an instrument in one window."""

    window: str
    taken_at: datetime
    total: int


@dataclass(frozen=True)
class InstrumentSummary:
    """One instrument: its last total before start, and its last in each later window."""

    instrument: str
    before_start: AssessmentValue | None
    windows: tuple[WindowAssessment, ...]


@dataclass(frozen=True)
class Pgic:
    """The latest PGIC on or after the first session day; ``improved`` when 1 or 2."""

    taken_at: datetime
    total: int
    improved: bool


def _latest(rows: Iterable[AssessmentRow]) -> AssessmentRow | None:
    return max(rows, key=lambda row: (row.taken_at, row.total), default=None)


def summarise_assessments(
    rows: Iterable[AssessmentRow], start: date, later_windows: Iterable[Window]
) -> tuple[InstrumentSummary, ...]:
    """Per instrument (sorted), the last total before ``start`` and the last in each window.

    ``later_windows`` are the clipped treatment and follow-up windows; rows outside them and
    after ``start`` are not reported.
    """
    by_instrument: defaultdict[str, list[AssessmentRow]] = defaultdict(list)
    for row in rows:
        by_instrument[row.instrument].append(row)
    windows = tuple(later_windows)
    summaries: list[InstrumentSummary] = []
    for instrument, instrument_rows in sorted(by_instrument.items()):
        before = _latest(row for row in instrument_rows if row.local_day < start)
        values: list[WindowAssessment] = []
        for window in windows:
            last = _latest(row for row in instrument_rows if window.contains(row.local_day))
            if last is not None:
                values.append(WindowAssessment(window.name, last.taken_at, last.total))
        if before is None and not values:
            continue
        summaries.append(
            InstrumentSummary(
                instrument=instrument,
                before_start=None
                if before is None
                else AssessmentValue(before.taken_at, before.total),
                windows=tuple(values),
            )
        )
    return tuple(summaries)


def latest_pgic(rows: Iterable[AssessmentRow], start: date, as_of: date) -> Pgic | None:
    """The latest PGIC whose local day is in ``[start, as_of]``."""
    last = _latest(
        row for row in rows if row.instrument == PGIC and start <= row.local_day <= as_of
    )
    if last is None:
        return None
    return Pgic(last.taken_at, last.total, last.total <= PGIC_IMPROVED_MAX)
