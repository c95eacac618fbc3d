"""Report scenarios built the way the endpoint will: compute_trend + timeseries + the renderers.

Days are offsets from ``tests.trends.builders.DAY0``. Each scenario is built once per run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

from app.reports.chart import ChartSession, render_trend_chart
from app.reports.context import (
    ReportContext,
    ReportDiagnosis,
    ReportPatient,
    ReportSeries,
    ReportSession,
)
from app.trends import SessionRow, TimeseriesItem, TrendInputs, TrendResult, compute_trend
from app.trends import timeseries as day_series
from tests.trends.builders import (
    assessment,
    checkin,
    daily,
    episode,
    medication,
    no_attacks,
    session,
    trend_inputs,
)

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAKOUT = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{SCRIPT}{ATTRIBUTE_BREAKOUT}"


@dataclass(frozen=True)
class Scenario:
    inputs: TrendInputs
    trend: TrendResult
    daily: tuple[TimeseriesItem, ...]
    chart_sessions: tuple[ChartSession, ...]
    svg: str


def build(inputs: TrendInputs) -> Scenario:
    trend = compute_trend(inputs)
    daily = day_series(
        inputs.episodes, inputs.checkins, trend.windows[0].start, trend.windows[-1].end, "day"
    )
    sessions = tuple(ChartSession(row.local_day, row.completed) for row in inputs.sessions)
    return Scenario(inputs, trend, daily, sessions, render_trend_chart(trend, daily, sessions))


# Typical: a 14-day baseline of 6 attacks a day with days -10 and -9 missing; sessions on days
# 0, 2 (incomplete), 4 and 6; from day 7 no attacks for 20 days, then 2 a day with gaps; as_of
# 70 puts follow_up_1 (7..34) complete and follow_up_2 (35..62), follow_up_3 (63..70) in view.
TYPICAL_SESSIONS = (
    session(0, before=8, after=3, effects=[("nausea", "mild"), ("dissociation", "moderate")]),
    session(2, completed=False, effects=[("hypertension", "severe")]),
    session(4, before=7, after=2),
    session(6, before=6, after=2, effects=[("nausea", "moderate")]),
)
MISSING_BASELINE_DAYS = (-10, -9)
TYPICAL_EPISODES = (
    *daily((d for d in range(-14, 0) if d not in MISSING_BASELINE_DAYS), attacks=6, intensity=8),
    episode(1, attacks=3, intensity=6),
    *daily((d for d in range(27, 71) if d % 5), attacks=2, intensity=5),
)
TYPICAL_CHECKINS = (
    *(no_attacks(d) for d in range(7, 27)),
    checkin(-3, bni="IV", background=4),
    checkin(20, bni="IIIa", background=1),
)


@cache
def typical() -> Scenario:
    return build(
        trend_inputs(
            70,
            sessions=TYPICAL_SESSIONS,
            episodes=TYPICAL_EPISODES,
            checkins=TYPICAL_CHECKINS,
            assessments=(assessment("phq9", -5, 14), assessment("pgic", 30, 2)),
            medications=(
                medication(1, HOSTILE, 400, started=-300, stopped=20),
                medication(2, HOSTILE, 600, started=21),
            ),
            baseline_days=14,
        )
    )


@cache
def no_baseline() -> Scenario:
    """No diary before the first session: nothing to compare with."""
    return build(
        trend_inputs(
            40, sessions=(session(0),), episodes=daily(range(1, 41, 2), attacks=3), baseline_days=14
        )
    )


@cache
def inside_treatment() -> Scenario:
    """as_of = day 2, the last completed session so far (day 5 is later): no follow-up yet."""
    return build(
        trend_inputs(
            2,
            sessions=(session(0), session(1, completed=False), session(2), session(5)),
            episodes=daily(range(-7, 6), attacks=4),
            baseline_days=7,
        )
    )


@cache
def empty() -> Scenario:
    """One completed session and no diary at all: every rate, mean and interval is null."""
    return build(trend_inputs(10, sessions=(session(0),), baseline_days=7, follow_up_days=28))


def report_sessions(
    rows: Iterable[SessionRow], notes: str | None = None
) -> tuple[ReportSession, ...]:
    return tuple(
        ReportSession(
            day=row.local_day,
            route="iv",
            completed=row.completed,
            dose_mg=35.0,
            dose_mg_per_kg=0.5,
            pain_before=row.pain_before,
            pain_after=row.pain_after,
            adverse_effects=row.adverse_effects,
            notes=notes,
        )
        for row in rows
    )


def context(
    scenario: Scenario,
    *,
    name: str = "Anna Example",
    series_name: str = "Ketamine IV, spring",
    protocol: str | None = "0.5 mg/kg over 40 min, 4 sessions",
    notes: str | None = "Tolerated well",
    birth_year: int | None = 1961,
    diagnosed_on: date | None = date(2019, 4, 1),
    generated_at: datetime = datetime(2026, 3, 13, 9, 30, tzinfo=UTC),
) -> ReportContext:
    series = scenario.inputs.series
    return ReportContext(
        patient=ReportPatient(name, "Europe/Berlin", birth_year),
        diagnosis=ReportDiagnosis("classical", "left", ("V2", "V3"), True, diagnosed_on),
        series=ReportSeries(
            name=series_name,
            modality="ketamine_iv",
            baseline_days=series.baseline_days,
            follow_up_days=series.follow_up_days,
            protocol=protocol,
            planned_sessions=4,
        ),
        trend=scenario.trend,
        sessions=report_sessions(scenario.inputs.sessions, notes),
        chart_svg=scenario.svg,
        generated_at=generated_at,
        report_url="/api/v1/patients/me/series/s1/report?as_of=2026-03-12",
    )
