"""A treatment series' trend, its chart and report, and a patient's timeseries.

Read-only use cases: the loader (``app.trends.load``) reads the window range, the pure code
computes, the renderers draw. Access was decided (and audited) by the route's dependency.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Patient
from app.reports.context import (
    ReportContext,
    ReportCourseSeries,
    ReportDiagnosis,
    ReportPatient,
    ReportSeries,
    ReportSession,
)
from app.schemas.trends import TimeseriesOut, TrendOut
from app.trends import (
    NoCompletedSession,
    TrendResult,
    Window,
    compute_trend,
    days,
    plan_all,
    timeseries,
)
from app.trends import load as loader
from app.trends.assessments import HistoryEntry, questionnaire_history
from app.trends.days import utcnow
from app.trends.plan import series_days

# A client whose own calendar is a day ahead of the patient's may ask for "its" today.
AS_OF_MAX_AHEAD = dt.timedelta(days=1)
MAX_TIMESERIES_DAYS = 731
# A chart axis may run into the coming year; nothing else exists in the future.
TIMESERIES_MAX_AHEAD = dt.timedelta(days=366)
# No diary predates this; it also keeps every local-day computation far from date.min.
EARLIEST_DAY = dt.date(1900, 1, 1)
NO_SERIES = "No such treatment series."


def resolve_as_of(patient: Patient, as_of: dt.date | None) -> dt.date:
    """``as_of`` or the patient's local today; later than tomorrow (patient's zone) is a 422."""
    today = days.local_today(patient.timezone)
    if as_of is None:
        return today
    not_before_earliest(as_of, "as_of")
    if as_of > today + AS_OF_MAX_AHEAD:
        raise ValidationFailed(
            ["query", "as_of"], "must not be after tomorrow in the patient's time zone"
        )
    return as_of


def not_before_earliest(day: dt.date, name: str) -> None:
    if day < EARLIEST_DAY:
        raise ValidationFailed(["query", name], f"must not be before {EARLIEST_DAY.isoformat()}")


def load_series_trend(
    session: Session,
    patient: Patient,
    series_id: uuid.UUID,
    as_of: dt.date | None,
    *,
    chart: bool = False,
) -> tuple[loader.LoadedTrend, TrendResult]:
    """The series' inputs and trend; with ``chart`` the diary is read up to as_of."""
    day = resolve_as_of(patient, as_of)
    treatments = loader.load_treatments(session, patient.id, patient.timezone)
    series = treatments.find(series_id)
    if series is None:
        raise NotFound(NO_SERIES)
    try:
        loaded = loader.load_trend(
            session, patient.id, patient.timezone, treatments, series, day, through_as_of=chart
        )
    except NoCompletedSession as exc:
        raise Conflict(
            f"The series has no completed session on or before {day.isoformat()}: "
            "there is nothing to compare with the baseline yet."
        ) from exc
    return loaded, compute_trend(loaded.inputs)


def series_trend(
    session: Session, patient: Patient, series_id: uuid.UUID, as_of: dt.date | None
) -> TrendOut:
    _, result = load_series_trend(session, patient, series_id, as_of)
    return TrendOut.model_validate(result)


def _chart(loaded: loader.LoadedTrend, result: TrendResult) -> str:
    # matplotlib is imported only where a chart is drawn: JSON endpoints never pay for it.
    from app.reports.chart import ChartSeries, ChartSession, render_trend_chart

    inputs = loaded.inputs
    first = min(window.start for window in result.windows)
    daily = timeseries(inputs.episodes, inputs.checkins, first, result.as_of, "day")
    sessions = [ChartSession(row.local_day, row.completed) for row in inputs.sessions]
    course = [
        ChartSeries(other.start, other.end, other.place.position)
        for other in plan_all(series_days(inputs), result.as_of).values()
        if other.place.course_id == result.course_id and other.series.id != result.series_id
    ]
    return render_trend_chart(
        result, daily, sessions, course=course, baseline_rate=_reference_rate(result)
    )


def _reference_rate(result: TrendResult) -> float | None:
    name = "reference_baseline" if result.booster else "baseline"
    return next(window.attacks_per_day for window in result.windows if window.name == name)


