"""Pure trend statistics: frozen dataclasses in, frozen dataclasses out.

No web framework, ORM or validation library here (a test enforces it); ``load.py`` alone holds
the SQL that builds the inputs.
"""

from app.trends.analysis import SeriesAnalysis, analyse
from app.trends.assessments import AssessmentValue, InstrumentSummary, Pgic
from app.trends.courses import CoursePlace, SeriesSpan
from app.trends.days import local_day, utc_range
from app.trends.flags import Flag
from app.trends.inputs import (
    AssessmentRow,
    CheckinRow,
    DoseEntry,
    EpisodeRow,
    MedicationRow,
    OtherSeries,
    SeriesInfo,
    SessionRow,
    TrendInputs,
    Vitals,
)
from app.trends.medications import MedicationChange
from app.trends.metrics import WindowMetrics
from app.trends.outlook import Outlook, outlook
from app.trends.plan import SeriesPlan, diary_ranges, plan_all, plan_for
from app.trends.readiness import Readiness, readiness
from app.trends.relief import Relief
from app.trends.report import TrendResult, TrendWarning, compute_trend
from app.trends.sessions import AcuteResponse
from app.trends.stats import Comparison
from app.trends.survival import ReliefSurvival, relief_survival
from app.trends.timeseries import Bucket, TimeseriesItem, bucket_ranges, timeseries
from app.trends.windows import NoCompletedSession, Window, follow_up_windows

__all__ = [
    "AcuteResponse",
    "AssessmentRow",
    "AssessmentValue",
    "Bucket",
    "CheckinRow",
    "Comparison",
    "CoursePlace",
    "DoseEntry",
    "EpisodeRow",
    "Flag",
    "InstrumentSummary",
    "MedicationChange",
    "MedicationRow",
    "NoCompletedSession",
    "OtherSeries",
    "Outlook",
    "Pgic",
    "Readiness",
    "Relief",
    "ReliefSurvival",
    "SeriesAnalysis",
    "SeriesInfo",
    "SeriesPlan",
    "SeriesSpan",
    "SessionRow",
    "TimeseriesItem",
    "TrendInputs",
    "TrendResult",
    "TrendWarning",
    "Vitals",
    "Window",
    "WindowMetrics",
    "analyse",
    "bucket_ranges",
    "compute_trend",
    "diary_ranges",
    "follow_up_windows",
    "local_day",
    "outlook",
    "plan_all",
    "plan_for",
    "readiness",
    "relief_survival",
    "timeseries",
    "utc_range",
]
