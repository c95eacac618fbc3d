"""The headline outcome of a series, for cohort tables: ``series_outcome(inputs)``.

The same numbers as ``compute_trend`` gives for them (a property test holds the two together),
without what a cohort row does not show: no bootstrap, no p-values, no questionnaires. So a
table over hundreds of series costs a diary scan per series and little arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app.trends.inputs import TrendInputs
from app.trends.metrics import DiaryIndex, RangeSummary, as_float, summarise
from app.trends.relief import relief_duration
from app.trends.stats import Category, change_pct, immpact_category, is_responder
from app.trends.windows import BASELINE, Window, clip_windows, series_windows, session_span

FIRST_FOLLOW_UP = "follow_up_1"


def first_follow_up(windows: Sequence[Window]) -> Window:
    """``follow_up_1`` of a series' unclipped windows (every series has one: follow-up >= 1)."""
    return next(window for window in windows if window.name == FIRST_FOLLOW_UP)


def follow_up_responder(
    all_windows: Sequence[Window],
    as_of: date,
    baseline: RangeSummary,
    follow_up_1: RangeSummary | None,
) -> bool | None:
    """>= 50 % fewer attacks per day in follow_up_1; ``None`` until all its days have passed."""
    if as_of < first_follow_up(all_windows).end or follow_up_1 is None:
        return None
    return is_responder(baseline.attacks_per_day, follow_up_1.attacks_per_day)


@dataclass(frozen=True)
class SeriesOutcome:
    """Baseline and follow_up_1 attack rates, their change, responder and relief."""

    first_session_date: date
    last_session_date: date
    baseline_attacks_per_day: float | None
    follow_up_1_attacks_per_day: float | None
    change_pct: float | None
    category: Category | None
    responder: bool | None
    relief_duration_days: int | None
    relief_ongoing: bool | None
    follow_up_1_complete: bool


def series_outcome(inputs: TrendInputs) -> SeriesOutcome:
    """The outcome up to ``inputs.as_of``; raises ``NoCompletedSession`` as ``compute_trend``."""
    series, as_of = inputs.series, inputs.as_of
    completed = (
        session.local_day
        for session in inputs.sessions
        if session.completed and session.local_day <= as_of
    )
    start, end = session_span(completed, as_of)
    all_windows = series_windows(series, start, end)
    windows = {window.name: window for window in clip_windows(all_windows, as_of)}
    index = DiaryIndex.build(inputs.episodes, inputs.checkins, last_day=as_of)
    baseline = summarise(index, windows[BASELINE].start, windows[BASELINE].end)
    clipped = windows.get(FIRST_FOLLOW_UP)
    follow_up_1 = None if clipped is None else summarise(index, clipped.start, clipped.end)
    rate = None if follow_up_1 is None else follow_up_1.attacks_per_day
    change = change_pct(baseline.attacks_per_day, rate)
    last_follow_up_day = min(as_of, end + timedelta(days=series.follow_up_days))
    relief = relief_duration(index, baseline.attacks_per_day, end, last_follow_up_day)
    return SeriesOutcome(
        first_session_date=start,
        last_session_date=end,
        baseline_attacks_per_day=as_float(baseline.attacks_per_day),
        follow_up_1_attacks_per_day=as_float(rate),
        change_pct=as_float(change),
        category=immpact_category(change),
        responder=follow_up_responder(all_windows, as_of, baseline, follow_up_1),
        relief_duration_days=relief.duration_days,
        relief_ongoing=relief.ongoing,
        follow_up_1_complete=as_of >= first_follow_up(all_windows).end,
    )
