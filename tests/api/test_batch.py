"""Batch upload: each item stands alone, results come back in order."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from app.services.sync import batch
from tests.diary import changes_url, episode, episode_url, new_id
from tests.helpers import Api, assert_problem

BATCH = episode_url() + "/batch"


def test_batch_with_valid_invalid_and_conflicting_items(api: Api, client: TestClient) -> None:
    alice, bob = api.register(), api.register()
    h = alice.headers
    existing, unchanged, deleted, bobs = new_id(), new_id(), new_id(), new_id()
    client.put(episode_url(eid=existing), json=episode(), headers=h)
    client.put(episode_url(eid=unchanged), json=episode(), headers=h)
    client.put(episode_url(eid=deleted), json=episode(), headers=h)
    client.delete(episode_url(eid=deleted), headers=h)
    client.put(episode_url(eid=bobs), json=episode(note="bob"), headers=bob.headers)
    fresh, bad_intensity, fresh2 = new_id(), new_id(), new_id()
    items: list[Any] = [
        {**episode(), "id": fresh},
        {**episode(intensity=11), "id": bad_intensity},
        {**episode(intensity=2), "id": existing},
        {**episode(), "id": unchanged},
        {**episode(), "id": deleted},
        {**episode(), "id": bobs},
        {**episode(), "id": "not-a-uuid"},
        episode(),
        {**episode(), "id": fresh2, "version": 3},
        "not an object",
        {**episode(started_at="2026-03-01T08:15:00"), "id": new_id()},
        {**episode(note="again"), "id": fresh},
    ]
    r = client.post(BATCH, json={"items": items}, headers=h)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(x["id"], x["status"]) for x in results] == [
        (fresh, "created"),
        (bad_intensity, "invalid"),
        (existing, "updated"),
        (unchanged, "unchanged"),
        (deleted, "conflict"),
        (bobs, "conflict"),
        (None, "invalid"),
        (None, "invalid"),
        (fresh2, "invalid"),
        (None, "invalid"),
        (items[10]["id"], "invalid"),
        (fresh, "updated"),
    ]
    assert [x["version"] for x in results[:4]] == [1, None, 2, 1]
    assert results[11]["version"] == 2
    # Each invalid item's error names the offending field.
    assert results[1]["error"]["errors"][0]["loc"] == ["intensity"]
    assert results[6]["error"]["errors"][0]["loc"] == ["id"]
    assert results[7]["error"]["errors"][0]["loc"] == ["id"]
    assert results[8]["error"]["errors"][0]["loc"] == ["version"]
    assert results[10]["error"]["errors"][0]["loc"] == ["started_at"]
    assert "intensity" in results[1]["error"]["detail"]
    assert results[4]["error"]["detail"]
    # The valid items are stored; the others left no trace.
    stored = client.get(episode_url(eid=fresh), headers=h).json()
    assert (stored["note"], stored["version"]) == ("again", 2)
    assert client.get(episode_url(eid=existing), headers=h).json()["intensity"] == 2
    assert_problem(client.get(episode_url(eid=bad_intensity), headers=h), 404)
    assert_problem(client.get(episode_url(eid=deleted), headers=h), 404)
    assert client.get(episode_url(eid=bobs), headers=bob.headers).json()["note"] == "bob"
    feed_ids = [c["id"] for c in client.get(changes_url(), headers=h).json()["changes"]]
    assert feed_ids == [unchanged, deleted, existing, fresh]


def test_an_identical_batch_again_changes_nothing(api: Api, client: TestClient) -> None:
    alice = api.register()
    items = [{**episode(intensity=i), "id": new_id()} for i in range(1, 11)]
    first = client.post(BATCH, json={"items": items}, headers=alice.headers).json()["results"]
    assert {x["status"] for x in first} == {"created"}
    cursor = client.get(changes_url(), headers=alice.headers).json()["next_cursor"]
    again = client.post(BATCH, json={"items": items}, headers=alice.headers).json()["results"]
    assert {x["status"] for x in again} == {"unchanged"}
    assert [x["version"] for x in again] == [1] * 10
    feed = client.get(changes_url(), params={"since": cursor}, headers=alice.headers).json()
    assert feed["changes"] == []


@pytest.mark.parametrize("count", [500, 501])
def test_batch_size_limit(api: Api, client: TestClient, count: int) -> None:
    alice = api.register()
    items = [{**episode(), "id": new_id()} for _ in range(count)]
    r = client.post(BATCH, json={"items": items}, headers=alice.headers)
    if count == 500:
        assert r.status_code == 200
        assert len(r.json()["results"]) == 500
    else:
        assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "items"]
        assert client.get(episode_url(), headers=alice.headers).json()["items"] == []


def test_batch_needs_write_access_and_a_body(api: Api, client: TestClient) -> None:
    alice, bob = api.register(), api.register()
    items = [{**episode(), "id": new_id()}]
    r = client.post(
        episode_url(bob.patient_id) + "/batch", json={"items": items}, headers=alice.headers
    )
    assert_problem(r, 404)
    assert_problem(client.post(BATCH, json={"items": items}), 401)
    assert_problem(client.post(BATCH, json={"things": []}, headers=alice.headers), 422)
    assert client.post(BATCH, json={"items": []}, headers=alice.headers).json() == {"results": []}


def test_a_refused_bulk_insert_falls_back_to_one_item_at_a_time(
    api: Api, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New items go in together; should the database refuse that insert, each is written in a
    savepoint of its own, so one refusal cannot take the others down with it."""
    alice = api.register()

    def refuse(*_args: object) -> None:
        raise IntegrityError("INSERT …", {}, Exception("refused"))

    monkeypatch.setattr(batch, "insert_many_unless_taken", refuse)
    ids = [new_id() for _ in range(3)]
    items = [{**episode(intensity=i + 1), "id": eid} for i, eid in enumerate(ids)]
    items.append({**episode(note="again"), "id": ids[0]})
    results = client.post(BATCH, json={"items": items}, headers=alice.headers).json()["results"]
    assert [(x["id"], x["status"], x["version"]) for x in results] == [
        (ids[0], "created", 1),
        (ids[1], "created", 1),
        (ids[2], "created", 1),
        (ids[0], "updated", 2),
    ]
    feed = client.get(changes_url(), headers=alice.headers).json()["changes"]
    assert [c["id"] for c in feed] == [ids[1], ids[2], ids[0]]
    assert feed[2]["data"]["note"] == "again"
