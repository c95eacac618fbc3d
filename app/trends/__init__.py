"""Pure trend statistics: frozen dataclasses in, frozen dataclasses out.

No web framework, ORM or validation library here (a test enforces it); ``load.py`` alone holds
the SQL that builds the inputs.
"""

from app.trends.assessments import AssessmentValue, InstrumentSummary, Pgic, WindowAssessment
from app.trends.days import local_day, utc_range
from app.trends.inputs import (
    AssessmentRow,
    CheckinRow,
    EpisodeRow,
    MedicationDoseRow,
    MedicationRow,
    SeriesInfo,
    SessionRow,
    TrendInputs,
)
from app.trends.medications import MedicationChange
from app.trends.metrics import WindowMetrics
from app.trends.report import TrendResult, TrendWarning, compute_trend
from app.trends.sessions import AcuteResponse
from app.trends.stats import Comparison
from app.trends.timeseries import Bucket, TimeseriesItem, bucket_ranges, timeseries
from app.trends.windows import NoCompletedSession, Window, follow_up_windows, window_range

__all__ = [
    "AcuteResponse",
    "AssessmentRow",
    "AssessmentValue",
    "Bucket",
    "CheckinRow",
    "Comparison",
    "EpisodeRow",
    "InstrumentSummary",
    "MedicationChange",
    "MedicationDoseRow",
    "MedicationRow",
    "NoCompletedSession",
    "Pgic",
    "SeriesInfo",
    "SessionRow",
    "TimeseriesItem",
    "TrendInputs",
    "TrendResult",
    "TrendWarning",
    "Window",
    "WindowAssessment",
    "WindowMetrics",
    "bucket_ranges",
    "compute_trend",
    "follow_up_windows",
    "local_day",
    "timeseries",
    "utc_range",
    "window_range",
]
