"""What the issue's fuzz run found, each now stated by the OpenAPI document and kept by the server:
the document's rule and the server's answer agree on both sides of it."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from fastapi.testclient import TestClient

from tests.diary import episode, episode_url, new_id
from tests.helpers import PASSWORD, Api, assert_problem


def _parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    operation = document["paths"][path]["get"]
    found: dict[str, Any] = next(p for p in operation["parameters"] if p["name"] == name)
    return found


def _schema(parameter: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = parameter["schema"]
    return next((b for b in schema.get("anyOf", []) if b.get("type") == "string"), schema)


def test_a_cursor_is_accepted_exactly_when_it_matches_the_documented_pattern(
    api: Api, client: TestClient
) -> None:
    clinician = api.staff()
    for n in range(3):
        api.grant(api.register(name=f"P{n}"), to=clinician)
    document = client.get("/openapi.json").json()
    pattern = re.compile(_schema(_parameter(document, "/api/v1/patients", "cursor"))["pattern"])
    first = client.get("/api/v1/patients", params={"limit": 2}, headers=clinician.headers).json()
    handed_out = first["next_cursor"]
    assert pattern.fullmatch(handed_out)
    # The cursor of 500 zeros: not of the pattern, so the 422 is what the document says.
    assert not pattern.fullmatch("0" * 500)
    r = client.get("/api/v1/patients", params={"cursor": "0" * 500}, headers=clinician.headers)
    assert_problem(r, 422)
    # Any string of the pattern is a position in the list: one never handed out is a 200 too.
    made_up = "patients." + "f" * 32
    assert pattern.fullmatch(made_up)
    r = client.get("/api/v1/patients", params={"cursor": made_up}, headers=clinician.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [], "next_cursor": None}
    second = client.get(
        "/api/v1/patients", params={"cursor": handed_out}, headers=clinician.headers
    ).json()
    assert len(second["items"]) == 1


def test_time_zones_are_documented_as_exactly_the_iana_names(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    register = document["components"]["schemas"]["RegisterIn"]["properties"]["timezone"]
    zone = re.compile(register["pattern"])
    assert all(zone.fullmatch(name) for name in zoneinfo.available_timezones())
    for wrong in ("0" * 64, "Europe/Berlinn", "Etc/GMT1", "utc"):
        assert not zone.fullmatch(wrong), wrong
        body = {"email": "tz@example.org", "password": PASSWORD, "display_name": "T"}
        r = client.post("/api/v1/auth/register", json={**body, "timezone": wrong})
        assert_problem(r, 422)


def test_options_on_the_batch_is_about_the_batch_not_an_episode(
    api: Api, client: TestClient
) -> None:
    patient = api.register()
    batch = episode_url() + "/batch"
    r = client.options(batch, headers=patient.headers)
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    r = client.get(batch, headers=patient.headers)
    assert (r.status_code, r.headers["allow"]) == (405, "POST")
    # An episode id is still an episode.
    eid = new_id()
    assert client.put(episode_url(eid=eid), json=episode(), headers=patient.headers).is_success
    r = client.options(episode_url(eid=eid), headers=patient.headers)
    assert (r.status_code, r.headers["allow"]) == (405, "DELETE, GET, PATCH, PUT")


def test_text_with_nul_is_refused_as_documented(api: Api, client: TestClient) -> None:
    patient = api.register()
    document = client.get("/openapi.json").json()
    name = document["components"]["schemas"]["SeriesIn"]["properties"]["name"]
    assert not re.fullmatch(name["pattern"], "\x00Ketamine")
    body = {"name": "\x00Ketamine", "modality": "ketamine_iv"}
    r = client.post("/api/v1/patients/me/series", json=body, headers=patient.headers)
    assert_problem(r, 422)
    assert client.get("/api/v1/patients/me/series", headers=patient.headers).json()["items"] == []
