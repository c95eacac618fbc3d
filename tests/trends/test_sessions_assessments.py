"""Acute response, dose, vitals, adverse effects, questionnaires and PGIC."""

from __future__ import annotations

from datetime import UTC, datetime

from app.trends import (
    AcuteResponse,
    AssessmentValue,
    InstrumentSummary,
    Pgic,
    Vitals,
    Window,
    compute_trend,
)
from app.trends.assessments import latest_pgic, summarise_assessments
from app.trends.sessions import acute_response, adverse_effects, total_mg_per_kg, vitals
from tests.trends.builders import assessment, day, other, session, trend_inputs


def test_acute_response_pairs_before_and_after() -> None:
    sessions = [session(0, before=8, after=3), session(1, before=6, after=2), session(2, before=7)]
    assert acute_response(sessions) == AcuteResponse(2, 7.0, 2.5, 4.5)


def test_acute_response_without_scored_sessions() -> None:
    assert acute_response([]) == AcuteResponse(0, None, None, None)
    assert acute_response([session(0, after=3), session(1)]) == AcuteResponse(0, None, None, None)


def test_adverse_effects_count_sessions_per_effect() -> None:
    sessions = [
        session(0, effects=[("nausea", "mild"), ("dissociation", "moderate")]),
        session(1, completed=False, effects=[("hypertension", "severe"), ("nausea", "severe")]),
        session(2, effects=[("nausea", "mild"), ("nausea", "moderate")]),  # once per session
        session(3),
    ]
    assert adverse_effects(sessions) == {"dissociation": 1, "hypertension": 1, "nausea": 3}
    assert list(adverse_effects(sessions)) == ["dissociation", "hypertension", "nausea"]
    assert adverse_effects([]) == {}


def test_total_mg_per_kg_sums_completed_sessions_null_if_one_lacks_it() -> None:
    assert total_mg_per_kg([session(0, mg_per_kg=0.5), session(2, mg_per_kg=0.25)]) == 0.75
    assert total_mg_per_kg([session(0, mg_per_kg=0.5), session(2, mg_per_kg=None)]) is None
    inputs = trend_inputs(
        10, sessions=(session(0, mg_per_kg=0.5), session(1, completed=False, mg_per_kg=None))
    )
    assert compute_trend(inputs).total_mg_per_kg == 0.5  # incomplete sessions do not count


def test_vitals_are_the_extremes_over_all_sessions() -> None:
    sessions = [
        session(0, vitals=Vitals(150, 90, 88, 97)),
        session(1, completed=False, vitals=Vitals(170, None, 120, 91)),
        session(2, vitals=Vitals(None, 95, None, None)),
    ]
    assert vitals(sessions) == Vitals(170, 95, 120, 91)
    assert vitals([session(0)]) == Vitals(None, None, None, None)


def at(offset: int, hour: int = 12) -> datetime:
    return datetime.combine(day(offset), datetime.min.time().replace(hour=hour), UTC)


WINDOWS = (
    Window("baseline", day(-7), day(-1)),
    Window("treatment", day(0), day(4)),
    Window("follow_up_1", day(5), day(32)),
)


def test_assessments_every_total_from_the_reference_baseline_start_with_its_window() -> None:
    rows = [
        assessment("phq9", -400, 20),  # before the reference baseline: not reported
        assessment("phq9", -3, 14),
        assessment("phq9", 4, 12, hour=18),
        assessment("phq9", 4, 11, hour=9),  # every total, oldest first
        assessment("phq9", 33, 3),  # after the windows, before as_of: no window
        assessment("phq9", 50, 2),  # after as_of
        assessment("gad7", 10, 6),
    ]
    assert summarise_assessments(rows, day(-7), day(40), WINDOWS) == (
        InstrumentSummary("gad7", (AssessmentValue(day(10), at(10), 6, "follow_up_1"),)),
        InstrumentSummary(
            "phq9",
            (
                AssessmentValue(day(-3), at(-3), 14, "baseline"),
                AssessmentValue(day(4), at(4, 9), 11, "treatment"),
                AssessmentValue(day(4), at(4, 18), 12, "treatment"),
                AssessmentValue(day(33), at(33), 3, None),
            ),
        ),
    )


def test_assessments_without_rows() -> None:
    assert summarise_assessments([], day(0), day(9), WINDOWS) == ()


def test_booster_assessments_start_at_the_reference_baseline() -> None:
    inputs = trend_inputs(
        130,
        sessions=(session(100),),
        others=[other(1, 0)],
        assessments=[assessment("phq9", -20, 15), assessment("phq9", -40, 18)],
    )
    (summary,) = compute_trend(inputs).assessments
    assert [(value.total, value.window) for value in summary.values] == [(15, "reference_baseline")]


def test_latest_pgic() -> None:
    rows = [
        assessment("pgic", -2, 1),  # before start: not a change since the series began
        assessment("pgic", 0, 4),
        assessment("pgic", 20, 2),
        assessment("pgic", 31, 6),  # after as_of
        assessment("phq9", 25, 3),
    ]
    assert latest_pgic(rows, day(0), day(30)) == Pgic(at(20), 2, improved=True)
    assert latest_pgic(rows, day(0), day(10)) == Pgic(at(0), 4, improved=False)
    assert latest_pgic(rows, day(0), day(31)) == Pgic(at(31), 6, improved=False)
    assert latest_pgic(rows[:1], day(0), day(30)) is None
    assert latest_pgic([assessment("pgic", 3, 1)], day(0), day(30)) == Pgic(at(3), 1, True)
    assert latest_pgic([assessment("pgic", 3, 3)], day(0), day(30)) == Pgic(at(3), 3, False)
