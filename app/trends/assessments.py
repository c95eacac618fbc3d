"""Questionnaire results around a series: every total from the reference baseline's start."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from app.trends.inputs import AssessmentRow
from app.trends.windows import Window, window_name_of

PGIC = "pgic"
PGIC_IMPROVED_MAX = 2  # PGIC 1-2: much or very much improved


@dataclass(frozen=True)
class AssessmentValue:
    """One total, dated, with the report window its day falls in (``None``: between them)."""

    date: date
    taken_at: datetime
    total: int
    window: str | None


@dataclass(frozen=True)
class InstrumentSummary:
    """Every total of one instrument in the report's span, oldest first."""

    instrument: str
    values: tuple[AssessmentValue, ...]


@dataclass(frozen=True)
class Pgic:
    """The latest PGIC on or after the first session day; ``improved`` when 1 or 2."""

    taken_at: datetime
    total: int
    improved: bool


def summarise_assessments(
    rows: Iterable[AssessmentRow], first_day: date, as_of: date, windows: Sequence[Window]
) -> tuple[InstrumentSummary, ...]:
    """Per instrument (sorted), every total whose day is in ``[first_day, as_of]``."""
    by_instrument: defaultdict[str, list[AssessmentRow]] = defaultdict(list)
    for row in rows:
        if first_day <= row.local_day <= as_of:
            by_instrument[row.instrument].append(row)
    return tuple(
        InstrumentSummary(
            instrument,
            tuple(
                AssessmentValue(
                    row.local_day, row.taken_at, row.total, window_name_of(windows, row.local_day)
                )
                for row in sorted(instrument_rows, key=lambda row: (row.taken_at, row.total))
            ),
        )
        for instrument, instrument_rows in sorted(by_instrument.items())
    )


def latest_pgic(rows: Iterable[AssessmentRow], start: date, as_of: date) -> Pgic | None:
    """The latest PGIC whose local day is in ``[start, as_of]``."""
    last = max(
        (row for row in rows if row.instrument == PGIC and start <= row.local_day <= as_of),
        key=lambda row: (row.taken_at, row.total),
        default=None,
    )
    if last is None:
        return None
    return Pgic(last.taken_at, last.total, last.total <= PGIC_IMPROVED_MAX)
