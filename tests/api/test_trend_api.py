"""GET /trend end to end: hand-computed numbers for the scenarios of tests/trend_scenarios.py."""

from __future__ import annotations

import uuid
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy.stats import mannwhitneyu

from app.models import Series
from app.services.context import AppContext
from tests.helpers import Api, assert_problem
from tests.trend_data import (
    API,
    add_series,
    add_session,
    delete_row,
    episode,
    no_attack_days,
    series_url,
    upload,
)
from tests.trend_scenarios import Scenario, berlin_scenario, days, get_trend

EMPTY_WINDOW: dict[str, Any] = {
    "observed_days": 0,
    "coverage": 0.0,
    "attacks": 0,
    "attacks_per_day": None,
    "attacks_per_day_ci95": None,
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


def test_the_full_report_by_hand(api: Api, client: TestClient, ctx: AppContext) -> None:
    scenario = berlin_scenario(api, client, ctx)
    trend = get_trend(client, scenario, "2026-05-10")
    assert {k: trend[k] for k in ("series_id", "timezone", "as_of")} == {
        "series_id": str(scenario.series_id),
        "timezone": "Europe/Berlin",
        "as_of": "2026-05-10",
    }
    # Incomplete sessions neither start nor end the series; the deleted one does not exist.
    assert (trend["first_session_date"], trend["last_session_date"]) == ("2026-04-01", "2026-04-03")
    assert trend["sessions_count"] == 2
    windows = {w["name"]: w for w in trend["windows"]}
    assert list(windows) == ["baseline", "treatment", "follow_up_1", "follow_up_2"]

    baseline = windows["baseline"]
    low, high = baseline.pop("attacks_per_day_ci95")
    assert low <= 4.0 <= high
    assert baseline == {
        "name": "baseline",
        "start": "2026-03-25",
        "end": "2026-03-31",
        "days": 7,
        "observed_days": 6,
        "coverage": 6 / 7,
        "attacks": 24,
        "attacks_per_day": 4.0,
        "mean_intensity": 52 / 7,
        "max_intensity": 8,
        "pain_burden_per_day": 182 / 6,
        "pain_free_days": 1,
        "median_duration_seconds": 30.0,
        "attacks_per_28_days": 112.0,
        "spontaneous_attacks": 20,
        "bni_controlled_fraction": 0.0,
        "worst_bni": "V",
        "mean_background_pain": 3.0,
        "trigger_counts": {"eating": 1, "spontaneous": 1, "talking": 1},
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
    assert treatment["attacks_per_day"] == 1.0
    follow_up_1 = windows["follow_up_1"]
    assert (follow_up_1["start"], follow_up_1["end"], follow_up_1["observed_days"]) == (
        "2026-04-04",
        "2026-05-01",
        28,
    )
    assert (follow_up_1["attacks"], follow_up_1["attacks_per_day"]) == (42, 1.5)
    assert (follow_up_1["pain_burden_per_day"], follow_up_1["pain_free_days"]) == (7.5, 14)
    # An empty window: counts are 0, every rate, mean and median is null, never 0.
    follow_up_2 = windows["follow_up_2"]
    assert follow_up_2 == {
        "name": "follow_up_2",
        "start": "2026-05-02",
        "end": "2026-05-10",
        "days": 9,
        **EMPTY_WINDOW,
    }

    comparisons = {(c["window"], c["metric"]): c for c in trend["comparisons"]}
    assert len(comparisons) == 9
    attacks = comparisons["follow_up_1", "attacks_per_day"]
    expected_p = mannwhitneyu(
        [0] * 14 + [3] * 14, [4, 4, 6, 6, 0, 4], alternative="two-sided", method="asymptotic"
    ).pvalue
    assert attacks == {
        "window": "follow_up_1",
        "metric": "attacks_per_day",
        "baseline": 4.0,
        "value": 1.5,
        "change_pct": -62.5,
        "category": "substantial",
        "p_value": float(expected_p),
    }
    intensity = comparisons["follow_up_1", "mean_intensity"]
    assert intensity["change_pct"] == float(100 * (5 - Fraction(52, 7)) / Fraction(52, 7))
    assert (intensity["category"], intensity["p_value"]) == ("moderate", None)
    burden = comparisons["follow_up_1", "pain_burden_per_day"]
    burden_before = Fraction(182, 6)
    assert burden["change_pct"] == float(100 * (Fraction(15, 2) - burden_before) / burden_before)
    assert burden["category"] == "substantial"
    assert comparisons["follow_up_2", "attacks_per_day"] == {
        "window": "follow_up_2",
        "metric": "attacks_per_day",
        "baseline": 4.0,
        "value": None,
        "change_pct": None,
        "category": None,
        "p_value": None,
    }

    assert trend["responder"] is True
    # R(d) is 0 up to 04-17, then 3/7, 6/7, 9/7, 12/7 and on 04-22 15/7 >= 2 = B / 2.
    assert (trend["relief_duration_days"], trend["relief_ongoing"]) == (18, False)
    assert trend["acute_response"] == {
        "sessions_scored": 2,
        "mean_pain_before": 7.0,
        "mean_pain_after": 2.5,
        "mean_drop": 4.5,
    }
    assert trend["adverse_effects"] == {"dissociation": 1, "hypertension": 1, "nausea": 1}
    assert [w["code"] for w in trend["warnings"]] == [
        "baseline_few_observed_days",
        "low_coverage",
        "incomplete_sessions_excluded",
    ]
    assert (trend["assessments"], trend["pgic"], trend["medication_changes"]) == ([], None, [])
    # Seeded bootstrap: the same request gives the same interval.
    assert get_trend(client, scenario, "2026-05-10")["windows"][0]["attacks_per_day_ci95"] == [
        low,
        high,
    ]


def test_as_of_inside_the_series(api: Api, client: TestClient, ctx: AppContext) -> None:
    scenario = berlin_scenario(api, client, ctx)
    trend = get_trend(client, scenario, "2026-04-02")
    # The session of 04-03 is after as_of: the series so far is one session long.
    assert (trend["first_session_date"], trend["last_session_date"]) == ("2026-04-01", "2026-04-01")
    assert trend["sessions_count"] == 1
    assert [(w["name"], w["start"], w["end"]) for w in trend["windows"]] == [
        ("baseline", "2026-03-25", "2026-03-31"),
        ("treatment", "2026-04-01", "2026-04-01"),
        ("follow_up_1", "2026-04-02", "2026-04-02"),
    ]
    follow_up_1 = trend["windows"][2]
    assert (follow_up_1["observed_days"], follow_up_1["attacks_per_day"]) == (1, 0.0)
    assert trend["responder"] is None  # follow_up_1 has not all its days yet
    # One follow-up day, one observed: R(d) needs 3 observed days, so relief is unknown.
    assert (trend["relief_duration_days"], trend["relief_ongoing"]) == (None, None)
    assert trend["adverse_effects"] == {"hypertension": 1, "nausea": 1}
    assert trend["acute_response"]["sessions_scored"] == 1


def test_relief_that_has_not_ended(api: Api, client: TestClient, ctx: AppContext) -> None:
    scenario = berlin_scenario(api, client, ctx)
    trend = get_trend(client, scenario, "2026-04-20")
    # R(d) never reaches 2 up to 04-20 (at most 9/7): censored at 04-20 - 04-03 = 17 days.
    assert (trend["relief_duration_days"], trend["relief_ongoing"]) == (17, True)
    assert trend["responder"] is None


def test_a_baseline_without_attacks(api: Api, client: TestClient, ctx: AppContext) -> None:
    patient = api.register(timezone="Europe/Berlin")
    assert patient.patient_id is not None
    no_attack_days(client, patient, days("2026-01-05", 7))
    upload(client, patient, [episode(f"{d}T08:00:00+01:00", 1, 5) for d in days("2026-01-13", 28)])
    sid = add_series(ctx, patient.patient_id, baseline_days=7, follow_up_days=28)
    add_session(ctx, patient.patient_id, sid, "2026-01-12T09:00:00+01:00")
    trend = get_trend(client, Scenario(patient, sid), "2026-02-15")
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
    assert (attacks["change_pct"], attacks["category"]) == (None, None)
    assert attacks["p_value"] == float(
        mannwhitneyu([1] * 28, [0] * 7, alternative="two-sided", method="asymptotic").pvalue
    )
    assert comparisons["follow_up_1", "mean_intensity"]["baseline"] is None
    assert (trend["responder"], trend["relief_duration_days"], trend["relief_ongoing"]) == (
        None,
        None,
        None,
    )


def test_local_days_in_a_half_hour_zone(api: Api, client: TestClient, ctx: AppContext) -> None:
    """Asia/Kolkata is UTC+05:30: early-morning attacks are on the previous UTC date."""
    patient = api.register(timezone="Asia/Kolkata")
    assert patient.patient_id is not None
    upload(
        client,
        patient,
        [
            episode("2026-06-02T23:59:00+05:30", 11),  # 06-02: before the baseline
            episode("2026-06-03T05:00:00+05:30", 7),  # 06-02 23:30 UTC, local 06-03
            episode("2026-06-04T03:00:00+05:30", 5),  # 06-03 21:30 UTC, local 06-04
            episode("2026-06-09T23:30:00+05:30", 2),  # 18:00 UTC, local 06-09
            episode("2026-06-10T00:10:00+05:30", 13),  # 06-09 18:40 UTC, local 06-10
        ],
    )
    sid = add_series(ctx, patient.patient_id, baseline_days=7, follow_up_days=28)
    add_session(ctx, patient.patient_id, sid, "2026-06-10T04:00:00+05:30")  # 06-09 22:30 UTC
    trend = get_trend(client, Scenario(patient, sid), "2026-06-12")
    assert trend["timezone"] == "Asia/Kolkata"
    assert trend["first_session_date"] == "2026-06-10"
    baseline, treatment = trend["windows"][:2]
    assert (baseline["start"], baseline["end"]) == ("2026-06-03", "2026-06-09")
    assert (baseline["observed_days"], baseline["attacks"]) == (3, 14)
    assert baseline["attacks_per_day"] == 14 / 3
    assert (treatment["start"], treatment["observed_days"], treatment["attacks"]) == (
        "2026-06-10",
        1,
        13,
    )


def test_assessments_and_pgic(api: Api, client: TestClient, ctx: AppContext) -> None:
    scenario = berlin_scenario(api, client, ctx)
    for taken_at, instrument, items in [
        ("2025-01-01T10:00:00+01:00", "phq9", [3] * 9),  # superseded by the one of 03-28
        ("2025-06-01T10:00:00+02:00", "gad7", [1] * 7),  # long before, still the last gad7
        ("2026-03-28T19:00:00+01:00", "phq9", [2] * 9),
        ("2026-04-20T19:00:00+02:00", "phq9", [1] * 9),
        ("2026-04-30T19:00:00+02:00", "pgic", [2]),
        ("2026-05-20T19:00:00+02:00", "pgic", [6]),  # after as_of
    ]:
        body = {"instrument": instrument, "taken_at": taken_at, "items": items}
        r = client.put(
            f"{API}/patients/me/assessments/{uuid.uuid4()}",
            json=body,
            headers=scenario.patient.headers,
        )
        assert r.status_code == 201, r.text
    trend = get_trend(client, scenario, "2026-05-10")
    assert trend["assessments"] == [
        {
            "instrument": "gad7",
            "before_start": {"taken_at": "2025-06-01T08:00:00Z", "total": 7},
            "windows": [],
        },
        {
            "instrument": "pgic",
            "before_start": None,
            "windows": [{"window": "follow_up_1", "taken_at": "2026-04-30T17:00:00Z", "total": 2}],
        },
        {
            "instrument": "phq9",
            "before_start": {"taken_at": "2026-03-28T18:00:00Z", "total": 18},
            "windows": [{"window": "follow_up_1", "taken_at": "2026-04-20T17:00:00Z", "total": 9}],
        },
    ]
    assert trend["pgic"] == {"taken_at": "2026-04-30T17:00:00Z", "total": 2, "improved": True}


def test_no_completed_session_is_409(api: Api, client: TestClient, ctx: AppContext) -> None:
    patient = api.register()
    assert patient.patient_id is not None
    sid = add_series(ctx, patient.patient_id)
    url = series_url("me", sid, "trend")
    assert_problem(client.get(url, headers=patient.headers), 409)
    add_session(ctx, patient.patient_id, sid, "2026-04-01T10:00:00+02:00", completed=False)
    add_session(ctx, patient.patient_id, sid, "2026-05-01T10:00:00+02:00")
    early = {"as_of": "2026-04-30"}
    body = assert_problem(client.get(url, params=early, headers=patient.headers), 409)
    assert "2026-04-30" in body["detail"]
    for what in ("chart.svg", "report"):
        other = series_url("me", sid, what)
        assert_problem(client.get(other, params=early, headers=patient.headers), 409)
    assert client.get(url, params={"as_of": "2026-05-01"}, headers=patient.headers).is_success


def test_series_that_is_not_the_patients_is_404(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    alice, bob = api.register(), api.register()
    assert alice.patient_id is not None
    assert bob.patient_id is not None
    bobs = add_series(ctx, bob.patient_id)
    add_session(ctx, bob.patient_id, bobs, "2026-04-01T10:00:00+02:00")
    deleted = add_series(ctx, alice.patient_id)
    add_session(ctx, alice.patient_id, deleted, "2026-04-01T10:00:00+02:00")
    delete_row(ctx, Series, deleted)
    for sid in (bobs, deleted, uuid.uuid4()):
        for what in ("trend", "chart.svg", "report"):
            assert_problem(client.get(series_url("me", sid, what), headers=alice.headers), 404)
    assert client.get(series_url("me", bobs, "trend"), headers=bob.headers).is_success
    assert_problem(client.get(series_url("me", "not-a-uuid", "trend"), headers=alice.headers), 422)


def test_as_of_default_and_limits(api: Api, client: TestClient, ctx: AppContext) -> None:
    scenario = berlin_scenario(api, client, ctx)
    from app.trends.days import local_today

    today = local_today("Europe/Berlin")
    assert get_trend(client, scenario, None)["as_of"] == today.isoformat()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert get_trend(client, scenario, tomorrow)["as_of"] == tomorrow
    later = (today + timedelta(days=2)).isoformat()
    url = series_url("me", scenario.series_id, "trend")
    headers = scenario.patient.headers
    body = assert_problem(client.get(url, params={"as_of": later}, headers=headers), 422)
    assert body["errors"][0]["loc"] == ["query", "as_of"]
    assert_problem(client.get(url, params={"as_of": "2026-13-01"}, headers=headers), 422)
    early = assert_problem(client.get(url, params={"as_of": "0001-01-01"}, headers=headers), 422)
    assert early["errors"][0]["loc"] == ["query", "as_of"]


@pytest.mark.parametrize("scope", ["diary:read", "diary:read diary:write"])
def test_partner_without_reports_scope_is_403(
    api: Api, client: TestClient, ctx: AppContext, scope: str
) -> None:
    scenario = berlin_scenario(api, client, ctx)
    partner = api.partner()
    api.grant(scenario.patient, to=partner)
    pid = scenario.patient.patient_id
    narrow = api.partner_token(partner, scope)
    for what in ("trend", "chart.svg", "report"):
        assert_problem(client.get(series_url(pid, scenario.series_id, what), headers=narrow), 403)
    timeseries = f"{API}/patients/{pid}/timeseries?from=2026-03-25&to=2026-03-31"
    assert_problem(client.get(timeseries, headers=narrow), 403)
    allowed = api.partner_token(partner, "reports:read")
    url = series_url(pid, scenario.series_id, "trend")
    r = client.get(url, headers=allowed, params={"as_of": "2026-05-10"})
    assert r.status_code == 200, r.text
    assert client.get(timeseries, headers=allowed).status_code == 200


def test_a_granted_clinician_reads_and_it_is_logged(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    scenario = berlin_scenario(api, client, ctx)
    doctor = api.staff_named("clinician", "Dr. Trend")
    pid = scenario.patient.patient_id
    url = series_url(pid, scenario.series_id, "trend")
    assert_problem(client.get(url, headers=doctor.headers), 404)  # no grant yet
    api.grant(scenario.patient, to=doctor)
    r = client.get(url, params={"as_of": "2026-05-10"}, headers=doctor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["responder"] is True
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
