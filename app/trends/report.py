"""The trend report of a treatment series: ``compute_trend(inputs) -> TrendResult``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

from app.trends.analysis import SeriesAnalysis, analyse
from app.trends.assessments import InstrumentSummary, Pgic, latest_pgic, summarise_assessments
from app.trends.flags import Flag
from app.trends.inputs import TrendInputs, Vitals
from app.trends.medications import MedicationChange, changes_in_windows
from app.trends.metrics import WindowMetrics, window_metrics
from app.trends.relief import Relief
from app.trends.sessions import (
    AcuteResponse,
    acute_response,
    adverse_effects,
    total_mg_per_kg,
    vitals,
)
from app.trends.stats import MIN_OBSERVED_DAYS, Comparison
from app.trends.windows import FOLLOW_UP_PREFIX, TREATMENT

LOW_COVERAGE = 0.5


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
    start: date
    end: date
    course_id: UUID
    booster: bool
    baseline_source: Literal["own", "course"]
    sessions_count: int
    total_mg_per_kg: float | None
    windows: tuple[WindowMetrics, ...]
    comparisons: tuple[Comparison, ...]
    responder: bool | None
    relief: Relief | None
    baseline_flags: tuple[Flag, ...]
    warnings: tuple[TrendWarning, ...]
    assessments: tuple[InstrumentSummary, ...]
    pgic: Pgic | None
    acute_response: AcuteResponse
    vitals: Vitals
    adverse_effects: dict[str, int]
    medication_changes: tuple[MedicationChange, ...]


def compute_trend(inputs: TrendInputs) -> TrendResult:
    """Assemble the report from the loader's rows; data after ``as_of`` is ignored.

    Raises ``NoCompletedSession`` when no completed session lies on or before ``as_of``.
    """
    analysis = analyse(inputs)
    plan, as_of = analysis.plan, inputs.as_of
    sessions = [session for session in inputs.sessions if session.local_day <= as_of]
    completed = [session for session in sessions if session.completed]
    metrics = tuple(
        window_metrics(window, analysis.summaries[window.name]) for window in plan.windows
    )
    changes = changes_in_windows(analysis.events, plan.windows)
    return TrendResult(
        series_id=inputs.series.id,
        timezone=inputs.timezone,
        as_of=as_of,
        start=plan.start,
        end=plan.end,
        course_id=plan.place.course_id,
        booster=plan.place.booster,
        baseline_source="course" if plan.place.booster else "own",
        sessions_count=len(completed),
        total_mg_per_kg=total_mg_per_kg(completed),
        windows=metrics,
        comparisons=analysis.comparisons,
        responder=analysis.responder,
        relief=analysis.relief,
        baseline_flags=analysis.flags,
        warnings=trend_warnings(analysis, metrics, changes, len(sessions) - len(completed)),
        assessments=summarise_assessments(
            inputs.assessments, plan.reference.start, as_of, plan.windows
        ),
        pgic=latest_pgic(inputs.assessments, plan.start, as_of),
        acute_response=acute_response(completed),
        vitals=vitals(sessions),
        adverse_effects=adverse_effects(sessions),
        medication_changes=changes,
    )


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.0f} %"


def flag_warnings(analysis: SeriesAnalysis) -> list[TrendWarning]:
    """One warning per baseline flag, in the flags' order; plain language, no patient text."""
    reference = analysis.reference
    days, observed = reference.days, reference.observed_days
    coverage = _percent(observed / days)
    window = analysis.plan.reference
    since = (analysis.plan.start - window.end).days
    texts: dict[Flag, str] = {
        "short": f"The reference baseline has {observed} observed days, fewer than "
        f"{MIN_OBSERVED_DAYS}: no change category, responder or relief can be given.",
        "low_coverage": f"The reference baseline has diary data on {observed} of {days} days "
        f"({coverage}), under 50 %: its attack rate B is uncertain.",
        "selective_logging": f"The reference baseline has diary data on only {coverage} of its "
        "days and not one pain-free day: unlogged days may have been pain-free, so B may be "
        "overstated and the improvement flattered.",
        "rising": "Attacks rose during the reference baseline (its later half at least 1.5 times "
        "the earlier half): treatment often starts at a flare's peak, so part of any "
        "improvement may be the flare passing (regression to the mean).",
        "other_treatment": "A completed session of another series falls inside the reference "
        "baseline: it is not an untreated baseline.",
        "medication_change": "A maintenance-medication change falls inside the reference "
        "baseline: B mixes two regimens.",
        "old_reference": f"The reference baseline ended {since} days before this booster "
        "(more than a year): the disease may have changed since.",
        "medication_since_reference": "Maintenance medication changed between the reference "
        "baseline and this booster: the comparison mixes treatments.",
    }
    return [TrendWarning(f"baseline_{flag}", texts[flag]) for flag in analysis.flags]


def trend_warnings(
    analysis: SeriesAnalysis,
    windows: Sequence[WindowMetrics],
    changes: Sequence[MedicationChange],
    incomplete_sessions: int,
) -> tuple[TrendWarning, ...]:
    """The warnings of a report: baseline flags first; messages carry no patient text."""
    warnings = flag_warnings(analysis)
    reference_name = analysis.plan.reference.name
    warnings.extend(
        TrendWarning(
            "low_coverage",
            f"Window {window.name} has diary data on {window.observed_days} of {window.days} "
            f"days ({_percent(window.coverage)}), under 50 %.",
        )
        for window in windows
        if window.name != reference_name and window.coverage < LOW_COVERAGE
    )
    during = [
        change
        for change in changes
        if change.window == TREATMENT or change.window.startswith(FOLLOW_UP_PREFIX)
    ]
    if during:
        added = sum(
            change.previous_mg_per_day is None or change.mg_per_day > change.previous_mg_per_day
            for change in during
        )
        warnings.append(
            TrendWarning(
                "medication_changed_during_series",
                f"{len(during)} maintenance-medication change(s) fall in the treatment or "
                f"follow-up windows (see medication_changes), {added} of them a start or dose "
                "increase, which ends the look at relief (censored); a stop or decrease may "
                "bring the end of relief earlier. Comparisons after a change are confounded.",
            )
        )
    if incomplete_sessions:
        warnings.append(
            TrendWarning(
                "incomplete_sessions_excluded",
                f"{incomplete_sessions} incomplete session(s) are left out of start, end, the "
                "session count, the dose and the acute response; their adverse effects and "
                "vitals are counted.",
            )
        )
    return tuple(warnings)
