"""Episodes: create-or-replace by client id, conditional requests, tombstones, global ids."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.diary import episode, episode_url, new_id
from tests.helpers import Api, assert_problem, patch_current


def test_put_creates_then_an_identical_put_changes_nothing(api: Api, client: TestClient) -> None:
    alice = api.register()
    eid = new_id()
    r = client.put(episode_url(eid=eid), json=episode(), headers=alice.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["id"] == eid
    assert created["version"] == 1
    assert r.headers["etag"] == '"1"'
    # Returned in the offset it was written with (tests.diary.episode: +01:00).
    assert created["started_at"] == "2026-03-01T08:15:00+01:00"
    assert created["created_at"].endswith("Z")
    assert created["triggers"] == ["eating"]
    assert (created["branches"], created["side"]) == ([], None)

    again = client.put(episode_url(eid=eid), json=episode(), headers=alice.headers)
    assert again.status_code == 200
    assert again.json() == created
    assert again.headers["etag"] == '"1"'
    # The same instant written in another offset is another state: the written offset decides
    # the local day and is how started_at comes back.
    moved = episode(started_at="2026-03-01T07:15:00Z")
    r = client.put(episode_url(eid=eid), json=moved, headers=alice.headers)
    assert (r.json()["version"], r.json()["started_at"]) == (2, "2026-03-01T07:15:00Z")

    replaced = client.put(episode_url(eid=eid), json=episode(intensity=9), headers=alice.headers)
    assert replaced.status_code == 200
    assert replaced.json()["version"] == 3
    assert replaced.json()["intensity"] == 9
    assert replaced.json()["started_at"] == "2026-03-01T08:15:00+01:00"
    assert replaced.headers["etag"] == '"3"'
    got = client.get(episode_url(eid=eid), headers=alice.headers)
    assert got.json() == replaced.json()
    assert got.headers["etag"] == '"3"'
    assert got.headers["cache-control"] == "no-store"


def test_put_replaces_the_whole_record(api: Api, client: TestClient) -> None:
    alice = api.register()
    eid = new_id()
    full = episode(side="left", branches=["V3", "V2"], note="while eating", qualities=["electric"])
    r = client.put(episode_url(eid=eid), json=full, headers=alice.headers)
    assert r.json()["branches"] == ["V2", "V3"]
    r = client.put(episode_url(eid=eid), json=episode(), headers=alice.headers)
    body = r.json()
    assert (body["side"], body["branches"], body["note"], body["qualities"]) == (None, [], None, [])


def test_if_none_match_star_makes_put_create_only(api: Api, client: TestClient) -> None:
    alice = api.register()
    eid = new_id()
    create_only = {**alice.headers, "If-None-Match": "*"}
    assert client.put(episode_url(eid=eid), json=episode(), headers=create_only).status_code == 201
    r = client.put(episode_url(eid=eid), json=episode(intensity=2), headers=create_only)
    assert_problem(r, 412)
    assert client.get(episode_url(eid=eid), headers=alice.headers).json()["intensity"] == 7


def test_stale_if_match_is_412_and_changes_nothing(api: Api, client: TestClient) -> None:
    alice = api.register()
    eid = new_id()
    client.put(episode_url(eid=eid), json=episode(), headers=alice.headers)
    v2 = client.patch(
        episode_url(eid=eid), json={"intensity": 4}, headers={**alice.headers, "If-Match": '"1"'}
    )
    assert (v2.status_code, v2.json()["version"]) == (200, 2)
    stale = {**alice.headers, "If-Match": '"1"'}
    assert_problem(
        patch_current(client, episode_url(eid=eid), json={"intensity": 9}, headers=stale), 412
    )
    assert_problem(client.put(episode_url(eid=eid), json=episode(intensity=9), headers=stale), 412)
    assert_problem(client.delete(episode_url(eid=eid), headers=stale), 412)
    after = client.get(episode_url(eid=eid), headers=alice.headers).json()
    assert (after["intensity"], after["version"]) == (4, 2)
    # If-Match on an id that does not exist cannot match anything.
    r = client.put(episode_url(eid=new_id()), json=episode(), headers=stale)
    assert_problem(r, 412)


def test_patch_changes_only_given_fields(api: Api, client: TestClient) -> None:
    alice = api.register()
    eid = new_id()
    client.put(episode_url(eid=eid), json=episode(note="x", side="right"), headers=alice.headers)
    r = patch_current(
        client,
        episode_url(eid=eid),
        json={"note": None, "triggers": ["talking"]},
        headers=alice.headers,
    )
    body = r.json()
    assert (body["note"], body["side"], body["triggers"], body["version"]) == (
        None,
        "right",
        ["talking"],
        2,
    )
    same = patch_current(
        client, episode_url(eid=eid), json={"side": "right"}, headers=alice.headers
    )
    assert same.json()["version"] == 2
    r = patch_current(client, episode_url(eid=eid), json={"intensity": None}, headers=alice.headers)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "intensity"]
    assert_problem(
        patch_current(client, episode_url(eid=new_id()), json={}, headers=alice.headers), 404
    )


def test_delete_leaves_a_tombstone_and_the_id_cannot_come_back(
    api: Api, client: TestClient
) -> None:
    alice = api.register()
    eid = new_id()
    client.put(episode_url(eid=eid), json=episode(), headers=alice.headers)
    r = client.delete(episode_url(eid=eid), headers={**alice.headers, "If-Match": '"1"'})
    assert r.status_code == 204
    assert r.headers["etag"] == '"2"'
    assert_problem(client.get(episode_url(eid=eid), headers=alice.headers), 404)
    assert_problem(client.delete(episode_url(eid=eid), headers=alice.headers), 404)
    assert_problem(patch_current(client, episode_url(eid=eid), json={}, headers=alice.headers), 404)
    assert_problem(client.put(episode_url(eid=eid), json=episode(), headers=alice.headers), 409)
    listed = client.get(episode_url(), headers=alice.headers).json()
    assert listed["items"] == []


def test_ids_are_global_and_another_patients_record_stays_hidden(
    api: Api, client: TestClient
) -> None:
    alice, bob = api.register(), api.register()
    eid = new_id()
    client.put(episode_url(eid=eid), json=episode(note="bob's"), headers=bob.headers)
    r = client.put(episode_url(eid=eid), json=episode(note="alice"), headers=alice.headers)
    body = assert_problem(r, 409)
    assert "bob" not in body["detail"]
    assert_problem(client.get(episode_url(eid=eid), headers=alice.headers), 404)
    assert_problem(client.delete(episode_url(eid=eid), headers=alice.headers), 404)
    assert_problem(patch_current(client, episode_url(eid=eid), json={}, headers=alice.headers), 404)
    theirs = client.get(episode_url(eid=eid), headers=bob.headers).json()
    assert (theirs["note"], theirs["version"]) == ("bob's", 1)
    # Bob's diary is not reachable through his patient id either.
    assert_problem(client.get(episode_url(bob.patient_id, eid), headers=alice.headers), 404)
    r = client.put(episode_url(bob.patient_id, new_id()), json=episode(), headers=alice.headers)
    assert_problem(r, 404)


def test_body_id_must_match_the_path(api: Api, client: TestClient) -> None:
    alice = api.register()
    eid = new_id()
    r = client.put(episode_url(eid=eid), json=episode(id=new_id()), headers=alice.headers)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "id"]
    r = client.put(episode_url(eid=eid), json=episode(id=eid), headers=alice.headers)
    assert r.status_code == 201


def test_post_replays_with_the_same_idempotency_key(api: Api, client: TestClient) -> None:
    alice = api.register()
    keyed = {**alice.headers, "Idempotency-Key": "attack-2026-03-01-0815"}
    first = client.post(episode_url(), json=episode(), headers=keyed)
    assert first.status_code == 201, first.text
    assert first.headers["location"].endswith(f"/episodes/{first.json()['id']}")
    assert first.headers["etag"] == '"1"'
    retry = client.post(episode_url(), json=episode(), headers=keyed)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    # Same key, another body: refused, nothing written.
    r = client.post(episode_url(), json=episode(intensity=2), headers=keyed)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    # Without a key every POST is a new record.
    client.post(episode_url(), json=episode(), headers=alice.headers)
    ids = [e["id"] for e in client.get(episode_url(), headers=alice.headers).json()["items"]]
    assert len(ids) == 2
    assert first.json()["id"] in ids
    # Keys are per caller: Bob's identical key is his own.
    bob = api.register()
    other = client.post(
        episode_url(),
        json=episode(),
        headers={**bob.headers, "Idempotency-Key": keyed["Idempotency-Key"]},
    )
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


def test_post_refuses_a_client_id_and_a_bad_key(api: Api, client: TestClient) -> None:
    alice = api.register()
    r = client.post(episode_url(), json=episode(id=new_id()), headers=alice.headers)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "id"]
    r = client.post(
        episode_url(), json=episode(), headers={**alice.headers, "Idempotency-Key": "x" * 256}
    )
    assert_problem(r, 422)
    assert client.get(episode_url(), headers=alice.headers).json()["items"] == []
