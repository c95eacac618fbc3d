"""compute_trend end to end on hand-computed diaries."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from uuid import UUID

import pytest

from app.trends import (
    AcuteResponse,
    AssessmentValue,
    InstrumentSummary,
    NoCompletedSession,
    Pgic,
    SessionRow,
    TrendInputs,
    TrendResult,
    WindowAssessment,
    compute_trend,
)
from tests.trends.builders import (
    SERIES_ID,
    assessment,
    daily,
    day,
    dose,
    episode,
    medication,
    no_attacks,
    session,
    trend_inputs,
)

# Baseline (7 days, -7..-1): 4 attacks of intensity 8 every day.
# Treatment (0..2): sessions on days 0 and 2 (an incomplete one on day 1); day 0 two attacks,
#   day 1 "no attacks", day 2 missing.
# follow_up_1 (3..30): 14 days without attacks, then 3 attacks of intensity 5 a day.
# follow_up_2 (31..58): nothing (missing). Data after as_of must change nothing.
SESSIONS = (
    session(0, before=8, after=3, effects=[("nausea", "mild")]),
    session(1, completed=False, effects=[("hypertension", "severe")]),
    session(2, before=6, after=2),
)
EPISODES = (
    *daily(range(-7, 0), attacks=4, intensity=8),
    episode(0, attacks=2, intensity=6),
    *daily(range(17, 31), attacks=3, intensity=5),
    episode(-8, attacks=99),  # before the baseline
)
CHECKINS = (no_attacks(1), *(no_attacks(d) for d in range(3, 17)))


def scenario(as_of: int, late: bool = False) -> TrendInputs:
    """The diary above; ``late`` adds rows after as_of = 40."""
    return trend_inputs(
        as_of,
        sessions=SESSIONS + ((session(45),) if late else ()),
        episodes=EPISODES + ((episode(41, attacks=100),) if late else ()),
        checkins=CHECKINS + ((no_attacks(42),) if late else ()),
        assessments=(
            assessment("phq9", -5, 12),
            assessment("phq9", 25, 6),
            assessment("pgic", 35, 2),
        ),
        medications=(
            medication(1, "carbamazepine", 400, started=-200, stopped=20),
            medication(2, "carbamazepine", 600, started=21),
        ),
        baseline_days=7,
        follow_up_days=56,
    )


def test_full_report() -> None:
    result = compute_trend(scenario(40))
    assert (result.series_id, result.timezone, result.as_of) == (
        SERIES_ID,
        "Europe/Berlin",
        day(40),
    )
    assert (result.first_session_date, result.last_session_date) == (day(0), day(2))
    assert result.sessions_count == 2

    windows = {w.name: w for w in result.windows}
    assert list(windows) == ["baseline", "treatment", "follow_up_1", "follow_up_2"]
    baseline, treatment, follow_up_1, follow_up_2 = windows.values()
    assert (baseline.start, baseline.end, baseline.observed_days) == (day(-7), day(-1), 7)
    assert (baseline.attacks, baseline.attacks_per_day, baseline.mean_intensity) == (28, 4.0, 8.0)
    assert baseline.attacks_per_day_ci95 == (4.0, 4.0)
    assert (treatment.days, treatment.observed_days, treatment.attacks) == (3, 2, 2)
    assert (treatment.attacks_per_day, treatment.pain_free_days) == (1.0, 1)
    assert (follow_up_1.start, follow_up_1.end, follow_up_1.observed_days) == (day(3), day(30), 28)
    assert (follow_up_1.attacks, follow_up_1.attacks_per_day) == (42, 1.5)
    assert follow_up_1.pain_burden_per_day == 7.5
    assert follow_up_1.attacks_per_28_days == 42.0
    assert (follow_up_2.start, follow_up_2.end, follow_up_2.days) == (day(31), day(40), 10)
    assert (follow_up_2.observed_days, follow_up_2.attacks_per_day) == (0, None)

    by_key = {(c.window, c.metric): c for c in result.comparisons}
    assert len(result.comparisons) == 9
    attacks = by_key["follow_up_1", "attacks_per_day"]
    assert (attacks.baseline, attacks.value, attacks.change_pct) == (4.0, 1.5, -62.5)
    assert attacks.category == "substantial"
    assert attacks.p_value is not None
    assert attacks.p_value < 0.001
    assert by_key["follow_up_1", "mean_intensity"].change_pct == -37.5
    assert by_key["follow_up_1", "mean_intensity"].category == "moderate"
    assert by_key["treatment", "attacks_per_day"].change_pct == -75.0
    assert by_key["follow_up_2", "attacks_per_day"].change_pct is None
    assert by_key["follow_up_2", "attacks_per_day"].p_value is None

    assert result.responder is True
    # R(d) = 0 until day 16; 3 a day from day 17: R(21) over 15..21 = 15/7 >= 2 = B/2.
    assert (result.relief_duration_days, result.relief_ongoing) == (18, False)
    assert result.acute_response == AcuteResponse(2, 7.0, 2.5, 4.5)
    assert result.adverse_effects == {"hypertension": 1, "nausea": 1}
    assert result.assessments == (
        InstrumentSummary("pgic", None, (WindowAssessment("follow_up_2", *_at(35, 2)),)),
        InstrumentSummary(
            "phq9",
            AssessmentValue(*_at(-5, 12)),
            (WindowAssessment("follow_up_1", *_at(25, 6)),),
        ),
    )
    assert result.pgic == Pgic(*_at(35, 2), improved=True)
    assert [(c.kind, c.date, c.window) for c in result.medication_changes] == [
        ("dose_change", day(21), "follow_up_1")
    ]
    assert [w.code for w in result.warnings] == [
        "low_coverage",
        "medication_changed_during_series",
        "incomplete_sessions_excluded",
    ]
    assert "follow_up_2" in result.warnings[0].message
    assert "0 of 10 days" in result.warnings[0].message


def _at(offset: int, total: int) -> tuple[datetime, int]:
    return assessment("x", offset, total).taken_at, total


def test_data_after_as_of_does_not_exist() -> None:
    assert compute_trend(scenario(40, late=True)) == compute_trend(scenario(40))


@pytest.mark.parametrize(
    ("as_of", "windows", "responder", "relief"),
    [
        (2, ["baseline", "treatment"], None, (None, None)),
        (4, ["baseline", "treatment", "follow_up_1"], None, (None, None)),  # 3 observed days needed
        (5, ["baseline", "treatment", "follow_up_1"], None, (3, True)),  # R(5) = 0
        (18, ["baseline", "treatment", "follow_up_1"], None, (16, True)),  # censored at day 18
        (29, ["baseline", "treatment", "follow_up_1"], None, (18, False)),  # follow_up_1 unfinished
        (30, ["baseline", "treatment", "follow_up_1"], True, (18, False)),
        (31, ["baseline", "treatment", "follow_up_1", "follow_up_2"], True, (18, False)),
        (900, ["baseline", "treatment", "follow_up_1", "follow_up_2"], True, (18, False)),
    ],
)
def test_as_of_inside_and_after_the_windows(
    as_of: int,
    windows: list[str],
    responder: bool | None,
    relief: tuple[int | None, bool | None],
) -> None:
    result = compute_trend(scenario(as_of))
    assert [w.name for w in result.windows] == windows
    assert result.windows[-1].end == day(min(as_of, 58))
    assert len(result.comparisons) == 3 * (len(windows) - 1)
    assert result.responder is responder
    assert (result.relief_duration_days, result.relief_ongoing) == relief
    # The baseline and its bootstrap interval never depend on as_of.
    assert result.windows[0] == compute_trend(scenario(40)).windows[0]


def test_relief_that_never_ends_is_censored_at_the_last_follow_up_day() -> None:
    inputs = trend_inputs(
        200,
        episodes=daily(range(-28, 0), attacks=10),
        checkins=[no_attacks(d) for d in range(1, 200)],
        follow_up_days=84,
    )
    result = compute_trend(inputs)
    assert (result.relief_duration_days, result.relief_ongoing) == (84, True)
    assert result.responder is True


def test_zero_baseline() -> None:
    result = compute_trend(
        trend_inputs(60, episodes=daily(range(0, 60), attacks=2),
                     checkins=[no_attacks(d) for d in range(-28, 0)])
    )  # fmt: skip
    assert result.windows[0].attacks_per_day == 0.0
    assert all(c.change_pct is None and c.category is None for c in result.comparisons)
    assert result.responder is None
    assert (result.relief_duration_days, result.relief_ongoing) == (None, None)
    assert [w.code for w in result.warnings] == []


def test_no_baseline_data() -> None:
    result = compute_trend(trend_inputs(40, episodes=daily(range(0, 41))))
    assert result.windows[0].attacks_per_day is None
    assert result.windows[0].attacks_per_day_ci95 is None
    assert all(c.baseline is None and c.change_pct is None for c in result.comparisons)
    assert all(c.p_value is None for c in result.comparisons)
    assert result.responder is None
    assert result.relief_duration_days is None
    assert [w.code for w in result.warnings] == [
        "no_baseline",
        "baseline_few_observed_days",
        "low_coverage",
    ]


def test_baseline_with_few_observed_days() -> None:
    result = compute_trend(trend_inputs(40, episodes=daily([-20, -10, -3]) + daily(range(0, 41))))
    assert result.windows[0].observed_days == 3
    codes = [w.code for w in result.warnings]
    assert codes == ["baseline_few_observed_days", "low_coverage"]
    assert "3 observed days" in result.warnings[0].message


def test_incomplete_sessions_are_not_session_dates_but_count_adverse_effects() -> None:
    sessions = [
        session(-3, completed=False, effects=[("vomiting", "severe")]),
        session(0, before=9, after=5),
        session(4, completed=False, before=9, after=0, effects=[("vomiting", "moderate")]),
    ]
    result = compute_trend(trend_inputs(10, sessions=sessions))
    assert (result.first_session_date, result.last_session_date) == (day(0), day(0))
    assert result.sessions_count == 1
    assert result.acute_response == AcuteResponse(1, 9.0, 5.0, 4.0)
    assert result.adverse_effects == {"vomiting": 2}
    assert "2 incomplete session(s)" in result.warnings[-1].message


@pytest.mark.parametrize(
    "sessions",
    [[], [session(0, completed=False)], [session(11)], [session(5, completed=False), session(20)]],
)
def test_no_completed_session_up_to_as_of(sessions: list[SessionRow]) -> None:
    with pytest.raises(NoCompletedSession):
        compute_trend(trend_inputs(10, sessions=sessions))


def test_sessions_after_as_of_do_not_move_the_end() -> None:
    result = compute_trend(trend_inputs(10, sessions=[session(0), session(3), session(11)]))
    assert (result.last_session_date, result.sessions_count) == (day(3), 2)


def test_result_serialises_to_strict_json() -> None:
    result = compute_trend(scenario(40))
    text = json.dumps(dataclasses.asdict(result), default=_encode, allow_nan=False)
    data = json.loads(text)
    assert list(data) == [field.name for field in dataclasses.fields(TrendResult)]
    assert data["windows"][0]["attacks_per_day_ci95"] == [4.0, 4.0]
    assert data["comparisons"][0] == {
        "window": "treatment",
        "metric": "attacks_per_day",
        "baseline": 4.0,
        "value": 1.0,
        "change_pct": -75.0,
        "category": "substantial",
        "p_value": data["comparisons"][0]["p_value"],
    }
    assert set(data["windows"][0]) == {
        "name", "start", "end", "days", "observed_days", "coverage", "attacks",
        "attacks_per_day", "attacks_per_day_ci95", "mean_intensity", "max_intensity",
        "pain_burden_per_day", "pain_free_days", "median_duration_seconds",
        "attacks_per_28_days", "spontaneous_attacks", "bni_controlled_fraction", "worst_bni",
        "mean_background_pain", "trigger_counts",
    }  # fmt: skip


def _encode(value: object) -> str:
    assert isinstance(value, date | UUID), value
    return str(value)


def test_a_dose_changed_in_place_warns() -> None:
    """The in-place history reaches the report: a change and the confounding warning."""
    inputs = trend_inputs(
        40,
        sessions=SESSIONS,
        episodes=EPISODES,
        medications=(medication(1, "carbamazepine", 800, started=-200),),
        doses=(dose(1, -200, 600), dose(1, 10, 800)),
        baseline_days=7,
        follow_up_days=56,
    )
    result = compute_trend(inputs)
    assert [(c.kind, c.date, c.dose_mg_per_day, c.previous_dose_mg_per_day)
            for c in result.medication_changes] == [("dose_change", day(10), 800, 600)]  # fmt: skip
    assert "medication_changed_during_series" in [w.code for w in result.warnings]
    steady = compute_trend(dataclasses.replace(inputs, medication_doses=(dose(1, -200, 800),)))
    assert steady.medication_changes == ()
