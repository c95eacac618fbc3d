"""What the HTML report is rendered from: plain frozen dataclasses the endpoint fills in.

Strings here may be patient- or clinician-entered (names, protocol, notes): the template
autoescapes every one of them. Only ``chart_svg`` is inlined as markup (see ``html.inline_chart``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.trends import TrendResult
from app.trends.assessments import HistoryEntry


@dataclass(frozen=True)
class ReportPatient:
    display_name: str
    timezone: str
    birth_year: int | None = None


@dataclass(frozen=True)
class ReportDiagnosis:
    ichd3_type: str = "unknown"
    side: str | None = None
    branches: tuple[str, ...] = ()
    concomitant_continuous_pain: bool = False
    diagnosed_on: date | None = None


@dataclass(frozen=True)
class ReportSeries:
    name: str
    modality: str
    baseline_days: int
    follow_up_days: int
    protocol: str | None = None
    planned_sessions: int | None = None


@dataclass(frozen=True)
class ReportSession:
    """One session as the clinician recorded it; ``day`` is its local day.

    ``adverse_effects`` holds ``(effect, severity)`` pairs, as ``app.trends.SessionRow`` does.
    """

    day: date
    route: str
    completed: bool = True
    dose_mg: float | None = None
    dose_mg_per_kg: float | None = None
    pain_before: int | None = None
    pain_after: int | None = None
    adverse_effects: tuple[tuple[str, str], ...] = ()
    notes: str | None = None
    # The session's vitals as recorded (API.md: the highest blood pressure and heart rate
    # during the session, the lowest SpO2).
    systolic_max: int | None = None
    diastolic_max: int | None = None
    heart_rate_max: int | None = None
    spo2_min: int | None = None


@dataclass(frozen=True)
class ReportCourseSeries:
    """A series of the report's course; ``this`` marks the report's own series."""

    name: str
    modality: str
    start: date
    end: date
    position: int  # 0 = the course's first series, n = its n-th booster
    this: bool = False

    @property
    def role(self) -> str:
        return "first series" if self.position == 0 else f"booster {self.position}"


@dataclass(frozen=True)
class ReportContext:
    """Everything on the report. ``generated_at`` must be aware; ``as_of`` is ``trend.as_of``.

    ``sessions``: every live session of the series (those after ``as_of`` are left out, as the
    trend leaves them out). ``chart_svg``: the output of ``render_trend_chart`` for this trend.
    ``course``: the series of the trend's course (this one included), by start.
    ``questionnaires``: the patient's whole questionnaire history up to ``as_of``, oldest first
    (``app.trends.assessments.questionnaire_history``), PHQ-9 worsenings flagged.
    """

    patient: ReportPatient
    diagnosis: ReportDiagnosis
    series: ReportSeries
    trend: TrendResult
    sessions: tuple[ReportSession, ...]
    chart_svg: str
    generated_at: datetime
    report_url: str | None = None
    course: tuple[ReportCourseSeries, ...] = ()
    questionnaires: tuple[HistoryEntry, ...] = ()

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None or self.generated_at.utcoffset() is None:
            raise ValueError("generated_at must be an aware datetime")

    @property
    def as_of(self) -> date:
        return self.trend.as_of
