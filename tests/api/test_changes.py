"""The change feed: every kind, updates as latest state, tombstones, cursors and 410."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from app.services.context import AppContext
from app.services.sync.purge import purge
from app.trends.days import utcnow
from tests.diary import (
    assessment,
    assessment_url,
    changes_url,
    checkin_url,
    episode,
    episode_url,
    medication,
    medication_url,
    new_id,
)
from tests.helpers import Api, assert_problem, patch_current
from tests.sync_client import Replica


def test_feed_reports_every_kind_in_commit_order(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    eid, mid, aid = new_id(), new_id(), new_id()
    client.put(episode_url(eid=eid), json=episode(), headers=h)
    client.put(checkin_url(day="2026-03-01"), json={"no_attacks": False}, headers=h)
    client.put(medication_url(mid=mid), json=medication(), headers=h)
    client.put(assessment_url(aid=aid), json=assessment(), headers=h)
    r = client.get(changes_url(), headers=h)
    assert r.status_code == 200
    page = r.json()
    assert [(c["kind"], c["id"]) for c in page["changes"]] == [
        ("episode", eid),
        ("checkin", "2026-03-01"),
        ("medication", mid),
        ("assessment", aid),
    ]
    assert page["has_more"] is False
    first = page["changes"][0]
    assert first["data"] == client.get(episode_url(eid=eid), headers=h).json()
    assert (first["deleted"], first["version"]) == (False, 1)
    assert page["changes"][3]["data"]["total"] == 5
    # Nothing new: the same cursor comes back, never null.
    again = client.get(changes_url(), params={"since": page["next_cursor"]}, headers=h).json()
    assert again == {"changes": [], "next_cursor": page["next_cursor"], "has_more": False}


def test_an_update_moves_the_record_to_the_end_with_its_latest_state(
    api: Api, client: TestClient
) -> None:
    alice = api.register()
    h = alice.headers
    a, b = new_id(), new_id()
    client.put(episode_url(eid=a), json=episode(), headers=h)
    client.put(episode_url(eid=b), json=episode(), headers=h)
    cursor = client.get(changes_url(), headers=h).json()["next_cursor"]
    patch_current(client, episode_url(eid=a), json={"intensity": 2}, headers=h)
    patch_current(client, episode_url(eid=a), json={"intensity": 3}, headers=h)
    page = client.get(changes_url(), params={"since": cursor}, headers=h).json()
    assert [(c["id"], c["version"], c["data"]["intensity"]) for c in page["changes"]] == [(a, 3, 3)]
    full = client.get(changes_url(), headers=h).json()["changes"]
    assert [c["id"] for c in full] == [b, a]


def test_a_deletion_appears_as_a_tombstone(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    eid = new_id()
    client.put(episode_url(eid=eid), json=episode(), headers=h)
    client.put(checkin_url(day="2026-03-02"), json={"no_attacks": False, "mood": 5}, headers=h)
    replica = Replica(headers=h)
    replica.pull(client)
    assert ("episode", eid) in replica.live
    client.delete(episode_url(eid=eid), headers=h)
    client.delete(checkin_url(day="2026-03-02"), headers=h)
    page = client.get(changes_url(), params={"since": replica.cursor}, headers=h).json()
    assert page["changes"] == [
        {"kind": "episode", "id": eid, "deleted": True, "version": 2, "data": None},
        {"kind": "checkin", "id": "2026-03-02", "deleted": True, "version": 2, "data": None},
    ]
    replica.pull(client)
    assert replica.live == {}
    assert replica.deleted == {("episode", eid), ("checkin", "2026-03-02")}


def test_paging_never_exceeds_limit_and_reaches_everything(api: Api, client: TestClient) -> None:
    alice = api.register()
    items = [{**episode(), "id": new_id()} for _ in range(23)]
    client.post(episode_url() + "/batch", json={"items": items}, headers=alice.headers)
    replica = Replica(headers=alice.headers)
    pages = 0
    while True:
        params = {"limit": 5} | ({"since": replica.cursor} if replica.cursor else {})
        page = client.get(changes_url(), params=params, headers=alice.headers).json()
        assert len(page["changes"]) <= 5
        pages += 1
        replica.cursor = page["next_cursor"]
        replica.seen += [("episode", c["id"]) for c in page["changes"]]
        if not page["has_more"]:
            break
    assert pages == 5
    assert [i for _, i in replica.seen] == [item["id"] for item in items]


def test_feed_is_per_patient_and_checks_its_cursor(api: Api, client: TestClient) -> None:
    alice, bob = api.register(), api.register()
    client.put(episode_url(eid=new_id()), json=episode(), headers=bob.headers)
    assert client.get(changes_url(), headers=alice.headers).json()["changes"] == []
    assert_problem(client.get(changes_url(bob.patient_id), headers=alice.headers), 404)
    for bad in ("garbage", "eyJ4IjoxfQ", "WyJjaGFuZ2VzIiwtMV0"):
        r = client.get(changes_url(), params={"since": bad}, headers=alice.headers)
        assert assert_problem(r, 422)["errors"][0]["loc"] == ["query", "since"]
    list_cursor = client.get(episode_url(), params={"limit": 1}, headers=bob.headers)
    assert list_cursor.json()["next_cursor"] is None
    assert_problem(client.get(changes_url(), params={"limit": 501}, headers=alice.headers), 422)


def test_a_cursor_older_than_the_purged_tombstones_is_gone(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    alice = api.register()
    h = alice.headers
    old, kept = new_id(), new_id()
    client.put(episode_url(eid=old), json=episode(), headers=h)
    early = Replica(headers=h)
    early.pull(client)
    client.delete(episode_url(eid=old), headers=h)
    client.put(episode_url(eid=kept), json=episode(), headers=h)
    current = Replica(headers=h)
    current.pull(client)

    # Nothing is old enough yet: nothing is purged and every cursor still works.
    assert purge(ctx.db).tombstones == 0
    early_page = client.get(changes_url(), params={"since": early.cursor}, headers=h)
    assert early_page.status_code == 200

    report = purge(ctx.db, now=utcnow() + timedelta(days=181))
    assert (report.patients, report.tombstones) == (1, 1)
    r = client.get(changes_url(), params={"since": early.cursor}, headers=h)
    assert "from the beginning" in assert_problem(r, 410)["detail"]
    # A client that had already seen the deletion goes on; a full resync works too.
    ok = client.get(changes_url(), params={"since": current.cursor}, headers=h)
    assert ok.status_code == 200
    resync = Replica(headers=h)
    resync.pull(client)
    assert set(resync.live) == {("episode", kept)}
    # The purged id is free of its tombstone but still never shows up again on its own.
    assert_problem(client.get(episode_url(eid=old), headers=h), 404)
