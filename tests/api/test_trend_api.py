"""GET /trend end to end through the API: hand-computed numbers (tests/trend_data.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import Api, assert_problem
from tests.trend_data import API, berlin, days, episode, series_url, trend_patient

EMPTY_WINDOW: dict[str, Any] = {
    "observed_days": 0,
    "coverage": 0.0,
    "attacks": 0,
    "attacks_per_day": None,
    "weekly_rate_range": None,
    "mean_intensity": None,
    "max_intensity": None,
    "pain_burden_per_day": None,
    "pain_free_days": 0,
    "median_duration_seconds": None,
    "attacks_per_28_days": None,
    "spontaneous_attacks": 0,
    "bni_controlled_fraction": None,
    "worst_bni": None,
    "mean_background_pain": None,
    "trigger_counts": {},
}


def test_the_full_report_by_hand(api: Api) -> None:
    scenario = berlin(api)
    trend = scenario.trend("2026-05-10")
    assert {k: trend[k] for k in ("series_id", "timezone", "as_of", "course_id")} == {
        "series_id": str(scenario.series_id),
        "timezone": "Europe/Berlin",
        "as_of": "2026-05-10",
        "course_id": str(scenario.series_id),  # the first and only series: its own course
    }
    assert (trend["booster"], trend["baseline_source"]) == (False, "own")
    # Incomplete sessions neither start nor end the series; the deleted one does not exist.
    assert (trend["start"], trend["end"]) == ("2026-04-01", "2026-04-03")
    assert (trend["sessions_count"], trend["total_mg_per_kg"]) == (2, 1.0)
    windows = {w["name"]: w for w in trend["windows"]}
    assert list(windows) == ["baseline", "treatment", "follow_up_1", "follow_up_2"]

    assert windows["baseline"] == {
        "name": "baseline",
        "start": "2026-03-25",
        "end": "2026-03-31",
        "days": 7,
        "observed_days": 6,
        "coverage": 6 / 7,
        "attacks": 24,
        "attacks_per_day": 4.0,
        "weekly_rate_range": None,  # one 7-day block
        "mean_intensity": 182 / 24,  # per attack: 4 x 8 x 4 + 2 x 6 + 3 x 7 x 2 over 24
        "max_intensity": 8,
        "pain_burden_per_day": 182 / 6,
        "pain_free_days": 1,
        "median_duration_seconds": 7.5,  # 30 s over 4 attacks in four of the seven entries
        "attacks_per_28_days": 112.0,
        "spontaneous_attacks": 20,
        "bni_controlled_fraction": 0.0,
        "worst_bni": "V",
        "mean_background_pain": 3.0,
        "trigger_counts": {"eating": 4, "spontaneous": 2, "talking": 4},  # attacks
    }
    treatment = windows["treatment"]
    assert (treatment["start"], treatment["end"], treatment["days"]) == (
        "2026-04-01",
        "2026-04-03",
        3,
    )
    assert (treatment["observed_days"], treatment["attacks"], treatment["pain_free_days"]) == (
        2,
        2,
        1,
    )
    follow_up_1 = windows["follow_up_1"]
    assert (follow_up_1["start"], follow_up_1["end"], follow_up_1["observed_days"]) == (
        "2026-04-04",
        "2026-05-01",
        28,
    )
    assert (follow_up_1["attacks"], follow_up_1["attacks_per_day"]) == (42, 1.5)
    assert follow_up_1["weekly_rate_range"] == [0.0, 3.0]
    assert (follow_up_1["pain_burden_per_day"], follow_up_1["pain_free_days"]) == (7.5, 14)
    # An empty window: counts are 0, every rate, mean and median is null, never 0.
    assert windows["follow_up_2"] == {
        "name": "follow_up_2",
        "start": "2026-05-02",
        "end": "2026-05-10",
        "days": 9,
        **EMPTY_WINDOW,
    }

    comparisons = {(c["window"], c["metric"]): c for c in trend["comparisons"]}
    assert len(comparisons) == 9
    # The baseline has 6 observed days: change and ratio, but no category; one 7-day block in
    # the baseline: no p-value.
    assert comparisons["follow_up_1", "attacks_per_day"] == {
        "window": "follow_up_1",
        "metric": "attacks_per_day",
        "baseline": 4.0,
        "value": 1.5,
        "change_pct": -62.5,
        "category": None,
        "p_value": None,
        "rate_ratio": 0.375,
    }
    intensity = comparisons["follow_up_1", "mean_intensity"]
    before = Fraction(182, 24)
    assert intensity["change_pct"] == float(100 * (5 - before) / before)
    assert (intensity["p_value"], intensity["rate_ratio"]) == (None, None)
    assert comparisons["follow_up_2", "attacks_per_day"]["change_pct"] is None

    # Fewer than 7 observed baseline days: no responder, no relief, and a flag saying why.
    assert (trend["responder"], trend["relief"]) == (None, None)
    assert trend["baseline_flags"] == ["short"]
    assert trend["acute_response"] == {
        "sessions_scored": 2,
        "mean_pain_before": 7.0,
        "mean_pain_after": 2.5,
        "mean_drop": 4.5,
    }
    assert trend["vitals"] == dict.fromkeys(
        ("systolic_max", "diastolic_max", "heart_rate_max", "spo2_min")
    )
    assert trend["adverse_effects"] == {"dissociation": 1, "hypertension": 1, "nausea": 1}
    assert [w["code"] for w in trend["warnings"]] == [
        "baseline_short",
        "low_coverage",
        "incomplete_sessions_excluded",
    ]
    assert (trend["assessments"], trend["pgic"], trend["medication_changes"]) == ([], None, [])


def test_the_same_diary_with_a_full_baseline_gives_categories_p_values_and_relief(
    api: Api,
) -> None:
    scenario = berlin(api)
    scenario.patient.no_attack_days(["2026-03-27"])  # the missing baseline day: now observed
    trend = scenario.trend("2026-05-10")
    # Its first 3 days have 8/3 attacks a day, its last 4 days 16/4 = 1.5 x as many.
    assert trend["baseline_flags"] == ["rising"]
    assert "regression to the mean" in trend["warnings"][0]["message"]
    attacks = next(
        c
        for c in trend["comparisons"]
        if (c["window"], c["metric"]) == ("follow_up_1", "attacks_per_day")
    )
    assert (attacks["baseline"], attacks["change_pct"], attacks["category"]) == (
        24 / 7,
        float(100 * (Fraction(3, 2) - Fraction(24, 7)) / Fraction(24, 7)),
        "substantial",
    )
    assert attacks["p_value"] is None  # the 7-day baseline is one block: no test
    assert trend["responder"] is True
    # B = 24/7: R(d) = 0 from 04-06 (3 observed days after 04-03), 3 a day from 04-18;
    # R(04-21) = 12/7 >= 12/7 = B/2 first, R(04-28) too: relief ended on 04-21.
    assert trend["relief"] == {
        "status": "ended",
        "onset_day": "2026-04-06",
        "duration_days": 17,
        "end_day": "2026-04-21",
        "last_observed_day": None,
        "censor_reason": None,
        "lowest_rate": 0.0,
        "relief_rate": 9 / 17,
        "depth_pct": float(100 * (Fraction(24, 7) - Fraction(9, 17)) / Fraction(24, 7)),
    }


def test_as_of_inside_the_series(api: Api) -> None:
    scenario = berlin(api)
    trend = scenario.trend("2026-04-02")
    # The session of 04-03 is after as_of: the series so far is one session long.
    assert (trend["start"], trend["end"], trend["sessions_count"]) == (
        "2026-04-01",
        "2026-04-01",
        1,
    )
    assert [(w["name"], w["start"], w["end"]) for w in trend["windows"]] == [
        ("baseline", "2026-03-25", "2026-03-31"),
        ("treatment", "2026-04-01", "2026-04-01"),
        ("follow_up_1", "2026-04-02", "2026-04-02"),
    ]
    assert trend["responder"] is None
    assert trend["adverse_effects"] == {"hypertension": 1, "nausea": 1}
    assert trend["acute_response"]["sessions_scored"] == 1


def test_a_baseline_without_attacks(api: Api) -> None:
    patient = trend_patient(api)
    patient.no_attack_days(days("2026-01-05", 7))
    patient.upload(episode(f"{d}T08:00:00+01:00", 1, 5) for d in days("2026-01-13", 28))
    sid = patient.series(baseline_days=7, follow_up_days=28)
    patient.session(sid, "2026-01-12T09:00:00+01:00")
    trend = patient.trend(sid, "2026-02-15")
    baseline = trend["windows"][0]
    assert (baseline["observed_days"], baseline["attacks"], baseline["attacks_per_day"]) == (
        7,
        0,
        0.0,
    )
    assert (baseline["pain_free_days"], baseline["mean_intensity"]) == (7, None)
    comparisons = {(c["window"], c["metric"]): c for c in trend["comparisons"]}
    attacks = comparisons["follow_up_1", "attacks_per_day"]
    assert (attacks["baseline"], attacks["value"]) == (0.0, 1.0)
    assert (attacks["change_pct"], attacks["category"], attacks["rate_ratio"]) == (
        None,
        None,
        None,
    )
    assert attacks["p_value"] is None  # one 7-day block in the baseline
    assert comparisons["follow_up_1", "mean_intensity"]["baseline"] is None
    assert (trend["responder"], trend["relief"]) == (None, None)


def test_local_days_in_a_half_hour_zone(api: Api) -> None:
    """Asia/Kolkata is UTC+05:30: early-morning attacks are on the previous UTC date."""
    patient = trend_patient(api, zone="Asia/Kolkata")
    patient.upload(
        [
            episode("2026-06-02T23:59:00+05:30", 11),  # 06-02: before the baseline
            episode("2026-06-03T05:00:00+05:30", 7),  # 06-02 23:30 UTC, local 06-03
            episode("2026-06-04T03:00:00+05:30", 5),  # 06-03 21:30 UTC, local 06-04
            episode("2026-06-09T23:30:00+05:30", 2),  # 18:00 UTC, local 06-09
            episode("2026-06-10T00:10:00+05:30", 13),  # 06-09 18:40 UTC, local 06-10
        ],
    )
    sid = patient.series(baseline_days=7, follow_up_days=28)
    patient.session(sid, "2026-06-10T04:00:00+05:30")  # 06-09 22:30 UTC
    trend = patient.trend(sid, "2026-06-12")
    assert trend["timezone"] == "Asia/Kolkata"
    assert trend["start"] == "2026-06-10"
    baseline, treatment = trend["windows"][:2]
    assert (baseline["start"], baseline["end"]) == ("2026-06-03", "2026-06-09")
    assert (baseline["observed_days"], baseline["attacks"]) == (3, 14)
    assert baseline["attacks_per_day"] == 14 / 3
    assert (treatment["start"], treatment["observed_days"], treatment["attacks"]) == (
        "2026-06-10",
        1,
        13,
    )


def test_assessments_and_pgic(api: Api) -> None:
    scenario = berlin(api)
    for taken_at, instrument, items in [
        ("2025-01-01T10:00:00+01:00", "phq9", [3] * 9),  # before the reference baseline
        ("2026-03-28T19:00:00+01:00", "phq9", [2] * 9),
        ("2026-04-20T19:00:00+02:00", "phq9", [1] * 9),
        ("2026-04-30T19:00:00+02:00", "pgic", [2]),
        ("2026-05-20T19:00:00+02:00", "pgic", [6]),  # after as_of
    ]:
        scenario.patient.assessment(instrument, taken_at, items)
    trend = scenario.trend("2026-05-10")
    assert trend["assessments"] == [
        {
            "instrument": "pgic",
            "values": [
                {
                    "date": "2026-04-30",
                    "taken_at": "2026-04-30T17:00:00Z",
                    "total": 2,
                    "window": "follow_up_1",
                }
            ],
        },
        {
            "instrument": "phq9",
            "values": [
                {
                    "date": "2026-03-28",
                    "taken_at": "2026-03-28T18:00:00Z",
                    "total": 18,
                    "window": "baseline",
                },
                {
                    "date": "2026-04-20",
                    "taken_at": "2026-04-20T17:00:00Z",
                    "total": 9,
                    "window": "follow_up_1",
                },
            ],
        },
    ]
    assert trend["pgic"] == {"taken_at": "2026-04-30T17:00:00Z", "total": 2, "improved": True}


def test_no_completed_session_is_409(api: Api, client: TestClient) -> None:
    patient = trend_patient(api)
    sid = patient.series()
    url = series_url("me", sid, "trend")
    assert_problem(client.get(url, headers=patient.headers), 409)
    patient.session(sid, "2026-04-01T10:00:00+02:00", completed=False)
    patient.session(sid, "2026-05-01T10:00:00+02:00")
    early = {"as_of": "2026-04-30"}
    body = assert_problem(client.get(url, params=early, headers=patient.headers), 409)
    assert "2026-04-30" in body["detail"]
    for what in ("chart.svg", "report"):
        other = series_url("me", sid, what)
        assert_problem(client.get(other, params=early, headers=patient.headers), 409)
    assert client.get(url, params={"as_of": "2026-05-01"}, headers=patient.headers).is_success


def test_series_that_is_not_the_patients_is_404(api: Api, client: TestClient) -> None:
    alice, bob = trend_patient(api), trend_patient(api)
    bobs = bob.series()
    bob.session(bobs, "2026-04-01T10:00:00+02:00")
    deleted = alice.series()
    alice.session(deleted, "2026-04-01T10:00:00+02:00")
    r = client.delete(f"{API}/patients/me/series/{deleted}", headers=alice.headers)
    assert r.status_code == 204, r.text
    for sid in (bobs, deleted, uuid.uuid4()):
        for what in ("trend", "chart.svg", "report", "readiness"):
            assert_problem(client.get(series_url("me", sid, what), headers=alice.headers), 404)
    assert client.get(series_url("me", bobs, "trend"), headers=bob.headers).is_success
    assert_problem(client.get(series_url("me", "not-a-uuid", "trend"), headers=alice.headers), 422)


def test_as_of_default_and_limits(api: Api, client: TestClient) -> None:
    scenario = berlin(api)
    from app.trends.days import local_today

    today = local_today("Europe/Berlin")
    assert scenario.trend(None)["as_of"] == today.isoformat()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert scenario.trend(tomorrow)["as_of"] == tomorrow
    later = (today + timedelta(days=2)).isoformat()
    headers = scenario.patient.headers
    for what in ("trend", "chart.svg", "report"):
        url = series_url("me", scenario.series_id, what)
        body = assert_problem(client.get(url, params={"as_of": later}, headers=headers), 422)
        assert body["errors"][0]["loc"] == ["query", "as_of"]
        assert_problem(client.get(url, params={"as_of": "2026-13-01"}, headers=headers), 422)
        early = assert_problem(
            client.get(url, params={"as_of": "0001-01-01"}, headers=headers), 422
        )
        assert early["errors"][0]["loc"] == ["query", "as_of"]


@pytest.mark.parametrize("scope", ["diary:read", "diary:read diary:write"])
def test_partner_without_reports_scope_is_403(api: Api, client: TestClient, scope: str) -> None:
    scenario = berlin(api)
    partner = api.partner()
    api.grant(scenario.patient.account, to=partner)
    pid = scenario.patient.pid
    narrow = api.partner_token(partner, scope)
    for what in ("trend", "chart.svg", "report", "readiness"):
        assert_problem(client.get(series_url(pid, scenario.series_id, what), headers=narrow), 403)
    timeseries = f"{API}/patients/{pid}/timeseries?from=2026-03-25&to=2026-03-31"
    assert_problem(client.get(timeseries, headers=narrow), 403)
    assert_problem(client.get(f"{API}/patients/{pid}/courses", headers=narrow), 403)
    allowed = api.partner_token(partner, "reports:read")
    url = series_url(pid, scenario.series_id, "trend")
    r = client.get(url, headers=allowed, params={"as_of": "2026-05-10"})
    assert r.status_code == 200, r.text
    assert client.get(timeseries, headers=allowed).status_code == 200


def test_a_granted_clinician_reads_and_it_is_logged(api: Api, client: TestClient) -> None:
    scenario = berlin(api)
    doctor = api.staff_named("clinician", "Dr. Trend")
    pid = scenario.patient.pid
    url = series_url(pid, scenario.series_id, "trend")
    assert_problem(client.get(url, headers=doctor.headers), 404)  # no grant yet
    api.grant(scenario.patient.account, to=doctor)
    r = client.get(url, params={"as_of": "2026-05-10"}, headers=doctor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["baseline_flags"] == ["short"]
    log = client.get(f"{API}/patients/me/access-log", headers=scenario.patient.headers).json()
    reads = [
        entry
        for entry in log["items"]
        if entry["resource"] == "/patients/{pid}/series/{sid}/trend"
        and entry["outcome"] == "success"
    ]
    assert len(reads) == 1
    assert (reads[0]["actor_name"], reads[0]["actor_role"], reads[0]["action"]) == (
        "Dr. Trend",
        "clinician",
        "read",
    )
    assert reads[0]["resource_id"] == str(scenario.series_id)
