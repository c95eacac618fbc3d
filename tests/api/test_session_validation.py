"""Table-driven session validation: each bad field is a 422 that names it; nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.diary import changes_url, new_id, series, series_url, session_url, treatment_session
from tests.helpers import Api, assert_problem, patch_current

FUTURE = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
NEAR_FUTURE = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
WITHOUT = object()
EFFECTS = [
    {"effect": "nausea", "severity": "mild"},
    {"effect": "dizziness", "severity": "moderate"},
    {"effect": "nausea", "severity": "severe"},
]
EVERY_EFFECT = [
    {"effect": e, "severity": "mild"}
    for e in (
        "dissociation",
        "nausea",
        "vomiting",
        "hypertension",
        "tachycardia",
        "dizziness",
        "headache",
        "hallucination",
        "anxiety",
        "sedation",
        "other",
    )
]

CASES: list[tuple[str, Any, list[str | int]]] = [
    ("started_at", "2026-03-02T09:00:00", ["started_at"]),  # naive
    ("started_at", FUTURE, ["started_at"]),
    ("started_at", "tuesday", ["started_at"]),
    ("started_at", WITHOUT, ["started_at"]),
    ("duration_minutes", 0, ["duration_minutes"]),
    ("duration_minutes", 1441, ["duration_minutes"]),
    ("duration_minutes", 40.5, ["duration_minutes"]),
    ("duration_minutes", "40", ["duration_minutes"]),
    ("duration_minutes", WITHOUT, ["duration_minutes"]),
    ("route", "intravenous", ["route"]),
    ("route", None, ["route"]),
    ("dose_mg", 0, ["dose_mg"]),
    ("dose_mg", -10, ["dose_mg"]),
    ("dose_mg", 5000.5, ["dose_mg"]),
    ("dose_mg", "35", ["dose_mg"]),
    ("dose_mg_per_kg", 0, ["dose_mg_per_kg"]),
    ("dose_mg_per_kg", 20.5, ["dose_mg_per_kg"]),
    ("dose_mg_per_kg", True, ["dose_mg_per_kg"]),
    ("pain_before", -1, ["pain_before"]),
    ("pain_before", 11, ["pain_before"]),
    ("pain_after", 2.5, ["pain_after"]),
    ("pain_after", True, ["pain_after"]),
    ("vitals", {"systolic_max": 49}, ["vitals", "systolic_max"]),
    ("vitals", {"systolic_max": 301}, ["vitals", "systolic_max"]),
    ("vitals", {"diastolic_max": 19}, ["vitals", "diastolic_max"]),
    ("vitals", {"diastolic_max": 201}, ["vitals", "diastolic_max"]),
    ("vitals", {"heart_rate_max": 19}, ["vitals", "heart_rate_max"]),
    ("vitals", {"heart_rate_max": 251}, ["vitals", "heart_rate_max"]),
    ("vitals", {"spo2_min": 49}, ["vitals", "spo2_min"]),
    ("vitals", {"spo2_min": 101}, ["vitals", "spo2_min"]),
    ("vitals", {"spo2_min": 97.5}, ["vitals", "spo2_min"]),
    ("vitals", {"systolic_max": 120, "diastolic_max": 120}, ["vitals", "diastolic_max"]),
    ("vitals", {"systolic_max": 150, "bp": "150/90"}, ["vitals", "bp"]),
    ("vitals", [150, 90], ["vitals"]),
    (
        "adverse_effects",
        [{"effect": "itching", "severity": "mild"}],
        ["adverse_effects", 0, "effect"],
    ),
    (
        "adverse_effects",
        [{"effect": "nausea", "severity": "bad"}],
        ["adverse_effects", 0, "severity"],
    ),
    ("adverse_effects", [{"effect": "nausea"}], ["adverse_effects", 0, "severity"]),
    ("adverse_effects", ["nausea"], ["adverse_effects", 0]),
    ("adverse_effects", EFFECTS, ["adverse_effects", 2, "effect"]),  # nausea twice
    ("adverse_effects", [*EVERY_EFFECT, EVERY_EFFECT[0]], ["adverse_effects"]),  # 12 > 11
    ("adverse_effects", None, ["adverse_effects"]),
    (
        "adverse_effects",
        [{"effect": "nausea", "severity": "mild", "onset": "10 min"}],
        ["adverse_effects", 0, "onset"],
    ),
    ("completed", "no", ["completed"]),
    ("completed", 0, ["completed"]),
    ("notes", "x" * 2001, ["notes"]),
    ("version", 1, ["version"]),
    ("created_at", "2026-03-02T09:00:00Z", ["created_at"]),
    ("updated_at", "2026-03-02T09:00:00Z", ["updated_at"]),
    ("recorded_by", "0d2b4a7c-0000-4000-8000-000000000000", ["recorded_by"]),
    ("recorded_by_role", "clinician", ["recorded_by_role"]),
    ("weight_kg", 70, ["weight_kg"]),
    ("flags", [], ["flags"]),
    ("premedication", "ondansetron", ["premedication"]),
    ("series_id", "0d2b4a7c-0000-4000-8000-000000000000", ["series_id"]),  # not the path's
]


@pytest.mark.parametrize(("field", "value", "loc"), CASES)
def test_bad_session_field(
    api: Api, client: TestClient, field: str, value: Any, loc: list[str | int]
) -> None:
    alice = api.register()
    h = alice.headers
    sid = new_id()
    client.put(series_url(sid=sid), json=series(), headers=h)
    body = treatment_session()
    if value is WITHOUT:
        body.pop(field)
    else:
        body[field] = value
    for r in (
        client.put(session_url(sid, new_id()), json=body, headers=h),
        client.post(session_url(sid), json=body, headers=h),
    ):
        problem = assert_problem(r, 422)
        assert ["body", *loc] in [e["loc"] for e in problem["errors"]], problem
    assert client.get(session_url(sid), headers=h).json()["items"] == []
    assert [c["kind"] for c in client.get(changes_url(), headers=h).json()["changes"]] == ["series"]


PATCH_CASES: list[tuple[dict[str, Any], list[str | int]]] = [
    ({"started_at": None}, ["started_at"]),
    ({"started_at": "2026-03-02T09:00:00"}, ["started_at"]),
    ({"duration_minutes": None}, ["duration_minutes"]),
    ({"route": None}, ["route"]),
    ({"completed": None}, ["completed"]),
    ({"adverse_effects": None}, ["adverse_effects"]),
    ({"adverse_effects": EFFECTS}, ["adverse_effects", 2, "effect"]),
    ({"vitals": {"diastolic_max": 160}}, ["vitals", "diastolic_max"]),  # stored systolic: 150
    ({"vitals": {"spo2_min": 40}}, ["vitals", "spo2_min"]),
    ({"series_id": new_id()}, ["series_id"]),
    ({"recorded_by": new_id()}, ["recorded_by"]),
    ({"version": 2}, ["version"]),
]


@pytest.mark.parametrize(("fields", "loc"), PATCH_CASES)
def test_bad_session_patch(
    api: Api, client: TestClient, fields: dict[str, Any], loc: list[str | int]
) -> None:
    alice = api.register()
    h = alice.headers
    sid = new_id()
    client.put(series_url(sid=sid), json=series(), headers=h)
    url = session_url(sid, new_id())
    stored = client.put(url, json=treatment_session(vitals={"systolic_max": 150}), headers=h).json()
    r = patch_current(client, url, json=fields, headers=h)
    assert ["body", *loc] in [e["loc"] for e in assert_problem(r, 422)["errors"]]
    assert client.get(url, headers=h).json() == stored


def test_a_little_clock_skew_is_allowed(api: Api, client: TestClient) -> None:
    alice = api.register()
    sid = client.post(series_url(), json=series(), headers=alice.headers).json()["id"]
    body = treatment_session(started_at=NEAR_FUTURE)
    assert client.post(session_url(sid), json=body, headers=alice.headers).status_code == 201
