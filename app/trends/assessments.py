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


PHQ9 = "phq9"
# A rise of 5 or more PHQ-9 points is a clinically meaningful worsening (the PHQ-9's minimal
# clinically important difference; one severity band is 5 points wide).
PHQ9_WORSENING_POINTS = 5


@dataclass(frozen=True)
class HistoryEntry:
    """One questionnaire result in the full history.

    ``change``: the total minus the instrument's previous total (``None`` for its first).
    ``worse_than_previous`` / ``worse_than_baseline``: PHQ-9 only, a rise of at least
    ``PHQ9_WORSENING_POINTS`` over the previous PHQ-9, or over the baseline PHQ-9 (the last one
    on or before the reference baseline's end, i.e. before the course's treatment began).
    ``baseline``: this is that baseline PHQ-9.
    """

    instrument: str
    day: date
    taken_at: datetime
    total: int
    window: str | None
    change: int | None
    previous_day: date | None = None
    baseline: bool = False
    worse_than_previous: bool = False
    worse_than_baseline: bool = False

    @property
    def worsening(self) -> bool:
        return self.worse_than_previous or self.worse_than_baseline


def questionnaire_history(
    rows: Iterable[AssessmentRow], windows: Sequence[Window], baseline_end: date, as_of: date
) -> tuple[HistoryEntry, ...]:
    """Every result up to ``as_of``, oldest first, with PHQ-9 worsenings flagged."""
    ordered = sorted(
        (row for row in rows if row.local_day <= as_of),
        key=lambda row: (row.taken_at, row.instrument, row.total),
    )
    baseline = max(
        (row for row in ordered if row.instrument == PHQ9 and row.local_day <= baseline_end),
        key=lambda row: (row.taken_at, row.total),
        default=None,
    )
    previous: dict[str, AssessmentRow] = {}
    entries: list[HistoryEntry] = []
    after_baseline = False
    for row in ordered:
        before = previous.get(row.instrument)
        phq9 = row.instrument == PHQ9
        rise_over_previous = (
            before is not None and row.total - before.total >= PHQ9_WORSENING_POINTS
        )
        rise_over_baseline = (
            after_baseline
            and baseline is not None
            and row.total - baseline.total >= PHQ9_WORSENING_POINTS
        )
        entries.append(
            HistoryEntry(
                instrument=row.instrument,
                day=row.local_day,
                taken_at=row.taken_at,
                total=row.total,
                window=window_name_of(windows, row.local_day),
                change=None if before is None else row.total - before.total,
                previous_day=None if before is None else before.local_day,
                baseline=row is baseline,
                worse_than_previous=phq9 and rise_over_previous,
                worse_than_baseline=phq9 and rise_over_baseline,
            )
        )
        previous[row.instrument] = row
        if row is baseline:
            after_baseline = True
    return tuple(entries)