def series_chart(
    session: Session, patient: Patient, series_id: uuid.UUID, as_of: dt.date | None
) -> str:
    loaded, result = load_series_trend(session, patient, series_id, as_of, chart=True)
    return _chart(loaded, result)


def series_report(
    session: Session,
    patient: Patient,
    series_id: uuid.UUID,
    as_of: dt.date | None,
    report_url: str | None = None,
) -> str:
    from app.reports.html import render_report_html

    loaded, result = load_series_trend(session, patient, series_id, as_of, chart=True)
    series = loaded.series
    course = [
        ReportCourseSeries(
            name=detail.name,
            modality=detail.modality,
            start=plan.start,
            end=plan.end,
            position=plan.place.position,
            this=detail.id == series.id,
        )
        for plan in plan_all(series_days(loaded.inputs), result.as_of).values()
        if plan.place.course_id == result.course_id
        and (detail := loaded.treatments.find(plan.series.id)) is not None
    ]
    context = ReportContext(
        patient=ReportPatient(patient.display_name, patient.timezone, patient.birth_year),
        diagnosis=ReportDiagnosis(
            ichd3_type=patient.ichd3_type,
            side=patient.side,
            branches=tuple(patient.branches or ()),
            concomitant_continuous_pain=patient.concomitant_continuous_pain,
            diagnosed_on=patient.diagnosed_on,
        ),
        series=ReportSeries(
            name=series.name,
            modality=series.modality,
            baseline_days=series.baseline_days,
            follow_up_days=series.follow_up_days,
            protocol=series.protocol,
            planned_sessions=series.planned_sessions,
        ),
        trend=result,
        sessions=tuple(
            ReportSession(
                day=detail.row.local_day,
                route=detail.route,
                completed=detail.row.completed,
                dose_mg=detail.dose_mg,
                dose_mg_per_kg=detail.row.dose_mg_per_kg,
                pain_before=detail.row.pain_before,
                pain_after=detail.row.pain_after,
                adverse_effects=detail.row.adverse_effects,
                notes=detail.notes,
                systolic_max=detail.row.vitals.systolic_max,
                diastolic_max=detail.row.vitals.diastolic_max,
                heart_rate_max=detail.row.vitals.heart_rate_max,
                spo2_min=detail.row.vitals.spo2_min,
            )
            for detail in loaded.treatments.sessions.get(series.id, ())
        ),
        chart_svg=_chart(loaded, result),
        generated_at=utcnow(),
        report_url=report_url,
        course=tuple(course),
        questionnaires=_questionnaires(session, patient, result),
    )
    return render_report_html(context)


def _questionnaires(
    session: Session, patient: Patient, result: TrendResult
) -> tuple[HistoryEntry, ...]:
    """The patient's every questionnaire up to as_of (one query), PHQ-9 worsenings flagged."""
    rows = loader.load_assessments(
        session, patient.id, patient.timezone, EARLIEST_DAY, result.as_of
    )
    reference = next(
        window
        for window in result.windows
        if window.name == ("reference_baseline" if result.booster else "baseline")
    )
    windows = [Window(window.name, window.start, window.end) for window in result.windows]
    return questionnaire_history(rows, windows, reference.end, result.as_of)


def patient_timeseries(
    session: Session,
    patient: Patient,
    from_day: dt.date,
    to_day: dt.date,
    bucket: Literal["day", "week"],
) -> TimeseriesOut:
    """Day or ISO-week buckets of ``[from_day, to_day]``; the span is capped (a bounded read)."""
    not_before_earliest(from_day, "from")
    if to_day > days.local_today(patient.timezone) + TIMESERIES_MAX_AHEAD:
        raise ValidationFailed(["query", "to"], "must not be more than a year ahead")
    if to_day < from_day:
        raise ValidationFailed(["query", "to"], "must not be before from")
    if (to_day - from_day).days + 1 > MAX_TIMESERIES_DAYS:
        raise ValidationFailed(
            ["query", "to"], f"the range may span at most {MAX_TIMESERIES_DAYS} days"
        )
    episodes, checkins = loader.load_diary(session, patient.id, patient.timezone, from_day, to_day)
    items = timeseries(episodes, checkins, from_day, to_day, bucket)
    return TimeseriesOut.model_validate({"items": items})
