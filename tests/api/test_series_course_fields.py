"""A series' planned_start (date, optional) and new_course (true | false | null, default null):
stored and returned on every representation, and a clear 422 for anything else, storing nothing.
The course logic that reads them lives in the trends."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.diary import changes_url, new_id, series, series_url
from tests.helpers import Account, Api, assert_problem, patch_current

API = "/api/v1"


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def feed(client: TestClient, who: Account, since: str | None = None) -> dict[str, Any]:
    params = {"limit": 500} | ({"since": since} if since else {})
    return ok(client.get(changes_url(), params=params, headers=who.headers))


def test_planned_start_and_new_course_on_every_representation(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    plain = ok(client.post(series_url(), json=series(), headers=h))
    assert (plain["planned_start"], plain["new_course"]) == (None, None)  # the defaults
    planned = ok(
        client.post(
            series_url(), json=series(planned_start="2026-04-13", new_course=False), headers=h
        )
    )
    assert (planned["planned_start"], planned["new_course"]) == ("2026-04-13", False)
    url = series_url(sid=planned["id"])
    assert ok(client.get(url, headers=h)) == planned
    listed = {s["id"]: s for s in ok(client.get(series_url(), headers=h))["items"]}
    assert listed[planned["id"]] == planned

    patched = ok(client.patch(url, json={"new_course": True}, headers={**h, "If-Match": '"1"'}))
    assert (patched["planned_start"], patched["new_course"], patched["version"]) == (
        "2026-04-13",
        True,
        2,
    )
    # null clears either; the same value again changes nothing.
    cleared = ok(
        patch_current(client, url, json={"planned_start": None, "new_course": None}, headers=h)
    )
    assert (cleared["planned_start"], cleared["new_course"], cleared["version"]) == (None, None, 3)
    same = ok(patch_current(client, url, json={"new_course": None}, headers=h))
    assert same["version"] == 3

    put_id = new_id()
    body = series(planned_start="2027-01-04", new_course=True)
    created = client.put(series_url(sid=put_id), json=body, headers=h)
    assert created.status_code == 201, created.text
    assert (created.json()["planned_start"], created.json()["new_course"]) == ("2027-01-04", True)
    again = ok(client.put(series_url(sid=put_id), json=body, headers=h))
    assert again["version"] == 1
    # A PUT is the whole record: leaving them out sets the defaults.
    replaced = ok(client.put(series_url(sid=put_id), json=series(), headers=h))
    assert (replaced["planned_start"], replaced["new_course"], replaced["version"]) == (
        None,
        None,
        2,
    )

    changes = {c["id"]: c["data"] for c in feed(client, alice)["changes"] if c["kind"] == "series"}
    assert changes[planned["id"]] == cleared
    assert changes[put_id] == replaced


def test_they_travel_through_export_and_import(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    ok(
        client.post(
            series_url(), json=series(planned_start="2026-04-13", new_course=False), headers=h
        )
    )
    ok(client.post(series_url(), json=series(name="Next", new_course=True), headers=h))
    exported = ok(client.get(f"{API}/me/export", headers=h))
    fields = sorted((s["name"], s["planned_start"], s["new_course"]) for s in exported["series"])
    assert fields == [("Ketamine IV, spring", "2026-04-13", False), ("Next", None, True)]

    bob = api.register()
    ok(client.post(f"{API}/me/import", json=exported, headers=bob.headers))
    again = ok(client.get(f"{API}/me/export", headers=bob.headers))
    assert sorted((s["name"], s["planned_start"], s["new_course"]) for s in again["series"]) == (
        fields
    )


BAD = [
    ({"new_course": "yes"}, ["new_course"], "boolean"),
    ({"new_course": "true"}, ["new_course"], "boolean"),
    ({"new_course": 1}, ["new_course"], "boolean"),
    ({"new_course": [True]}, ["new_course"], "boolean"),
    ({"planned_start": 5}, ["planned_start"], "YYYY-MM-DD"),
    ({"planned_start": 0}, ["planned_start"], "YYYY-MM-DD"),
    ({"planned_start": True}, ["planned_start"], "YYYY-MM-DD"),
    ({"planned_start": "2026-13-01"}, ["planned_start"], "date"),
    ({"planned_start": "next monday"}, ["planned_start"], "date"),
    ({"planned_start": "2026-04-13T09:00:00+02:00"}, ["planned_start"], "date"),
    ({"planned_start": "1899-12-31"}, ["planned_start"], "1900-01-01"),
    ({"planned_start": "2200-01-01"}, ["planned_start"], "2199-12-31"),
]


@pytest.mark.parametrize(("fields", "loc", "says"), BAD)
def test_a_wrong_type_is_a_clear_422_and_stores_nothing(
    api: Api, client: TestClient, fields: dict[str, Any], loc: list[str], says: str
) -> None:
    alice = api.register()
    h = alice.headers
    kept = ok(client.post(series_url(), json=series(), headers=h))
    cursor = feed(client, alice)["next_cursor"]
    sid = new_id()
    for r in (
        client.post(series_url(), json=series(**fields), headers=h),
        client.put(series_url(sid=sid), json=series(**fields), headers=h),
        client.patch(series_url(sid=kept["id"]), json=fields, headers={**h, "If-Match": '"1"'}),
    ):
        body = assert_problem(r, 422)
        (error,) = body["errors"]
        assert error["loc"] == ["body", *loc]
        assert says in error["msg"]
    assert_problem(client.get(series_url(sid=sid), headers=h), 404)
    assert ok(client.get(series_url(sid=kept["id"]), headers=h)) == kept
    assert [s["id"] for s in ok(client.get(series_url(), headers=h))["items"]] == [kept["id"]]
    assert feed(client, alice, cursor)["changes"] == []
