"""End to end through the API, on both engines: what the storage of issue 10 gives the trends —
days kept in the offset they were written with, dose changes dated by ``dose_changed_on``, the
series' ``new_course`` and ``planned_start`` — and bad input refused with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import Api, assert_problem, patch_current
from tests.trend_data import API, TrendPatient, episode, iso, series_url, trend_patient


def relieved_patient(api: Api) -> tuple[TrendPatient, Any]:
    """6 attacks a day for 28 days, one session on day 0, then 1 a day to day 80: relief from
    day 3, still running on day 80 unless something stops the look."""
    patient = trend_patient(api)
    patient.daily(range(-28, 0), 6)
    patient.daily(range(1, 81), 1)
    sid = patient.series()
    patient.sessions(sid, [0])
    return patient, sid


def test_a_time_zone_change_leaves_the_trend_unchanged(api: Api, client: TestClient) -> None:
    patient = trend_patient(api)
    # Attacks just after midnight in Berlin: the evening before in New York.
    patient.daily(range(-28, 0), 6)
    patient.upload(episode(patient.at(n, 0.5), 1, 4) for n in range(1, 41))
    sid = patient.series(baseline_days=28, follow_up_days=56)
    patient.session(sid, "2026-03-02T00:15:00+01:00")  # 23:15 UTC on 03-01
    before = patient.trend(sid, iso(40))
    assert before["start"] == iso(0)
    r = client.patch(
        f"{API}/patients/me",
        json={"timezone": "America/New_York"},
        headers={**patient.headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    after = patient.trend(sid, iso(40))
    assert after["timezone"] == "America/New_York"
    assert {**after, "timezone": before["timezone"]} == before
    listed = client.get(f"{API}/patients/me/episodes", params={"limit": 1}, headers=patient.headers)
    assert listed.json()["items"][0]["started_at"].endswith("+02:00")  # as it was written


def test_a_dose_increase_patched_after_the_fact_censors_relief(api: Api) -> None:
    patient, sid = relieved_patient(api)
    drug = patient.medication(name="Carbamazepine", dose_mg_per_day=400, started_on=iso(-300))
    assert patient.trend(sid, iso(80))["relief"]["status"] == "ongoing"
    # Entered weeks later, dated the day it happened.
    patient.patch_medication(drug, dose_mg_per_day=600, dose_changed_on=iso(30))
    trend = patient.trend(sid, iso(80))
    assert trend["relief"]["status"] == "censored"
    assert trend["relief"]["censor_reason"] == "medication_change"
    assert (trend["relief"]["last_observed_day"], trend["relief"]["duration_days"]) == (
        iso(29),
        29,
    )
    assert trend["responder"] is True  # H' = day 29 >= end + 28
    (change,) = trend["medication_changes"]
    assert {k: change[k] for k in ("date", "kind", "window", "mg_per_day")} == {
        "date": iso(30),
        "kind": "dose",
        "window": "follow_up_2",
        "mg_per_day": 600.0,
    }
    assert change["previous_mg_per_day"] == 400.0


def test_a_dose_decrease_does_not_stop_the_look_at_relief(api: Api) -> None:
    patient, sid = relieved_patient(api)
    drug = patient.medication(name="Carbamazepine", dose_mg_per_day=400, started_on=iso(-300))
    patient.patch_medication(drug, dose_mg_per_day=200, dose_changed_on=iso(30))
    trend = patient.trend(sid, iso(80))
    assert (trend["relief"]["status"], trend["relief"]["duration_days"]) == ("ongoing", 80)
    assert "medication_changed_during_series" in [w["code"] for w in trend["warnings"]]


def test_new_course_decides_against_the_182_day_rule(api: Api) -> None:
    patient = trend_patient(api)
    patient.daily(range(-28, 0), 6)
    patient.daily(range(1, 60), 2)
    first = patient.series()
    patient.sessions(first, [0])
    second = patient.series(new_course=True)  # 40 days later: a booster by the rule
    patient.sessions(second, [40])
    trend = patient.trend(second, iso(59))
    assert (trend["booster"], trend["course_id"], trend["baseline_source"]) == (
        False,
        str(second),
        "own",
    )
    assert [course["course_id"] for course in patient.courses(iso(59))["courses"]] == [
        str(first),
        str(second),
    ]


def test_readiness_of_a_planned_series(api: Api) -> None:
    patient = trend_patient(api)
    patient.daily(range(72, 90), 3)  # 18 of the 19 baseline days so far logged
    sid = patient.series(planned_start=iso(100))
    body = patient.get(series_url("me", sid, "readiness"), iso(90)).json()
    assert body == {
        "planned_start": iso(100),
        "baseline_start": iso(72),
        "baseline_end": iso(99),
        "days_elapsed": 19,
        "observed_days": 18,
        "target_observed_days": 23,
        "days_left": 9,
        "on_track": True,
        "flags": [],
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("new_course", "yes"),
        ("new_course", 1),
        ("planned_start", 20260601),
        ("planned_start", "soon"),
        ("planned_start", "2026-02-30"),
    ],
)
def test_bad_course_fields_are_422_and_store_nothing(
    api: Api, client: TestClient, field: str, value: object
) -> None:
    patient = trend_patient(api)
    sid = patient.series()
    url = f"{API}/patients/me/series"
    body = {"name": "Booster", "modality": "ketamine_iv", field: value}
    problem = assert_problem(client.post(url, json=body, headers=patient.headers), 422)
    assert problem["errors"][0]["loc"][-1] == field
    headers = {**patient.headers, "If-Match": '"1"'}
    patched = patch_current(client, f"{url}/{sid}", json={field: value}, headers=headers)
    assert_problem(patched, 422)
    listed = client.get(url, headers=patient.headers).json()["items"]
    assert [(item["id"], item["version"]) for item in listed] == [(str(sid), 1)]
