"""Medications: CRUD with optional client ids, Idempotency-Key and date rules."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.diary import medication, medication_url, new_id
from tests.helpers import Api, assert_problem, patch_current


def test_crud(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    r = client.post(medication_url(), json=medication(), headers=h)
    assert r.status_code == 201, r.text
    med = r.json()
    assert r.headers["location"].endswith(f"/medications/{med['id']}")
    assert (med["name"], med["dose_mg_per_day"], med["stopped_on"], med["version"]) == (
        "carbamazepine",
        600,
        None,
        1,
    )
    url = medication_url(mid=med["id"])
    change = {"dose_mg_per_day": 800, "dose_changed_on": "2026-01-10"}
    r = client.patch(url, json=change, headers={**h, "If-Match": '"1"'})
    assert (r.json()["dose_mg_per_day"], r.json()["version"], r.headers["etag"]) == (800, 2, '"2"')
    assert r.json()["doses"] == [
        {"from": "2025-11-01", "mg_per_day": 600},
        {"from": "2026-01-10", "mg_per_day": 800},
    ]
    assert_problem(
        client.patch(url, json={"dose_mg_per_day": 900}, headers={**h, "If-Match": '"1"'}), 412
    )
    r = patch_current(client, url, json={"stopped_on": "2026-01-15"}, headers=h)
    assert r.json()["stopped_on"] == "2026-01-15"
    r = patch_current(client, url, json={"stopped_on": "2025-10-01"}, headers=h)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "stopped_on"]
    r = patch_current(client, url, json={"started_on": "2026-02-01"}, headers=h)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "started_on"]
    assert_problem(patch_current(client, url, json={"name": None}, headers=h), 422)
    r = patch_current(client, url, json={"stopped_on": None}, headers=h)
    assert (r.json()["stopped_on"], r.json()["version"]) == (None, 4)
    got = client.get(url, headers=h)
    assert (got.json(), got.headers["etag"]) == (r.json(), '"4"')
    put = client.put(url, json=medication(name="oxcarbazepine"), headers=h)
    assert (put.status_code, put.json()["name"], put.json()["version"]) == (200, "oxcarbazepine", 5)
    assert client.delete(url, headers=h).status_code == 204
    assert_problem(client.get(url, headers=h), 404)
    assert_problem(client.put(url, json=medication(), headers=h), 409)
    assert client.get(medication_url(), headers=h).json()["items"] == []


def test_post_with_a_client_id_is_safe_to_retry(api: Api, client: TestClient) -> None:
    alice, bob = api.register(), api.register()
    mid = new_id()
    first = client.post(medication_url(), json=medication(id=mid), headers=alice.headers)
    assert (first.status_code, first.json()["id"]) == (201, mid)
    retry = client.post(medication_url(), json=medication(id=mid), headers=alice.headers)
    assert (retry.status_code, retry.json()) == (200, first.json())
    other = client.post(
        medication_url(), json=medication(id=mid, dose_mg_per_day=1), headers=alice.headers
    )
    assert_problem(other, 409)
    assert_problem(client.post(medication_url(), json=medication(id=mid), headers=bob.headers), 409)
    assert client.get(medication_url(), headers=bob.headers).json()["items"] == []


def test_idempotency_key_replays_and_refuses_another_body(api: Api, client: TestClient) -> None:
    alice = api.register()
    keyed = {**alice.headers, "Idempotency-Key": "med-1"}
    first = client.post(medication_url(), json=medication(), headers=keyed)
    retry = client.post(medication_url(), json=medication(), headers=keyed)
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert retry.headers["idempotent-replayed"] == "true"
    assert_problem(
        client.post(medication_url(), json=medication(name="baclofen"), headers=keyed), 422
    )
    assert len(client.get(medication_url(), headers=alice.headers).json()["items"]) == 1


def test_list_newest_start_first(api: Api, client: TestClient) -> None:
    alice = api.register()
    for started in ("2024-01-10", "2025-06-01", "2023-03-03"):
        client.post(medication_url(), json=medication(started_on=started), headers=alice.headers)
    page = client.get(medication_url(), params={"limit": 2}, headers=alice.headers).json()
    assert [m["started_on"] for m in page["items"]] == ["2025-06-01", "2024-01-10"]
    rest = client.get(
        medication_url(), params={"cursor": page["next_cursor"]}, headers=alice.headers
    ).json()
    assert [m["started_on"] for m in rest["items"]] == ["2023-03-03"]
