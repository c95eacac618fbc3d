"""The lean episode PUT (app/deps.py ``PatientWrite``, services/care/own_write.py) answers and
audits exactly like the general path, on the patient's first write and on every later one."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.helpers import Api, assert_problem

BODY = {
    "started_at": "2026-03-01T08:15:00+01:00",
    "duration_seconds": 40,
    "intensity": 6,
    "triggers": ["chewing"],
}


def _log(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    r = client.get("/api/v1/patients/me/access-log?limit=500", headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


def _url(pid: object) -> str:
    return f"/api/v1/patients/{pid}/episodes/{uuid.uuid4()}"


def test_every_put_of_the_patient_is_stored_fed_and_audited_alike(
    api: Api, client: TestClient
) -> None:
    patient = api.register(name="Ada Writer")
    urls = [_url(patient.patient_id) for _ in range(3)]
    for url in urls:  # the first one takes the general path, the others the one statement
        r = client.put(url, json=BODY, headers=patient.headers)
        assert r.status_code == 201, r.text
        assert r.headers["ETag"] == '"1"'
        assert r.json()["intensity"] == 6
    again = client.put(urls[2], json=BODY | {"intensity": 8}, headers=patient.headers)
    assert (again.status_code, again.headers["ETag"]) == (200, '"2"')
    writes = [e for e in _log(client, patient.headers) if e["action"] == "update"]
    assert [(e["outcome"], e["actor_name"], e["actor_role"]) for e in writes] == [
        ("success", "Ada Writer", "patient")
    ] * 4
    feed = client.get(f"/api/v1/patients/{patient.patient_id}/changes", headers=patient.headers)
    changes = [(c["id"], c["version"]) for c in feed.json()["changes"]]
    ids = [url.rsplit("/", 1)[1] for url in urls]
    assert changes == [(ids[0], 1), (ids[1], 1), (ids[2], 2)]


def test_a_refused_body_is_audited_as_failed_on_the_first_and_later_writes(
    api: Api, client: TestClient
) -> None:
    patient = api.register()
    for _ in range(2):
        assert client.put(_url(patient.patient_id), json=BODY, headers=patient.headers).is_success
        bad = client.put(
            _url(patient.patient_id), json=BODY | {"intensity": 11}, headers=patient.headers
        )
        assert_problem(bad, 422)
    outcomes = [e["outcome"] for e in _log(client, patient.headers) if e["action"] == "update"]
    assert outcomes == ["failed", "success", "failed", "success"]  # newest first


def test_an_ended_sign_in_is_refused_even_after_earlier_writes(
    api: Api, client: TestClient
) -> None:
    patient = api.register()
    assert client.put(_url(patient.patient_id), json=BODY, headers=patient.headers).is_success
    revoked = client.post("/api/v1/auth/revoke", data={"token": patient.refresh_token})
    assert revoked.status_code == 200
    url = _url(patient.patient_id)
    assert_problem(client.put(url, json=BODY, headers=patient.headers), 401)
    fresh = api.token(patient.email)
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert_problem(client.get(url, headers=headers), 404)  # nothing was stored


def test_another_patients_record_is_404_before_the_body_is_looked_at(
    api: Api, client: TestClient
) -> None:
    owner, stranger = api.register(), api.register()
    assert client.put(_url(stranger.patient_id), json=BODY, headers=stranger.headers).is_success
    for body in (BODY, BODY | {"intensity": 11}):
        assert_problem(client.put(_url(owner.patient_id), json=body, headers=stranger.headers), 404)
    denied = [e for e in _log(client, owner.headers) if e["action"] == "update"]
    assert [e["outcome"] for e in denied] == ["denied", "denied"]
