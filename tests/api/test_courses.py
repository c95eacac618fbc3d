"""An induction and a booster through the API: the booster's trend, GET /courses, readiness."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import Api, assert_problem
from tests.trend_data import API, Course, induction_and_booster, iso, series_url, trend_patient


def relief_of(course: Course, which: str, as_of: int) -> dict[str, Any]:
    series_id = course.induction if which == "induction" else course.booster
    relief: dict[str, Any] = course.patient.trend(series_id, iso(as_of))["relief"]
    return relief


def test_a_booster_is_compared_with_the_course_reference_baseline(api: Api) -> None:
    course = induction_and_booster(api)
    trend = course.patient.trend(course.booster, iso(150))
    assert (trend["course_id"], trend["booster"], trend["baseline_source"]) == (
        str(course.induction),
        True,
        "course",
    )
    windows = {w["name"]: w for w in trend["windows"]}
    assert list(windows) == [
        "baseline", "reference_baseline", "treatment", "follow_up_1", "follow_up_2",
        "follow_up_3",
    ]  # fmt: skip
    # Its own baseline (the tail of the induction's relief, 5 a day) is for information only.
    assert (windows["baseline"]["start"], windows["baseline"]["attacks_per_day"]) == (iso(62), 5.0)
    reference = windows["reference_baseline"]
    assert (reference["start"], reference["end"], reference["attacks_per_day"]) == (
        iso(-28),
        iso(-1),
        6.0,
    )
    follow_up_1 = next(
        c
        for c in trend["comparisons"]
        if (c["window"], c["metric"]) == ("follow_up_1", "attacks_per_day")
    )
    assert (follow_up_1["baseline"], follow_up_1["value"], follow_up_1["category"]) == (
        6.0,
        1.0,
        "substantial",
    )
    assert trend["responder"] is True
    assert trend["relief"] == {
        "status": "ongoing",
        "onset_day": iso(94),
        "duration_days": 59,  # day 150 - day 91: at least 59 days so far
        "end_day": None,
        "last_observed_day": iso(150),
        "censor_reason": "as_of",
        "lowest_rate": 1.0,
        "relief_rate": 1.0,
        "depth_pct": float(100 * (6 - 1) / 6),
    }
    assert trend["baseline_flags"] == []


def test_the_induction_takes_no_credit_for_the_booster(api: Api) -> None:
    course = induction_and_booster(api)
    trend = course.patient.trend(course.induction, iso(175))
    # The horizon: the day before the booster, or end + 84 (day 88), whichever comes first.
    assert [w["end"] for w in trend["windows"]][-1] == iso(88)
    assert relief_of(course, "induction", 175) == {
        "status": "ended",
        "onset_day": iso(7),
        "duration_days": 59,  # ended on day 64: R(64) = 23/7 >= 3 = B/2, and R(71)
        "end_day": iso(64),
        "last_observed_day": None,
        "censor_reason": None,
        "lowest_rate": 1.0,
        "relief_rate": 71 / 59,  # 56 days at 1, 3 days at 5, over days 5..63
        "depth_pct": float(100 * (6 - Fraction(71, 59)) / 6),
    }


def test_a_new_course_by_choice_uses_its_own_baseline(api: Api) -> None:
    patient = trend_patient(api)
    patient.daily(range(-28, 0), 6)
    patient.daily(range(1, 120), 2)
    first = patient.series()
    patient.sessions(first, [0])
    second = patient.series(name="Other drug")
    patient.sessions(second, [60])
    trend = patient.trend(second, iso(119))
    assert (trend["booster"], trend["course_id"]) == (True, str(first))
    # The induction's horizon is the day before the second series starts.
    assert patient.trend(first, iso(119))["windows"][-1]["end"] == iso(59)


def test_courses_describe_each_course_and_the_patient_outlook(api: Api) -> None:
    course = induction_and_booster(api)
    body = course.patient.courses(iso(175))
    (only,) = body["courses"]
    assert only["course_id"] == str(course.induction)
    assert only["reference_baseline"] == {
        "start": iso(-28),
        "end": iso(-1),
        "observed_days": 28,
        "attacks_per_day": 6.0,
        "flags": [],
    }
    induction, booster = only["series"]
    assert {k: induction[k] for k in ("series_id", "name", "modality", "start", "end")} == {
        "series_id": str(course.induction),
        "name": "Ketamine IV induction",
        "modality": "ketamine_iv",
        "start": iso(0),
        "end": iso(4),
    }
    assert (induction["sessions_count"], induction["total_mg_per_kg"]) == (3, 1.5)
    assert (induction["responder"], induction["relief"]["duration_days"]) == (True, 59)
    assert (booster["series_id"], booster["start"], booster["end"]) == (
        str(course.booster),
        iso(90),
        iso(91),
    )
    assert booster["relief"] == relief_of(course, "booster", 175)
    assert booster["relief"]["status"] == "ended"
    assert booster["relief"]["duration_days"] == 62  # ended on day 154
    assert only["outlook"] == {
        "ended_reliefs": 2,
        "shortest_days": 59,
        "median_days": 60.5,  # two values: their mean
        "longest_days": 62,
        "longest_censored": False,
        "latest_series_id": str(course.booster),
        "latest_relief_status": "ended",
        "expected_return": [iso(92 + 59), iso(92 + 62)],
    }


def test_courses_outlook_needs_two_ended_reliefs(api: Api) -> None:
    course = induction_and_booster(api)
    (only,) = course.patient.courses(iso(150))["courses"]
    assert [s["relief"]["status"] for s in only["series"]] == ["ended", "ongoing"]
    assert only["outlook"] is None


def test_courses_of_a_patient_without_a_started_series(api: Api) -> None:
    patient = trend_patient(api)
    assert patient.courses() == {"courses": []}
    sid = patient.series()
    patient.session(sid, patient.at(0), completed=False)
    assert patient.courses(iso(10)) == {"courses": []}


def test_courses_access_and_audit(api: Api, client: TestClient) -> None:
    course = induction_and_booster(api)
    pid = course.patient.pid
    url = f"{API}/patients/{pid}/courses"
    stranger = api.register()
    assert_problem(client.get(url, headers=stranger.headers), 404)
    doctor = api.staff_named("clinician", "Dr. Course")
    api.grant(course.patient.account, to=doctor)
    r = client.get(url, params={"as_of": iso(175)}, headers=doctor.headers)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    log = client.get(f"{API}/patients/me/access-log", headers=course.patient.headers).json()
    reads = [e for e in log["items"] if e["resource"] == "/patients/{pid}/courses"]
    assert [(e["actor_name"], e["action"], e["outcome"]) for e in reads] == [
        ("Dr. Course", "read", "success"),
        ("Another patient", "read", "denied"),  # the stranger's earlier attempt (newest first)
    ]
    assert_problem(client.get(url, params={"as_of": "2026-02-30"}, headers=doctor.headers), 422)
    assert_problem(client.get(url, params={"as_of": "9999-01-01"}, headers=doctor.headers), 422)


# --- readiness --------------------------------------------------------------------------------


def test_readiness_without_planned_start_is_409(api: Api, client: TestClient) -> None:
    patient = trend_patient(api)
    sid = patient.series()
    body = assert_problem(
        client.get(series_url("me", sid, "readiness"), headers=patient.headers), 409
    )
    assert "planned_start" in body["detail"]


def test_readiness_once_a_session_is_completed_is_409(api: Api, client: TestClient) -> None:
    patient = trend_patient(api)
    sid = patient.series()
    patient.session(sid, patient.at(0), completed=False)
    patient.session(sid, patient.at(5))
    url = series_url("me", sid, "readiness")
    body = assert_problem(client.get(url, params={"as_of": iso(5)}, headers=patient.headers), 409)
    assert "completed session" in body["detail"]
    # Before that session there is no completed one: the 409 then says planned_start is missing.
    body = assert_problem(client.get(url, params={"as_of": iso(4)}, headers=patient.headers), 409)
    assert "planned_start" in body["detail"]


def test_readiness_bad_as_of_is_422(api: Api, client: TestClient) -> None:
    patient = trend_patient(api)
    url = series_url("me", patient.series(), "readiness")
    for as_of in ("tomorrow", "2026-02-30", "1800-01-01", "9999-01-01"):
        body = assert_problem(
            client.get(url, params={"as_of": as_of}, headers=patient.headers), 422
        )
        assert body["errors"][0]["loc"] == ["query", "as_of"]
