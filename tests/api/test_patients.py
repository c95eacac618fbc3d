"""The patient record: read, update with If-Match, and nobody else's."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.helpers import Api, assert_problem, patch_current


def test_patient_reads_itself_by_me_and_by_id(api: Api, client: TestClient) -> None:
    account = api.register(timezone="America/New_York", name="Sam")
    by_me = client.get("/api/v1/patients/me", headers=account.headers)
    by_id = client.get(f"/api/v1/patients/{account.patient_id}", headers=account.headers)
    assert by_me.status_code == by_id.status_code == 200
    assert by_me.json() == by_id.json()
    body = by_me.json()
    assert body["id"] == str(account.patient_id)
    assert body["diagnosis"] == {
        "ichd3_type": "unknown",
        "side": None,
        "branches": [],
        "concomitant_continuous_pain": False,
        "diagnosed_on": None,
    }
    assert by_me.headers["etag"] == '"1"'
    assert by_me.headers["cache-control"] == "no-store"
    listed = client.get("/api/v1/patients", headers=account.headers).json()
    assert [p["id"] for p in listed["items"]] == [str(account.patient_id)]


def test_another_patient_is_404(api: Api, client: TestClient) -> None:
    alice, bob = api.register(), api.register()
    r = client.get(f"/api/v1/patients/{bob.patient_id}", headers=alice.headers)
    assert_problem(r, 404)
    unknown = client.get(f"/api/v1/patients/{uuid.uuid4()}", headers=alice.headers)
    assert r.json()["detail"] == unknown.json()["detail"]
    r = patch_current(
        client,
        f"/api/v1/patients/{bob.patient_id}",
        json={"display_name": "pwned"},
        headers=alice.headers,
    )
    assert_problem(r, 404)
    assert client.get("/api/v1/patients/me", headers=bob.headers).json()["display_name"] != "pwned"
    assert_problem(client.get("/api/v1/patients/not-a-uuid", headers=alice.headers), 404)


def test_staff_have_no_patient_by_default(api: Api, client: TestClient) -> None:
    clinician = api.staff("clinician")
    patient = api.register()
    assert_problem(client.get("/api/v1/patients/me", headers=clinician.headers), 404)
    assert_problem(
        client.get(f"/api/v1/patients/{patient.patient_id}", headers=clinician.headers), 404
    )
    assert client.get("/api/v1/patients", headers=clinician.headers).json()["items"] == []


def test_patch_updates_and_bumps_version(api: Api, client: TestClient) -> None:
    account = api.register()
    r = client.patch(
        "/api/v1/patients/me",
        json={
            "weight_kg": 72.5,
            "birth_year": 1961,
            "diagnosis": {
                "ichd3_type": "classical",
                "side": "right",
                "branches": ["V3", "V2"],
                "diagnosed_on": "2019-04-01",
            },
        },
        headers={**account.headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 2
    assert r.headers["etag"] == '"2"'
    assert body["weight_kg"] == 72.5
    assert body["birth_year"] == 1961
    assert body["diagnosis"]["branches"] == ["V2", "V3"]
    assert body["diagnosis"]["side"] == "right"
    # The same change again changes nothing and keeps the version.
    again = patch_current(
        client, "/api/v1/patients/me", json={"weight_kg": 72.5}, headers=account.headers
    )
    assert again.json()["version"] == 2
    # Partial diagnosis update keeps the other diagnosis fields.
    r = patch_current(
        client,
        "/api/v1/patients/me",
        json={"diagnosis": {"concomitant_continuous_pain": True}},
        headers=account.headers,
    )
    assert r.json()["diagnosis"]["side"] == "right"
    assert r.json()["diagnosis"]["concomitant_continuous_pain"] is True


def test_stale_if_match_is_412_and_changes_nothing(api: Api, client: TestClient) -> None:
    account = api.register()
    patch_current(client, "/api/v1/patients/me", json={"weight_kg": 70}, headers=account.headers)
    r = client.patch(
        "/api/v1/patients/me",
        json={"weight_kg": 90},
        headers={**account.headers, "If-Match": '"1"'},
    )
    assert_problem(r, 412)
    assert client.get("/api/v1/patients/me", headers=account.headers).json()["weight_kg"] == 70


def test_patch_validation(api: Api, client: TestClient) -> None:
    account = api.register()
    cases = [
        ({"timezone": "Nowhere/City"}, "timezone"),
        ({"timezone": None}, "body"),
        ({"weight_kg": 0}, "weight_kg"),
        ({"birth_year": 1800}, "birth_year"),
        ({"diagnosis": {"side": "top"}}, "side"),
        ({"diagnosis": {"branches": ["V4"]}}, "branches"),
        ({"diagnosis": {"branches": ["V1", "V1"]}}, "branches"),
        ({"version": 5}, "version"),
        ({"id": str(uuid.uuid4())}, "id"),
    ]
    for payload, field in cases:
        body = assert_problem(
            patch_current(client, "/api/v1/patients/me", json=payload, headers=account.headers), 422
        )
        locs = [str(p) for err in body["errors"] for p in err["loc"]]
        assert field in locs, (payload, body)
    after = client.get("/api/v1/patients/me", headers=account.headers).json()
    assert after["version"] == 1
    assert after["timezone"] == "Europe/Berlin"
