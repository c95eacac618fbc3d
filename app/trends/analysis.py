"""The numbers every view of a series shares: windows, comparisons, responder, relief, flags.

``analyse(inputs)`` is what the trend report, the courses overview and the cohort table all
compute from, so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import cached_property

from app.trends.flags import Flag, baseline_flags
from app.trends.inputs import TrendInputs
from app.trends.medications import MedicationEvent, first_added_treatment, medication_events
from app.trends.metrics import DiaryIndex, RangeSummary, summarise
from app.trends.plan import SeriesPlan, plan_for
from app.trends.relief import Relief, relief
from app.trends.stats import (
    MIN_OBSERVED_DAYS,
    Comparison,
    compare,
    compare_metric,
    is_responder,
)
from app.trends.windows import FIRST_FOLLOW_UP, Bound, earliest

RESPONDER_DAYS = 28  # responder is judged once H' >= end + 28


@dataclass(frozen=True)
class SeriesAnalysis:
    """One series as of ``plan.as_of``; ``relief_bound`` is H'. The comparisons (with their
    Mann-Whitney tests) are computed when first asked for: the courses overview needs none."""

    plan: SeriesPlan
    index: DiaryIndex
    summaries: dict[str, RangeSummary]  # per window name
    events: tuple[MedicationEvent, ...]
    relief_bound: Bound
    responder: bool | None
    relief: Relief | None
    flags: tuple[Flag, ...]

    @cached_property
    def comparisons(self) -> tuple[Comparison, ...]:
        """Treatment and every follow-up window against the reference baseline."""
        return tuple(
            comparison
            for window in (self.plan.treatment, *self.plan.follow_ups)
            for comparison in compare(self.reference, window.name, self.summaries[window.name])
        )

    @cached_property
    def follow_up_1(self) -> Comparison | None:
        """follow_up_1's attacks per day against the reference, without its p-value (the
        cohort table shows none); ``None`` before follow_up_1 begins."""
        window = self.summaries.get(FIRST_FOLLOW_UP)
        if window is None:
            return None
        return compare_metric(
            self.reference, FIRST_FOLLOW_UP, window, "attacks_per_day", with_test=False
        )

    @property
    def reference(self) -> RangeSummary:
        """The reference baseline: the course's first series' baseline."""
        return self.summaries[self.plan.reference.name]

    @property
    def baseline_rate(self) -> Fraction | None:
        """B: the reference baseline's attacks per observed day."""
        return self.reference.attacks_per_day


def relief_bound(plan: SeriesPlan, events: tuple[MedicationEvent, ...]) -> Bound:
    """H': H cut to the day before the first medication start or dose increase in
    [start, H]."""
    added = first_added_treatment(events, plan.start, plan.horizon.day)
    if added is None:
        return plan.horizon
    return earliest([plan.horizon, Bound(added - timedelta(days=1), "medication_change")])


def other_session_days(inputs: TrendInputs) -> tuple[date, ...]:
    """Completed sessions of the patient's other series, up to as_of."""
    return tuple(
        day for other in inputs.other_series for day in other.completed_days if day <= inputs.as_of
    )


def analyse(inputs: TrendInputs) -> SeriesAnalysis:
    """Raises ``NoCompletedSession`` when the series has no completed session by as_of."""
    plan = plan_for(inputs)
    as_of = plan.as_of
    index = DiaryIndex.build(inputs.episodes, inputs.checkins, last_day=as_of)
    summaries = {window.name: summarise(index, window.start, window.end) for window in plan.windows}
    events = tuple(event for event in medication_events(inputs.medications) if event.date <= as_of)
    bound = relief_bound(plan, events)
    reference = summaries[plan.reference.name]
    responder = None
    if bound.day >= plan.end + timedelta(days=RESPONDER_DAYS):
        responder = is_responder(reference, summaries[FIRST_FOLLOW_UP])
    rate = reference.attacks_per_day
    found = None
    if rate and reference.observed_days >= MIN_OBSERVED_DAYS:
        found = relief(index, rate, plan.end, bound)
    flags = baseline_flags(
        index,
        plan.reference,
        other_session_days=other_session_days(inputs),
        events=events,
        booster_start=plan.start if plan.place.booster else None,
    )
    return SeriesAnalysis(
        plan=plan,
        index=index,
        summaries=summaries,
        events=events,
        relief_bound=bound,
        responder=responder,
        relief=found,
        flags=flags,
    )
