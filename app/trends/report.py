"""The trend report of a treatment series: ``compute_trend(inputs) -> TrendResult``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from app.trends.assessments import (
    InstrumentSummary,
    Pgic,
    latest_pgic,
    summarise_assessments,
)
from app.trends.inputs import TrendInputs
from app.trends.medications import MedicationChange, medication_changes
from app.trends.metrics import DiaryIndex, WindowMetrics, summarise, window_metrics
from app.trends.outcome import FIRST_FOLLOW_UP, follow_up_responder
from app.trends.relief import relief_duration
from app.trends.sessions import AcuteResponse, acute_response, adverse_effects
from app.trends.stats import Comparison, bootstrap_ci, bootstrap_seed, compare
from app.trends.windows import BASELINE, clip_windows, series_windows, session_span

MIN_BASELINE_OBSERVED_DAYS = 7


@dataclass(frozen=True)
class TrendWarning:
    """Something a clinician must know before trusting the numbers; ``code`` is stable."""

    code: str
    message: str


@dataclass(frozen=True)
class TrendResult:
    """The trend report; field names are the contract's JSON names (``dataclasses.asdict``)."""

    series_id: UUID
    timezone: str
    as_of: date
    first_session_date: date
    last_session_date: date
    sessions_count: int
    windows: tuple[WindowMetrics, ...]
    comparisons: tuple[Comparison, ...]
    responder: bool | None
    relief_duration_days: int | None
    relief_ongoing: bool | None
    acute_response: AcuteResponse
    adverse_effects: dict[str, int]
    assessments: tuple[InstrumentSummary, ...]
    pgic: Pgic | None
    medication_changes: tuple[MedicationChange, ...]
    warnings: tuple[TrendWarning, ...]


def compute_trend(inputs: TrendInputs) -> TrendResult:
    """Assemble the report from the loader's rows; data after ``as_of`` is ignored.

    Raises ``NoCompletedSession`` when no completed session lies on or before ``as_of``.
    """
    series, as_of = inputs.series, inputs.as_of
    sessions = [session for session in inputs.sessions if session.local_day <= as_of]
    completed = [session for session in sessions if session.completed]
    start, end = session_span((session.local_day for session in completed), as_of)
    all_windows = series_windows(series, start, end)
    windows = clip_windows(all_windows, as_of)  # baseline and treatment end by as_of: both kept

    index = DiaryIndex.build(inputs.episodes, inputs.checkins, last_day=as_of)
    summaries = {window.name: summarise(index, window.start, window.end) for window in windows}
    seed = bootstrap_seed(series.id)
    metrics = tuple(
        window_metrics(
            window, summaries[window.name], bootstrap_ci(summaries[window.name].daily_attacks, seed)
        )
        for window in windows
    )
    baseline = summaries[BASELINE]
    comparisons = tuple(
        comparison
        for window in windows[1:]
        for comparison in compare(baseline, window.name, summaries[window.name])
    )
    last_follow_up_day = min(as_of, end + timedelta(days=series.follow_up_days))
    relief = relief_duration(index, baseline.attacks_per_day, end, last_follow_up_day)
    changes = medication_changes(inputs.medications, windows, inputs.medication_doses)
    incomplete = len(sessions) - len(completed)

    return TrendResult(
        series_id=series.id,
        timezone=inputs.timezone,
        as_of=as_of,
        first_session_date=start,
        last_session_date=end,
        sessions_count=len(completed),
        windows=metrics,
        comparisons=comparisons,
        responder=follow_up_responder(all_windows, as_of, baseline, summaries.get(FIRST_FOLLOW_UP)),
        relief_duration_days=relief.duration_days,
        relief_ongoing=relief.ongoing,
        acute_response=acute_response(completed),
        adverse_effects=adverse_effects(sessions),
        assessments=summarise_assessments(inputs.assessments, start, windows[1:]),
        pgic=latest_pgic(inputs.assessments, start, as_of),
        medication_changes=changes,
        warnings=trend_warnings(metrics, changes, incomplete),
    )


def trend_warnings(
    windows: Sequence[WindowMetrics],
    changes: Sequence[MedicationChange],
    incomplete_sessions: int,
) -> tuple[TrendWarning, ...]:
    """The warnings of a report, baseline first; messages carry no patient-entered text."""
    warnings: list[TrendWarning] = []
    baseline = windows[0]
    if baseline.observed_days == 0:
        warnings.append(
            TrendWarning(
                "no_baseline",
                "The baseline has no observed day: no change from baseline can be computed.",
            )
        )
    if baseline.observed_days < MIN_BASELINE_OBSERVED_DAYS:
        warnings.append(
            TrendWarning(
                "baseline_few_observed_days",
                f"The baseline has {baseline.observed_days} observed days, fewer than "
                f"{MIN_BASELINE_OBSERVED_DAYS}: comparisons with it are unreliable.",
            )
        )
    for window in windows:
        if 2 * window.observed_days < window.days:
            warnings.append(
                TrendWarning(
                    "low_coverage",
                    f"Window {window.name} has diary data on {window.observed_days} of "
                    f"{window.days} days ({window.coverage:.0%}), under 50 %.",
                )
            )
    if changes:
        warnings.append(
            TrendWarning(
                "medication_changed_during_series",
                f"{len(changes)} maintenance-medication change(s) fall inside the report's "
                "windows (see medication_changes): comparisons may be confounded.",
            )
        )
    if incomplete_sessions:
        warnings.append(
            TrendWarning(
                "incomplete_sessions_excluded",
                f"{incomplete_sessions} incomplete session(s) are left out of the session dates, "
                "the session count and the acute response; their adverse effects are counted.",
            )
        )
    return tuple(warnings)
