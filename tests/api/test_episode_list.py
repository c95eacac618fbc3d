"""Listing episodes: newest first, filters, keyset pages that never exceed the limit."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.diary import episode, episode_url, new_id
from tests.helpers import Api

BATCH = episode_url() + "/batch"


def _ids(page: dict[str, Any]) -> list[str]:
    return [e["id"] for e in page["items"]]


def test_filters(api: Api, client: TestClient) -> None:
    alice = api.register()
    rows = [
        ("2026-03-01T08:00:00+01:00", 3, ["eating"]),
        ("2026-03-01T12:00:00Z", 8, ["talking", "eating"]),
        ("2026-03-02T09:30:00+01:00", 9, []),
        ("2026-03-03T00:00:00Z", 5, ["spontaneous"]),
    ]
    ids = [new_id() for _ in rows]
    items = [
        {**episode(started_at=s, intensity=i, triggers=t), "id": eid}
        for eid, (s, i, t) in zip(ids, rows, strict=True)
    ]
    client.post(BATCH, json={"items": items}, headers=alice.headers)

    def listed(**params: object) -> list[str]:
        r = client.get(episode_url(), params=params, headers=alice.headers)
        assert r.status_code == 200, r.text
        return _ids(r.json())

    assert listed() == ids[::-1]
    assert listed(trigger="eating") == [ids[1], ids[0]]
    assert listed(trigger="spontaneous") == [ids[3]]
    assert listed(trigger="shaving") == []
    assert listed(min_intensity=8) == [ids[2], ids[1]]
    # from is inclusive, to exclusive; both are instants, whatever their offset.
    assert listed(**{"from": "2026-03-01T07:00:00Z", "to": "2026-03-02T08:30:00Z"}) == [
        ids[1],
        ids[0],
    ]
    assert listed(**{"from": "2026-03-02T09:30:00+01:00"}) == [ids[3], ids[2]]
    assert listed(**{"to": "2026-03-03T01:00:00+01:00"}) == [ids[2], ids[1], ids[0]]
    assert listed(**{"from": "2026-03-01T00:00:00Z", "trigger": "eating", "min_intensity": 5}) == [
        ids[1]
    ]


def test_pages_follow_each_other_without_gaps_or_repeats(api: Api, client: TestClient) -> None:
    alice = api.register()
    # Ties on started_at are ordered by id, so a page boundary inside a tie loses nothing.
    items = [
        {**episode(started_at=f"2026-03-0{1 + n % 3}T08:00:00Z"), "id": new_id()} for n in range(11)
    ]
    client.post(BATCH, json={"items": items}, headers=alice.headers)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = client.get(episode_url(), params=params, headers=alice.headers).json()
        assert len(page["items"]) <= 4
        seen += _ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = sorted(items, key=lambda e: (e["started_at"], e["id"]), reverse=True)
    assert seen == [e["id"] for e in expected]
    everything = client.get(episode_url(), params={"limit": 500}, headers=alice.headers).json()
    assert (_ids(everything), everything["next_cursor"]) == (seen, None)
