"""Table-driven validation: each bad field is a 422 that names it, and nothing is written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.diary import (
    assessment,
    assessment_url,
    changes_url,
    checkin_url,
    episode,
    episode_url,
    medication,
    medication_url,
)
from tests.helpers import Api, assert_problem

EID = "6f1c1b7e-3f55-4a55-9d7e-2b0a0d6a1c11"
FUTURE = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
NEAR_FUTURE = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
TOMORROW = (date.today() + timedelta(days=2)).isoformat()
WITHOUT = object()

EPISODE_CASES: list[tuple[str, Any, list[str | int]]] = [
    ("started_at", "2026-03-01T08:15:00", ["started_at"]),  # naive
    ("started_at", "yesterday", ["started_at"]),
    ("started_at", FUTURE, ["started_at"]),
    ("started_at", "0001-01-01T00:30:00-05:00", ["started_at"]),  # before 1900
    ("started_at", WITHOUT, ["started_at"]),
    ("duration_seconds", 0, ["duration_seconds"]),
    ("duration_seconds", 86401, ["duration_seconds"]),
    ("duration_seconds", 1.5, ["duration_seconds"]),
    ("attack_count", 0, ["attack_count"]),
    ("attack_count", 1001, ["attack_count"]),
    ("intensity", 0, ["intensity"]),
    ("intensity", 11, ["intensity"]),
    ("intensity", None, ["intensity"]),
    ("intensity", "7", ["intensity"]),
    ("intensity", True, ["intensity"]),
    ("attack_count", 2.5, ["attack_count"]),
    ("intensity", WITHOUT, ["intensity"]),
    ("side", "top", ["side"]),
    ("branches", ["V4"], ["branches", 0]),
    ("branches", ["V1", "V1"], ["branches"]),
    ("qualities", ["tickling"], ["qualities", 0]),
    ("triggers", ["eating", "sneezing"], ["triggers", 1]),
    ("triggers", ["eating", "eating"], ["triggers"]),
    ("triggers", "eating", ["triggers"]),
    ("note", "x" * 2001, ["note"]),
    ("rescue_medication", "", ["rescue_medication"]),
    ("rescue_medication", "y" * 201, ["rescue_medication"]),
    ("version", 1, ["version"]),
    ("created_at", "2026-03-01T08:15:00Z", ["created_at"]),
    ("updated_at", "2026-03-01T08:15:00Z", ["updated_at"]),
    ("recorded_by", "me", ["recorded_by"]),
    ("colour", "red", ["colour"]),
    ("id", "0d2b4a7c-0000-4000-8000-000000000000", ["id"]),  # differs from the path
]


@pytest.mark.parametrize(("field", "value", "loc"), EPISODE_CASES)
def test_bad_episode_field(
    api: Api, client: TestClient, field: str, value: Any, loc: list[str | int]
) -> None:
    alice = api.register()
    body = episode()
    if value is WITHOUT:
        body.pop(field)
    else:
        body[field] = value
    r = client.put(episode_url(eid=EID), json=body, headers=alice.headers)
    problem = assert_problem(r, 422)
    assert ["body", *loc] in [e["loc"] for e in problem["errors"]], problem
    if field != "id":
        r = client.post(episode_url(), json=body, headers=alice.headers)
        assert ["body", *loc] in [e["loc"] for e in assert_problem(r, 422)["errors"]]
    _nothing_written(client, alice.headers)


def test_a_little_clock_skew_is_allowed(api: Api, client: TestClient) -> None:
    alice = api.register()
    r = client.put(
        episode_url(eid=EID), json=episode(started_at=NEAR_FUTURE), headers=alice.headers
    )
    assert r.status_code == 201, r.text


CHECKIN_CASES: list[tuple[str, Any, list[str | int]]] = [
    ("background_pain", -1, ["body", "background_pain"]),
    ("background_pain", 11, ["body", "background_pain"]),
    ("mood", 11, ["body", "mood"]),
    ("sleep_hours", 24.5, ["body", "sleep_hours"]),
    ("sleep_hours", -0.5, ["body", "sleep_hours"]),
    ("bni", "VI", ["body", "bni"]),
    ("no_attacks", "maybe", ["body", "no_attacks"]),
    ("no_attacks", 1, ["body", "no_attacks"]),
    ("mood", "5", ["body", "mood"]),
    ("note", "x" * 2001, ["body", "note"]),
    ("version", 2, ["body", "version"]),
    ("date", "2026-03-02", ["body", "date"]),  # differs from the path
]


@pytest.mark.parametrize(("field", "value", "loc"), CHECKIN_CASES)
def test_bad_checkin_field(
    api: Api, client: TestClient, field: str, value: Any, loc: list[str | int]
) -> None:
    alice = api.register()
    body = {"no_attacks": False, field: value}
    r = client.put(checkin_url(day="2026-03-01"), json=body, headers=alice.headers)
    assert loc in [e["loc"] for e in assert_problem(r, 422)["errors"]]
    _nothing_written(client, alice.headers)


@pytest.mark.parametrize(
    "day",
    [TOMORROW, "2026-02-30", "yesterday", "20260301"],
    ids=["future", "no-such", "word", "basic"],
)
def test_bad_checkin_date(api: Api, client: TestClient, day: str) -> None:
    alice = api.register()
    r = client.put(checkin_url(day=day), json={"no_attacks": True}, headers=alice.headers)
    assert ["path", "date"] in [e["loc"] for e in assert_problem(r, 422)["errors"]]
    _nothing_written(client, alice.headers)


MEDICATION_CASES: list[tuple[dict[str, Any], list[str | int]]] = [
    ({"name": ""}, ["name"]),
    ({"name": "n" * 201}, ["name"]),
    ({"dose_mg_per_day": 0}, ["dose_mg_per_day"]),
    ({"dose_mg_per_day": -5}, ["dose_mg_per_day"]),
    ({"dose_mg_per_day": 100_001}, ["dose_mg_per_day"]),
    ({"dose_mg_per_day": "600"}, ["dose_mg_per_day"]),
    ({"started_on": "2025-13-01"}, ["started_on"]),
    ({"started_on": TOMORROW}, ["started_on"]),
    ({"stopped_on": TOMORROW}, ["stopped_on"]),
    ({"stopped_on": "2025-10-31"}, ["stopped_on"]),  # before started_on
    ({"version": 1}, ["version"]),
    ({"frequency": "daily"}, ["frequency"]),
]


@pytest.mark.parametrize(("fields", "loc"), MEDICATION_CASES)
def test_bad_medication_field(
    api: Api, client: TestClient, fields: dict[str, Any], loc: list[str | int]
) -> None:
    alice = api.register()
    body = medication(**fields)
    for r in (
        client.post(medication_url(), json=body, headers=alice.headers),
        client.put(medication_url(mid=EID), json=body, headers=alice.headers),
    ):
        assert ["body", *loc] in [e["loc"] for e in assert_problem(r, 422)["errors"]]
    _nothing_written(client, alice.headers)


ASSESSMENT_CASES: list[tuple[dict[str, Any], list[str | int]]] = [
    ({"instrument": "bdi"}, ["instrument"]),
    ({"items": [1, 0, 2, 1, 0, 1]}, ["items"]),  # gad7 has 7
    ({"items": [1, 0, 2, 4, 0, 1, 0]}, ["items", 3]),
    ({"items": [1, 0, 2, 1, 0, 1, -1]}, ["items", 6]),
    ({"instrument": "phq9", "items": [0] * 8 + [4]}, ["items", 8]),
    ({"instrument": "pgic", "items": [0]}, ["items", 0]),
    ({"instrument": "pgic", "items": [8]}, ["items", 0]),
    ({"instrument": "penn_fps_r", "items": [10] * 11 + [11]}, ["items", 11]),
    ({"instrument": "cadss6", "items": [0, 0, 5, 0, 0, 0]}, ["items", 2]),
    ({"items": ["a"] * 7}, ["items", 0]),
    ({"items": [1, 0, True, 1, 0, 1, 0]}, ["items", 2]),
    ({"items": [1, 0, "2", 1, 0, 1, 0]}, ["items", 2]),
    ({"taken_at": "2026-03-01T20:00:00"}, ["taken_at"]),
    ({"taken_at": FUTURE}, ["taken_at"]),
    ({"series_id": "nope"}, ["series_id"]),
    ({"total": 5}, ["total"]),
    ({"version": 1}, ["version"]),
]


@pytest.mark.parametrize(("fields", "loc"), ASSESSMENT_CASES)
def test_bad_assessment_field(
    api: Api, client: TestClient, fields: dict[str, Any], loc: list[str | int]
) -> None:
    alice = api.register()
    r = client.put(assessment_url(aid=EID), json=assessment(**fields), headers=alice.headers)
    assert ["body", *loc] in [e["loc"] for e in assert_problem(r, 422)["errors"]]
    _nothing_written(client, alice.headers)


@pytest.mark.parametrize(
    ("url", "params", "loc"),
    [
        (episode_url(), {"from": "2026-03-01T00:00:00"}, ["query", "from"]),
        (episode_url(), {"to": "tomorrow"}, ["query", "to"]),
        (episode_url(), {"trigger": "sneezing"}, ["query", "trigger"]),
        (episode_url(), {"min_intensity": 11}, ["query", "min_intensity"]),
        (episode_url(), {"limit": 0}, ["query", "limit"]),
        (episode_url(), {"limit": 501}, ["query", "limit"]),
        (episode_url(), {"cursor": "nonsense"}, ["query", "cursor"]),
        (checkin_url(), {"from": "2026-02-30"}, ["query", "from"]),
        (assessment_url(), {"instrument": "bdi"}, ["query", "instrument"]),
        (assessment_url(), {"to": "2026-03-01T00:00:00"}, ["query", "to"]),
        (medication_url(), {"cursor": "WyJlcGlzb2RlcyIsMSwyXQ"}, ["query", "cursor"]),
    ],
)
def test_bad_query_parameter(
    api: Api, client: TestClient, url: str, params: dict[str, Any], loc: list[str]
) -> None:
    alice = api.register()
    r = client.get(url, params=params, headers=alice.headers)
    assert loc in [e["loc"] for e in assert_problem(r, 422)["errors"]]


def _nothing_written(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get(changes_url(), headers=headers).json()["changes"] == []
    for url in (episode_url(), checkin_url(), medication_url(), assessment_url()):
        assert client.get(url, headers=headers).json()["items"] == []
