"""compute_trend end to end on a hand-computed diary: every field of the v2 response."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import pytest
from scipy.stats import mannwhitneyu

from app.trends import (
    AcuteResponse,
    NoCompletedSession,
    Pgic,
    Relief,
    SeriesInfo,
    TrendInputs,
    TrendResult,
    Vitals,
    analyse,
    compute_trend,
)
from tests.trends.builders import (
    SERIES_ID,
    assessment,
    checkin,
    daily,
    day,
    episode,
    medication,
    no_attacks,
    session,
    trend_inputs,
)
from tests.trends.test_sessions_assessments import at

# Baseline (14 days, -14..-1): 4 attacks of intensity 8 every day (eating).
# Treatment (0..2): sessions on days 0 and 2 (an incomplete one on day 1); day 0 a volley of 2
#   at NRS 6, day 1 "no attacks", day 2 missing.
# follow_up_1 (3..30): 14 days without attacks, then 3 attacks of intensity 5 a day.
# follow_up_2 (31..40 = as_of): nothing (missing). Data after as_of must change nothing.
SESSIONS = (
    session(0, before=8, after=3, effects=[("nausea", "mild")], vitals=Vitals(160, 95, 90, 95)),
    session(1, completed=False, effects=[("hypertension", "severe")], vitals=Vitals(185)),
    session(2, before=6, after=2, mg_per_kg=0.25),
)
EPISODES = (
    *(episode(d, 4, 8, triggers=["eating"]) for d in range(-14, 0)),
    episode(0, attacks=2, intensity=6),
    *daily(range(17, 31), attacks=3, intensity=5),
    episode(-15, attacks=99),  # before the baseline
)
CHECKINS = (no_attacks(1), *(no_attacks(d) for d in range(3, 17)), checkin(-2, bni="IV"))


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
            *((assessment("pgic", 43, 7),) if late else ()),
        ),
        medications=(
            medication(1, "carbamazepine", 400, started=-200, stopped=20),
            *((medication(2, "gabapentin", 300, started=41),) if late else ()),
        ),
        baseline_days=14,
        follow_up_days=56,
    )


def test_full_report() -> None:
    result = compute_trend(scenario(40))
    assert (result.series_id, result.timezone, result.as_of) == (
        SERIES_ID,
        "Europe/Berlin",
        day(40),
    )
    assert (result.start, result.end, result.sessions_count) == (day(0), day(2), 2)
    assert (result.course_id, result.booster, result.baseline_source) == (SERIES_ID, False, "own")
    assert result.total_mg_per_kg == 0.75

    windows = {w.name: w for w in result.windows}
    assert list(windows) == ["baseline", "treatment", "follow_up_1", "follow_up_2"]
    baseline, treatment, follow_up_1, follow_up_2 = windows.values()
    assert (baseline.start, baseline.end, baseline.observed_days) == (day(-14), day(-1), 14)
    assert (baseline.attacks, baseline.attacks_per_day, baseline.mean_intensity) == (56, 4.0, 8.0)
    assert baseline.weekly_rate_range == (4.0, 4.0)
    assert baseline.trigger_counts == {"eating": 56}
    assert (treatment.days, treatment.observed_days, treatment.attacks) == (3, 2, 2)
    assert (treatment.attacks_per_day, treatment.pain_free_days) == (1.0, 1)
    assert (follow_up_1.start, follow_up_1.end, follow_up_1.observed_days) == (day(3), day(30), 28)
    assert (follow_up_1.attacks, follow_up_1.attacks_per_day) == (42, 1.5)
    assert follow_up_1.weekly_rate_range == (0.0, 3.0)  # blocks 3-9, 10-16, 17-23, 24-30
    assert (follow_up_2.start, follow_up_2.end, follow_up_2.days) == (day(31), day(40), 10)
    assert (follow_up_2.observed_days, follow_up_2.attacks_per_day) == (0, None)

    by_key = {(c.window, c.metric): c for c in result.comparisons}
    assert len(result.comparisons) == 9
    attacks = by_key["follow_up_1", "attacks_per_day"]
    assert (attacks.baseline, attacks.value, attacks.change_pct, attacks.rate_ratio) == (
        4.0, 1.5, -62.5, 0.375,
    )  # fmt: skip
    assert attacks.category == "substantial"
    # Block rates 0, 0, 3, 3 in follow_up_1 against 4, 4 in the baseline.
    expected = mannwhitneyu([0, 0, 3, 3], [4, 4], alternative="two-sided", method="asymptotic")
    assert attacks.p_value == pytest.approx(expected.pvalue)
    assert by_key["follow_up_1", "mean_intensity"].change_pct == -37.5
    assert by_key["treatment", "attacks_per_day"].category is None  # 2 observed days
    assert by_key["follow_up_2", "attacks_per_day"].change_pct is None

    assert result.responder is True
    # R(d) = 0 from day 3; 3 a day from day 17: R(21) over 15..21 = 15/7 >= 2 = B/2, R(28) too.
    assert result.relief == Relief(
        status="ended",
        onset_day=day(5),  # R(3) over [3, 3] has 1 observed day; R(5) over [3, 5] has 3
        duration_days=18,
        end_day=day(21),
        last_observed_day=None,
        censor_reason=None,
        lowest_rate=0.0,
        relief_rate=12 / 18,  # days 17-20: 3 attacks each, over the 18 observed days 3..20
        depth_pct=float(100 * (4 - Fraction(2, 3)) / 4),  # exact, as computed
    )
    assert result.baseline_flags == ()
    assert result.acute_response == AcuteResponse(2, 7.0, 2.5, 4.5)
    assert result.vitals == Vitals(185, 95, 90, 95)  # incomplete sessions count
    assert result.adverse_effects == {"hypertension": 1, "nausea": 1}
    (pgic, phq9) = result.assessments
    assert [(v.date, v.total, v.window) for v in phq9.values] == [
        (day(-5), 12, "baseline"),
        (day(25), 6, "follow_up_1"),
    ]
    assert result.pgic == Pgic(at(35), 2, improved=True)
    assert [(c.date, c.kind, c.window) for c in result.medication_changes] == [
        (day(20), "stop", "follow_up_1")
    ]
    assert [w.code for w in result.warnings] == [
        "low_coverage",
        "medication_changed_during_series",
        "incomplete_sessions_excluded",
    ]
    assert pgic.instrument == "pgic"


def test_data_after_as_of_changes_nothing() -> None:
    assert compute_trend(scenario(40, late=True)) == compute_trend(scenario(40))


def test_json_never_holds_nan() -> None:
    result = compute_trend(scenario(40))
    json.dumps(dataclasses.asdict(result), default=str, allow_nan=False)


def test_no_completed_session_by_as_of() -> None:
    with pytest.raises(NoCompletedSession):
        compute_trend(trend_inputs(5, sessions=(session(1, completed=False), session(6))))


def test_a_quiet_report_has_no_warnings() -> None:
    inputs = trend_inputs(40, episodes=daily(range(-28, 41), 2))
    assert compute_trend(inputs).warnings == ()


def test_result_fields_are_the_contract() -> None:
    assert list(TrendResult.__dataclass_fields__) == [
        "series_id", "timezone", "as_of", "start", "end", "course_id", "booster",
        "baseline_source", "sessions_count", "total_mg_per_kg", "windows", "comparisons",
        "responder", "relief", "baseline_flags", "warnings", "assessments", "pgic",
        "acute_response", "vitals", "adverse_effects", "medication_changes",
    ]  # fmt: skip


def test_analysis_shares_b_and_the_numbers_with_the_report() -> None:
    inputs = scenario(40)
    analysis = analyse(inputs)
    result = compute_trend(inputs)
    assert analysis.baseline_rate == 4
    assert (analysis.responder, analysis.relief, analysis.flags) == (
        result.responder,
        result.relief,
        result.baseline_flags,
    )


def test_series_needs_positive_period_lengths() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SeriesInfo(SERIES_ID, baseline_days=0)


def test_the_cohort_headline_is_follow_up_1_without_a_test() -> None:
    analysis = analyse(scenario(40))
    headline = analysis.follow_up_1
    assert headline is not None
    full = next(
        c
        for c in compute_trend(scenario(40)).comparisons
        if (c.window, c.metric) == ("follow_up_1", "attacks_per_day")
    )
    assert headline == dataclasses.replace(full, p_value=None)
    assert analyse(scenario(2)).follow_up_1 is None  # follow_up_1 has not begun
