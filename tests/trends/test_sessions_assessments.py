"""Acute response, adverse effects, questionnaires and PGIC."""

from __future__ import annotations

from datetime import UTC, datetime

from app.trends import AcuteResponse, AssessmentValue, InstrumentSummary, Pgic, Window
from app.trends import WindowAssessment as At
from app.trends.assessments import latest_pgic, summarise_assessments
from app.trends.sessions import acute_response, adverse_effects
from tests.trends.builders import assessment, day, session


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


TREATMENT = Window("treatment", day(0), day(4))
FOLLOW_UP_1 = Window("follow_up_1", day(5), day(32))


def at(offset: int, hour: int = 12) -> datetime:
    return datetime.combine(day(offset), datetime.min.time().replace(hour=hour), UTC)


def test_assessments_before_start_and_per_window() -> None:
    rows = [
        assessment("phq9", -400, 20),
        assessment("phq9", -3, 14),
        assessment("phq9", 0, 13, hour=8),  # the start day counts as the treatment window
        assessment("phq9", 4, 11, hour=9),
        assessment("phq9", 4, 12, hour=18),  # the last of the window wins, by time
        assessment("phq9", 33, 3),  # after the last window: not reported
        assessment("gad7", 10, 6),
        assessment("cadss6", 40, 9),  # only outside the windows: instrument left out
    ]
    assert summarise_assessments(rows, day(0), [TREATMENT, FOLLOW_UP_1]) == (
        InstrumentSummary("gad7", None, (At("follow_up_1", at(10), 6),)),
        InstrumentSummary("phq9", AssessmentValue(at(-3), 14), (At("treatment", at(4, 18), 12),)),
    )


def test_assessments_without_rows() -> None:
    assert summarise_assessments([], day(0), [TREATMENT]) == ()


def test_assessment_only_before_start() -> None:
    rows = [assessment("penn_fps_r", -1, 77)]
    assert summarise_assessments(rows, day(0), [TREATMENT]) == (
        InstrumentSummary("penn_fps_r", AssessmentValue(at(-1), 77), ()),
    )


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
