"""Trend, courses, readiness, timeseries and cohort responses: pydantic mirrors of ``app.trends``.

Field names are the contract's (API.md, Trends) and equal the dataclass fields one to one (a test
holds them together), so ``TrendOut.model_validate(result)`` converts a ``TrendResult``. Floats
are exact (not rounded); ``null`` where a rate, mean or median has no data, never 0 or NaN.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import Field

from app.schemas.common import Schema, UTCDatetime

Category = Literal["substantial", "moderate", "minimal", "no_change", "worse"]
Metric = Literal["attacks_per_day", "mean_intensity", "pain_burden_per_day"]
ReliefStatus = Literal["ended", "ongoing", "censored", "no_relief", "undetermined"]
CensorReason = Literal["as_of", "follow_up_end", "next_series", "medication_change", "data_gap"]
BaselineFlag = Literal[
    "short",
    "low_coverage",
    "selective_logging",
    "rising",
    "other_treatment",
    "medication_change",
    "old_reference",
    "medication_since_reference",
]
FLAGS_DESCRIPTION = (
    "short (< 7 observed days), low_coverage (coverage < 0.5), selective_logging (coverage < "
    "0.8 and no pain-free day), rising (later half ≥ 1.5 * the earlier half's rate), "
    "other_treatment (another series' session inside), medication_change (a change inside); "
    "boosters also old_reference (ended > 365 days before start) and "
    "medication_since_reference (a change between it and start)"
)


class WindowOut(Schema):
    name: str = Field(
        description="baseline, reference_baseline (boosters), treatment, follow_up_1, …"
    )
    start: dt.date
    end: dt.date = Field(description="Inclusive; follow-ups are cut at the horizon H")
    days: int
    observed_days: int = Field(description="Days with an episode or a 'no attacks' check-in")
    coverage: float = Field(description="observed_days / days")
    attacks: int = Field(description="Σ attack_count")
    attacks_per_day: float | None = Field(description="attacks / observed_days")
    weekly_rate_range: tuple[float, float] | None = Field(
        description="[min, max] of the 7-day blocks' rates (blocks with ≥ 3 observed days); "
        "null under 2 such blocks"
    )
    mean_intensity: float | None = Field(description="Attack-weighted mean NRS")
    max_intensity: int | None
    pain_burden_per_day: float | None = Field(
        description="Σ intensity * attack_count / observed_days"
    )
    pain_free_days: int
    median_duration_seconds: float | None = Field(
        description="Median over episodes of duration_seconds / attack_count"
    )
    attacks_per_28_days: float | None
    spontaneous_attacks: int
    bni_controlled_fraction: float | None
    worst_bni: str | None
    mean_background_pain: float | None
    trigger_counts: dict[str, int] = Field(description="Attacks (Σ attack_count) per trigger")


class ComparisonOut(Schema):
    window: str
    metric: Metric
    baseline: float | None = Field(description="The reference baseline's value")
    value: float | None
    change_pct: float | None = Field(description="100 * (value - baseline) / baseline")
    category: Category | None = Field(
        description="IMMPACT category of the reduction; null under 7 observed days on either side"
    )
    p_value: float | None = Field(
        description="Mann-Whitney U over 7-day block rates, attacks_per_day only; descriptive"
    )
    rate_ratio: float | None = Field(description="value / baseline, attacks_per_day only")


class ReliefOut(Schema):
    status: ReliefStatus
    onset_day: dt.date | None
    duration_days: int | None = Field(
        description="ended: end_day - (end + 1); ongoing or censored: last_observed_day - end "
        "(at least this long)"
    )
    end_day: dt.date | None
    last_observed_day: dt.date | None
    censor_reason: CensorReason | None
    lowest_rate: float | None
    relief_rate: float | None = Field(
        description="attacks / observed days from end + 1 to the last relief day"
    )
    depth_pct: float | None = Field(description="100 * (B - relief_rate) / B")


class AcuteResponseOut(Schema):
    sessions_scored: int
    mean_pain_before: float | None
    mean_pain_after: float | None
    mean_drop: float | None


class VitalsOut(Schema):
    systolic_max: int | None
    diastolic_max: int | None
    heart_rate_max: int | None
    spo2_min: int | None


class AssessmentValueOut(Schema):
    date: dt.date = Field(description="The local day it was taken")
    taken_at: UTCDatetime
    total: int
    window: str | None = Field(description="The window holding its day; null between windows")


class InstrumentSummaryOut(Schema):
    instrument: str
    values: list[AssessmentValueOut] = Field(
        description="Every total from the reference baseline's start to as_of, oldest first"
    )


class PgicOut(Schema):
    taken_at: UTCDatetime
    total: int
    improved: bool = Field(description="PGIC 1 or 2")


class MedicationChangeOut(Schema):
    date: dt.date
    kind: Literal["start", "stop", "dose"]
    medication_id: uuid.UUID
    name: str
    window: str
    mg_per_day: float = Field(description="The daily dose from this date on (0 after a stop)")
    previous_mg_per_day: float | None = Field(
        description="The daily dose before this date (null for a start): a start or an "
        "increase ends the look at relief"
    )


class TrendWarningOut(Schema):
    code: str = Field(description="Stable code, e.g. baseline_rising, low_coverage")
    message: str


class TrendOut(Schema):
    series_id: uuid.UUID
    timezone: str
    as_of: dt.date
    start: dt.date = Field(description="Local day of the first completed session")
    end: dt.date = Field(description="Local day of the last completed session (≤ as_of)")
    course_id: uuid.UUID = Field(description="The id of the course's first series")
    booster: bool
    baseline_source: Literal["own", "course"]
    sessions_count: int = Field(description="Completed sessions up to as_of")
    total_mg_per_kg: float | None = Field(
        description="Σ dose_mg_per_kg of the completed sessions; null if one lacks it"
    )
    windows: list[WindowOut]
    comparisons: list[ComparisonOut]
    responder: bool | None
    relief: ReliefOut | None
    baseline_flags: list[BaselineFlag] = Field(description=FLAGS_DESCRIPTION)
    warnings: list[TrendWarningOut]
    assessments: list[InstrumentSummaryOut]
    pgic: PgicOut | None
    acute_response: AcuteResponseOut
    vitals: VitalsOut
    adverse_effects: dict[str, int] = Field(description="Sessions (completed or not) per effect")
    medication_changes: list[MedicationChangeOut]


class CourseSeriesOut(Schema):
    series_id: uuid.UUID
    name: str
    modality: str
    start: dt.date
    end: dt.date
    sessions_count: int
    total_mg_per_kg: float | None
    responder: bool | None
    relief: ReliefOut | None


class ReferenceBaselineOut(Schema):
    start: dt.date
    end: dt.date
    observed_days: int
    attacks_per_day: float | None
    flags: list[BaselineFlag]


class OutlookOut(Schema):
    ended_reliefs: int
    shortest_days: int
    median_days: float
    longest_days: int
    longest_censored: bool = Field(
        description="The longest relief is ongoing or censored: expected_return's upper end "
        "is a lower bound (≥)"
    )
    latest_series_id: uuid.UUID
    latest_relief_status: ReliefStatus | None
    expected_return: tuple[dt.date, dt.date] = Field(
        description="[end + 1 + shortest, end + 1 + longest], end of the course's latest series"
    )


class CourseOut(Schema):
    course_id: uuid.UUID
    series: list[CourseSeriesOut]
    reference_baseline: ReferenceBaselineOut
    outlook: OutlookOut | None = Field(
        description="This patient's past reliefs, described (never a forecast); null under 2 "
        "ended reliefs"
    )


class CoursesOut(Schema):
    courses: list[CourseOut]


class ReadinessOut(Schema):
    planned_start: dt.date
    baseline_start: dt.date
    baseline_end: dt.date
    days_elapsed: int
    observed_days: int
    target_observed_days: int = Field(description="⌈0.8 * baseline_days⌉")
    days_left: int
    on_track: bool = Field(description="observed_days + days_left ≥ target_observed_days")
    flags: list[BaselineFlag]


class TimeseriesItemOut(Schema):
    start: dt.date
    end: dt.date
    observed_days: int
    attacks: int
    attacks_per_day: float | None
    mean_intensity: float | None
    max_intensity: int | None
    pain_free_days: int


class TimeseriesOut(Schema):
    items: list[TimeseriesItemOut]


class CohortRowOut(Schema):
    patient_id: uuid.UUID
    patient_name: str
    series_id: uuid.UUID
    series_name: str
    modality: str
    as_of: dt.date = Field(description="The given as_of, or the patient's local today")
    start: dt.date | None
    course_id: uuid.UUID | None
    booster: bool | None
    baseline_attacks_per_day: float | None = Field(description="The reference baseline's")
    follow_up_1_attacks_per_day: float | None
    change_pct: float | None
    category: Category | None
    responder: bool | None
    relief_status: ReliefStatus | None
    relief_days: int | None = Field(description="relief.duration_days")
    censor_reason: CensorReason | None
    baseline_flags: list[BaselineFlag] | None


class ReliefSurvivalOut(Schema):
    n: int = Field(description="Series with a relief onset")
    events: int = Field(description="Of them, reliefs that ended")
    median_days: float | None = Field(
        description="Kaplan-Meier median: the least time where survival ≤ 0.5"
    )
    median_ci95: tuple[float | None, float | None] | None = Field(
        description="Where the linear 95 % bounds of survival first reach ≤ 0.5"
    )


class CohortGroupOut(Schema):
    n: int = Field(description="Series: one per patient, the patient's earliest in the group")
    responders: int
    responder_rate: float | None = Field(description="responders / series with a verdict")
    no_relief: int
    relief: ReliefSurvivalOut


class CohortSummaryOut(Schema):
    first_series: CohortGroupOut
    boosters: CohortGroupOut


class CohortOut(Schema):
    items: list[CohortRowOut]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at the end")
    summary: CohortSummaryOut | None = Field(
        description="Over every row (not only this page's): on the first page (no cursor), "
        "unless summary=false; null otherwise"
    )
