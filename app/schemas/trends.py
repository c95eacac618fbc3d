"""Trend, timeseries and cohort responses: pydantic mirrors of the pure ``app.trends`` results.

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


class WindowOut(Schema):
    name: str = Field(description="baseline, treatment, follow_up_1, follow_up_2, …")
    start: dt.date
    end: dt.date = Field(description="Inclusive; clipped to as_of")
    days: int
    observed_days: int = Field(description="Days with an episode or a 'no attacks' check-in")
    coverage: float = Field(description="observed_days / days")
    attacks: int
    attacks_per_day: float | None = Field(description="attacks / observed_days")
    attacks_per_day_ci95: tuple[float, float] | None = Field(
        description="Percentile bootstrap (2000 resamples, seeded by the series id)"
    )
    mean_intensity: float | None
    max_intensity: int | None
    pain_burden_per_day: float | None
    pain_free_days: int
    median_duration_seconds: float | None
    attacks_per_28_days: float | None
    spontaneous_attacks: int
    bni_controlled_fraction: float | None
    worst_bni: str | None
    mean_background_pain: float | None
    trigger_counts: dict[str, int] = Field(description="Episodes per trigger")


class ComparisonOut(Schema):
    window: str
    metric: Metric
    baseline: float | None
    value: float | None
    change_pct: float | None = Field(description="100 * (value - baseline) / baseline")
    category: Category | None = Field(description="IMMPACT category of the reduction")
    p_value: float | None = Field(description="Mann-Whitney U, attacks_per_day only")


class AcuteResponseOut(Schema):
    sessions_scored: int
    mean_pain_before: float | None
    mean_pain_after: float | None
    mean_drop: float | None


class AssessmentValueOut(Schema):
    taken_at: UTCDatetime
    total: int


class WindowAssessmentOut(Schema):
    window: str
    taken_at: UTCDatetime
    total: int


class InstrumentSummaryOut(Schema):
    instrument: str
    before_start: AssessmentValueOut | None = Field(description="The last total before start")
    windows: list[WindowAssessmentOut] = Field(description="The last total in each later window")


class PgicOut(Schema):
    taken_at: UTCDatetime
    total: int
    improved: bool = Field(description="PGIC 1 or 2")


class MedicationChangeOut(Schema):
    kind: Literal["start", "stop", "dose_change"]
    date: dt.date
    window: str
    medication_id: uuid.UUID
    name: str
    dose_mg_per_day: float
    previous_dose_mg_per_day: float | None


class TrendWarningOut(Schema):
    code: str = Field(description="Stable code, e.g. baseline_few_observed_days, low_coverage")
    message: str


class TrendOut(Schema):
    series_id: uuid.UUID
    timezone: str
    as_of: dt.date
    first_session_date: dt.date
    last_session_date: dt.date
    sessions_count: int = Field(description="Completed sessions up to as_of")
    windows: list[WindowOut]
    comparisons: list[ComparisonOut]
    responder: bool | None
    relief_duration_days: int | None
    relief_ongoing: bool | None
    acute_response: AcuteResponseOut
    adverse_effects: dict[str, int] = Field(description="Sessions (completed or not) per effect")
    assessments: list[InstrumentSummaryOut]
    pgic: PgicOut | None
    medication_changes: list[MedicationChangeOut]
    warnings: list[TrendWarningOut]


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


CohortStatus = Literal["no_completed_session", "follow_up_1_pending", "follow_up_1_complete"]


class CohortRowOut(Schema):
    patient_id: uuid.UUID
    patient_name: str
    series_id: uuid.UUID
    series_name: str
    modality: str
    as_of: dt.date = Field(description="The given as_of, or the patient's local today")
    status: CohortStatus = Field(
        description="no_completed_session (numbers null), follow_up_1_pending (responder null "
        "until follow_up_1 has all its days) or follow_up_1_complete"
    )
    first_session_date: dt.date | None
    last_session_date: dt.date | None
    baseline_attacks_per_day: float | None
    follow_up_1_attacks_per_day: float | None
    change_pct: float | None
    category: Category | None
    responder: bool | None
    relief_duration_days: int | None
    relief_ongoing: bool | None


class CohortSummaryOut(Schema):
    n: int = Field(description="Series (rows)")
    assessed: int = Field(description="Series with a responder verdict (not null)")
    responders: int
    responder_rate: float | None = Field(description="responders / assessed")
    median_relief_days: float | None = Field(
        description="Median relief_duration_days over the rows that have one (ongoing relief "
        "counts with its length so far)"
    )


class CohortOut(Schema):
    items: list[CohortRowOut]
    summary: CohortSummaryOut
