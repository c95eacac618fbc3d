"""Grants: a patient lets a clinician in, only as far as they said, until they take it back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.models import Grant
from app.services.context import AppContext
from tests.helpers import Api, assert_problem, patch_current


def _in_an_hour() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def test_read_grant_lets_the_clinician_read_but_not_write(api: Api, client: TestClient) -> None:
    patient, doctor, stranger = api.register(name="Pat"), api.staff("clinician"), api.staff()
    url = f"/api/v1/patients/{patient.patient_id}"
    assert_problem(client.get(url, headers=doctor.headers), 404)

    grant = api.grant(patient, to=doctor, access="read")
    assert grant["grantee_email"] == doctor.email
    assert grant["client_id"] is None
    assert grant["access"] == "read"
    assert grant["active"] is True
    assert grant["revoked_at"] is None
    assert grant["expires_at"] is None
    assert grant["created_at"].endswith("Z")

    r = client.get(url, headers=doctor.headers)
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Pat"
    listed = client.get("/api/v1/patients", headers=doctor.headers).json()
    assert [p["id"] for p in listed["items"]] == [str(patient.patient_id)]

    body = assert_problem(
        patch_current(client, url, json={"weight_kg": 90}, headers=doctor.headers), 403
    )
    assert "read-only" in body["detail"]
    assert client.get(url, headers=patient.headers).json()["weight_kg"] is None
    # Someone else's grant gives the stranger nothing.
    assert_problem(client.get(url, headers=stranger.headers), 404)
    assert client.get("/api/v1/patients", headers=stranger.headers).json()["items"] == []


def test_write_grant_lets_the_clinician_write_but_never_grant(api: Api, client: TestClient) -> None:
    patient, doctor, colleague = api.register(), api.staff(), api.staff()
    api.grant(patient, to=doctor, access="write")
    url = f"/api/v1/patients/{patient.patient_id}"
    r = patch_current(client, url, json={"weight_kg": 71}, headers=doctor.headers)
    assert r.status_code == 200, r.text
    assert client.get(url, headers=patient.headers).json()["weight_kg"] == 71

    # Grantees may not pass access on, nor see or revoke the patient's grants.
    payload = {"grantee_email": colleague.email, "access": "read"}
    assert_problem(client.post(f"{url}/grants", json=payload, headers=doctor.headers), 403)
    assert_problem(client.get(f"{url}/grants", headers=doctor.headers), 403)
    assert_problem(client.get(f"{url}/access-log", headers=doctor.headers), 403)
    assert_problem(client.get(url, headers=colleague.headers), 404)
    assert len(client.get(f"{url}/grants", headers=patient.headers).json()["items"]) == 1


def test_revocation_stops_access_on_the_next_request(api: Api, client: TestClient) -> None:
    patient, doctor, other = api.register(), api.staff(), api.register()
    grant = api.grant(patient, to=doctor, access="write")
    url = f"/api/v1/patients/{patient.patient_id}"
    assert client.get(url, headers=doctor.headers).status_code == 200

    gurl = f"/api/v1/patients/me/grants/{grant['id']}"
    # Another patient cannot revoke it, and learns nothing about it.
    assert_problem(
        client.delete(f"/api/v1/patients/me/grants/{grant['id']}", headers=other.headers), 404
    )
    r = client.delete(gurl, headers=patient.headers)
    assert r.status_code == 204
    # The doctor's access token is unchanged and still valid, but the grant is gone.
    assert_problem(client.get(url, headers=doctor.headers), 404)
    assert_problem(patch_current(client, url, json={"weight_kg": 80}, headers=doctor.headers), 404)
    assert client.get("/api/v1/patients", headers=doctor.headers).json()["items"] == []
    assert client.delete(gurl, headers=patient.headers).status_code == 204  # idempotent
    listed = client.get("/api/v1/patients/me/grants", headers=patient.headers).json()["items"]
    assert listed[0]["revoked_at"] is not None
    assert listed[0]["active"] is False
    assert_problem(
        client.delete(
            "/api/v1/patients/me/grants/00000000-0000-0000-0000-000000000000",
            headers=patient.headers,
        ),
        404,
    )
    assert_problem(client.delete("/api/v1/patients/me/grants/nope", headers=patient.headers), 422)


def test_expiry_stops_access_on_the_next_request(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    patient, doctor = api.register(), api.staff()
    grant = api.grant(patient, to=doctor, access="read", expires_at=_in_an_hour())
    assert grant["expires_at"].endswith("Z")
    url = f"/api/v1/patients/{patient.patient_id}"
    assert client.get(url, headers=doctor.headers).status_code == 200
    # Let the hour pass: move the grant into the past.
    past = datetime.now(UTC) - timedelta(minutes=1)
    with ctx.db.begin() as session:
        session.execute(
            update(Grant)
            .where(Grant.id == uuid.UUID(grant["id"]))
            .values(created_at=past - timedelta(hours=1), expires_at=past)
        )
    assert_problem(client.get(url, headers=doctor.headers), 404)
    assert client.get("/api/v1/patients", headers=doctor.headers).json()["items"] == []
    listed = client.get("/api/v1/patients/me/grants", headers=patient.headers).json()["items"]
    assert listed[0]["active"] is False
    assert listed[0]["revoked_at"] is None


def test_a_new_grant_to_the_same_clinician_replaces_the_old(api: Api, client: TestClient) -> None:
    patient, doctor = api.register(), api.staff()
    first = api.grant(patient, to=doctor, access="write")
    second = api.grant(patient, to=doctor, access="read")
    assert second["id"] != first["id"]
    listed = client.get("/api/v1/patients/me/grants", headers=patient.headers).json()["items"]
    assert [g["id"] for g in listed] == [second["id"], first["id"]]
    assert listed[0]["active"] is True
    assert listed[1]["active"] is False
    assert listed[1]["revoked_at"] is not None
    url = f"/api/v1/patients/{patient.patient_id}"
    assert client.get(url, headers=doctor.headers).status_code == 200
    assert_problem(patch_current(client, url, json={"weight_kg": 60}, headers=doctor.headers), 403)


def test_grant_validation_reveals_nothing_and_stores_nothing(api: Api, client: TestClient) -> None:
    patient, other_patient, admin = api.register(), api.register(), api.staff("admin")
    url = "/api/v1/patients/me/grants"
    answers = set()
    for email in ("nobody@example.org", other_patient.email, admin.email):
        body = assert_problem(
            client.post(
                url, json={"grantee_email": email, "access": "read"}, headers=patient.headers
            ),
            422,
        )
        assert body["errors"][0]["loc"] == ["body", "grantee_email"]
        answers.add(body["detail"])
    assert len(answers) == 1  # the same answer whoever the address belongs to

    doctor = api.staff()
    cases = [
        ({"access": "read"}, "body"),
        (
            {"grantee_email": doctor.email, "client_id": str(doctor.user_id), "access": "read"},
            "body",
        ),
        ({"grantee_email": doctor.email, "access": "admin"}, "access"),
        ({"grantee_email": doctor.email}, "access"),
        (
            {"grantee_email": doctor.email, "access": "read", "expires_at": "2030-01-01T00:00:00"},
            "expires_at",
        ),
        (
            {"grantee_email": doctor.email, "access": "read", "expires_at": "2020-01-01T00:00:00Z"},
            "expires_at",
        ),
        ({"grantee_email": doctor.email, "access": "read", "id": str(doctor.user_id)}, "id"),
        ({"client_id": str(doctor.user_id), "access": "read"}, "client_id"),
        ({"client_id": "not-a-uuid", "access": "read"}, "client_id"),
    ]
    for payload, field in cases:
        body = assert_problem(client.post(url, json=payload, headers=patient.headers), 422)
        locs = [str(p) for err in body["errors"] for p in err["loc"]]
        assert field in locs, (payload, body)
    assert client.get(url, headers=patient.headers).json()["items"] == []
    assert_problem(
        client.get(f"/api/v1/patients/{patient.patient_id}", headers=doctor.headers), 404
    )


def test_clinician_lists_granted_patients_page_by_page(api: Api, client: TestClient) -> None:
    doctor = api.staff()
    patients = [api.register(name=f"P{i}") for i in range(4)]
    for p in patients[:3]:
        api.grant(p, to=doctor)
    revoked = api.grant(patients[3], to=doctor)
    client.delete(f"/api/v1/patients/me/grants/{revoked['id']}", headers=patients[3].headers)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = client.get("/api/v1/patients", params=params, headers=doctor.headers)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [p["id"] for p in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert sorted(seen) == sorted(str(p.patient_id) for p in patients[:3])
    assert len(seen) == len(set(seen))
    for bad in ("garbage", "WyJub3QtYS11dWlkIl0"):
        r = client.get("/api/v1/patients", params={"cursor": bad}, headers=doctor.headers)
        assert assert_problem(r, 422)["errors"][0]["loc"] == ["query", "cursor"]
    assert_problem(client.get("/api/v1/patients", params={"limit": 0}, headers=doctor.headers), 422)


def test_grant_list_pages_newest_first(api: Api, client: TestClient) -> None:
    patient = api.register()
    made = [api.grant(patient, to=api.staff())["id"] for _ in range(3)]
    first = client.get("/api/v1/patients/me/grants?limit=2", headers=patient.headers).json()
    assert [g["id"] for g in first["items"]] == made[::-1][:2]
    second = client.get(
        "/api/v1/patients/me/grants",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=patient.headers,
    ).json()
    assert [g["id"] for g in second["items"]] == [made[0]]
    assert second["next_cursor"] is None
