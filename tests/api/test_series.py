"""Treatment series: CRUD with client ids, conditional requests, validation, and deletion that
takes the series' sessions (and questionnaire links) with it, visibly in the change feed."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.services.context import AppContext
from app.services.sync.purge import purge
from app.services.treatments.shared import sessions_table
from app.trends.days import utcnow
from tests.diary import (
    assessment,
    assessment_url,
    changes_url,
    new_id,
    series,
    series_url,
    session_url,
    treatment_session,
)
from tests.helpers import Api, assert_problem, patch_current
from tests.sync_client import Replica


def test_crud(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    r = client.post(series_url(), json=series(protocol="0.5 mg/kg over 40 min, 5 days"), headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["location"].endswith(f"/series/{created['id']}")
    assert r.headers["etag"] == '"1"'
    assert (created["baseline_days"], created["follow_up_days"]) == (28, 84)
    assert (created["planned_sessions"], created["version"]) == (None, 1)
    assert created["created_at"].endswith("Z")
    url = series_url(sid=created["id"])
    got = client.get(url, headers=h)
    assert (got.json(), got.headers["etag"]) == (created, '"1"')

    r = client.patch(url, json={"planned_sessions": 5}, headers={**h, "If-Match": '"1"'})
    assert (r.json()["planned_sessions"], r.json()["version"], r.headers["etag"]) == (5, 2, '"2"')
    stale = {**h, "If-Match": '"1"'}
    assert_problem(patch_current(client, url, json={"baseline_days": 14}, headers=stale), 412)
    assert_problem(client.put(url, json=series(), headers=stale), 412)
    assert_problem(client.delete(url, headers=stale), 412)
    assert client.get(url, headers=h).json()["baseline_days"] == 28
    same = patch_current(client, url, json={"planned_sessions": 5}, headers=h)
    assert same.json()["version"] == 2

    r = client.put(url, json=series(name="Booster", follow_up_days=56), headers=h)
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["follow_up_days"], r.json()["version"]) == ("Booster", 56, 3)
    # PUT replaces the whole record: planned_sessions is gone again.
    assert r.json()["planned_sessions"] is None
    assert [s["id"] for s in client.get(series_url(), headers=h).json()["items"]] == [created["id"]]

    r = client.delete(url, headers={**h, "If-Match": '"3"'})
    assert (r.status_code, r.headers["etag"]) == (204, '"4"')
    assert_problem(client.get(url, headers=h), 404)
    assert_problem(patch_current(client, url, json={}, headers=h), 404)
    assert_problem(client.delete(url, headers=h), 404)
    assert_problem(client.put(url, json=series(), headers=h), 409)
    assert client.get(series_url(), headers=h).json()["items"] == []


def test_put_creates_and_an_identical_put_changes_nothing(api: Api, client: TestClient) -> None:
    alice = api.register()
    sid = new_id()
    create_only = {**alice.headers, "If-None-Match": "*"}
    r = client.put(series_url(sid=sid), json=series(id=sid), headers=create_only)
    assert (r.status_code, r.json()["id"]) == (201, sid)
    assert_problem(client.put(series_url(sid=sid), json=series(), headers=create_only), 412)
    again = client.put(series_url(sid=sid), json=series(), headers=alice.headers)
    assert (again.status_code, again.json()) == (200, r.json())
    r = client.put(series_url(sid=sid), json=series(id=new_id()), headers=alice.headers)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "id"]


def test_post_with_a_client_id_or_an_idempotency_key_is_safe_to_retry(
    api: Api, client: TestClient
) -> None:
    alice, bob = api.register(), api.register()
    sid = new_id()
    first = client.post(series_url(), json=series(id=sid), headers=alice.headers)
    assert (first.status_code, first.json()["id"]) == (201, sid)
    retry = client.post(series_url(), json=series(id=sid), headers=alice.headers)
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert_problem(
        client.post(series_url(), json=series(id=sid, name="x"), headers=alice.headers), 409
    )
    # Ids are global: Bob cannot take Alice's, and learns nothing of it.
    assert_problem(client.post(series_url(), json=series(id=sid), headers=bob.headers), 409)
    assert_problem(client.put(series_url(sid=sid), json=series(), headers=bob.headers), 409)
    assert_problem(client.get(series_url(sid=sid), headers=bob.headers), 404)
    assert_problem(client.get(series_url(alice.patient_id, sid), headers=bob.headers), 404)

    keyed = {**alice.headers, "Idempotency-Key": "series-1"}
    one = client.post(series_url(), json=series(name="Second"), headers=keyed)
    two = client.post(series_url(), json=series(name="Second"), headers=keyed)
    assert (two.status_code, two.json(), two.headers["idempotent-replayed"]) == (
        201,
        one.json(),
        "true",
    )
    r = client.post(series_url(), json=series(name="Third"), headers=keyed)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert len(client.get(series_url(), headers=alice.headers).json()["items"]) == 2
    assert client.get(series_url(), headers=bob.headers).json()["items"] == []


def test_list_is_newest_first_and_pages(api: Api, client: TestClient) -> None:
    alice = api.register()
    ids = [
        client.post(series_url(), json=series(), headers=alice.headers).json()["id"] for _ in "abc"
    ]
    page = client.get(series_url(), params={"limit": 2}, headers=alice.headers).json()
    rest = client.get(
        series_url(), params={"cursor": page["next_cursor"]}, headers=alice.headers
    ).json()
    assert [s["id"] for s in page["items"] + rest["items"]] == ids[::-1]
    assert rest["next_cursor"] is None


SID = "3b9c7a52-6f0e-4c1d-9a55-0d6b2c1f7e21"
SERIES_CASES: list[tuple[dict[str, Any], list[str | int]]] = [
    ({"name": ""}, ["name"]),
    ({"name": "n" * 201}, ["name"]),
    ({"name": None}, ["name"]),
    ({"modality": "ketamine_iv_drip"}, ["modality"]),
    ({"protocol": "p" * 2001}, ["protocol"]),
    ({"planned_sessions": 0}, ["planned_sessions"]),
    ({"planned_sessions": 101}, ["planned_sessions"]),
    ({"planned_sessions": "5"}, ["planned_sessions"]),
    ({"baseline_days": 6}, ["baseline_days"]),
    ({"baseline_days": 91}, ["baseline_days"]),
    ({"baseline_days": 28.5}, ["baseline_days"]),
    ({"follow_up_days": 27}, ["follow_up_days"]),
    ({"follow_up_days": 365}, ["follow_up_days"]),
    ({"follow_up_days": True}, ["follow_up_days"]),
    ({"version": 1}, ["version"]),
    ({"created_at": "2026-03-01T08:00:00Z"}, ["created_at"]),
    ({"updated_at": "2026-03-01T08:00:00Z"}, ["updated_at"]),
    ({"recorded_by": new_id()}, ["recorded_by"]),
    ({"drug": "ketamine"}, ["drug"]),
    ({"id": "not-a-uuid"}, ["id"]),
]


@pytest.mark.parametrize(("fields", "loc"), SERIES_CASES)
def test_bad_series_field(
    api: Api, client: TestClient, fields: dict[str, Any], loc: list[str | int]
) -> None:
    alice = api.register()
    body = series(**fields)
    for r in (
        client.post(series_url(), json=body, headers=alice.headers),
        client.put(series_url(sid=SID), json=body, headers=alice.headers),
    ):
        assert ["body", *loc] in [e["loc"] for e in assert_problem(r, 422)["errors"]]
    assert client.get(series_url(), headers=alice.headers).json()["items"] == []
    assert client.get(changes_url(), headers=alice.headers).json()["changes"] == []


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"name": None}, ["name"]),
        ({"modality": None}, ["modality"]),
        ({"baseline_days": None}, ["baseline_days"]),
        ({"follow_up_days": 400}, ["follow_up_days"]),
        ({"version": 2}, ["version"]),
    ],
)
def test_bad_series_patch(
    api: Api, client: TestClient, fields: dict[str, Any], loc: list[str | int]
) -> None:
    alice = api.register()
    created = client.post(series_url(), json=series(), headers=alice.headers).json()
    r = patch_current(client, series_url(sid=created["id"]), json=fields, headers=alice.headers)
    assert ["body", *loc] in [e["loc"] for e in assert_problem(r, 422)["errors"]]
    assert client.get(series_url(sid=created["id"]), headers=alice.headers).json() == created


def _session(client: TestClient, headers: dict[str, str], sid: str, **fields: Any) -> str:
    r = client.put(session_url(sid, new_id()), json=treatment_session(**fields), headers=headers)
    assert r.status_code == 201, r.text
    session_id: str = r.json()["id"]
    return session_id


def test_deleting_a_series_deletes_its_sessions_in_the_feed(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    sid, kept = new_id(), new_id()
    client.put(series_url(sid=sid), json=series(), headers=h)
    client.put(series_url(sid=kept), json=series(), headers=h)
    first = _session(client, h, sid, started_at="2026-03-02T09:00:00+01:00")
    second = _session(client, h, sid, started_at="2026-03-03T09:00:00+01:00", completed=False)
    already = _session(client, h, sid, started_at="2026-03-04T09:00:00+01:00")
    other = _session(client, h, kept)
    client.delete(session_url(sid, already), headers=h)
    aid = new_id()
    client.put(assessment_url(aid=aid), json=assessment(series_id=sid), headers=h)
    replica = Replica(headers=h)
    replica.pull(client)
    assert ("session", second) in replica.live

    assert client.delete(series_url(sid=sid), headers=h).status_code == 204
    page = client.get(changes_url(), params={"since": replica.cursor}, headers=h).json()
    assert [(c["kind"], c["id"], c["deleted"], c["version"]) for c in page["changes"]] == [
        ("session", first, True, 2),
        ("session", second, True, 2),
        ("assessment", aid, False, 2),
        ("series", sid, True, 2),
    ]
    assert page["changes"][2]["data"]["series_id"] is None
    replica.pull(client)
    assert {key for key in replica.live if key[0] in ("series", "session")} == {
        ("series", kept),
        ("session", other),
    }
    # The series and its sessions are gone for every route; the other series is untouched.
    assert_problem(client.get(session_url(sid), headers=h), 404)
    assert_problem(client.get(session_url(sid, first), headers=h), 404)
    assert_problem(client.put(session_url(sid, new_id()), json=treatment_session(), headers=h), 404)
    assert_problem(client.post(session_url(sid), json=treatment_session(), headers=h), 404)
    assert_problem(patch_current(client, session_url(sid, first), json={}, headers=h), 404)
    assert_problem(client.delete(session_url(sid, first), headers=h), 404)
    assert [s["id"] for s in client.get(session_url(kept), headers=h).json()["items"]] == [other]
    assert client.get(assessment_url(aid=aid), headers=h).json()["series_id"] is None


def test_purging_a_deleted_series_removes_its_sessions_within_the_horizon(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    alice = api.register()
    h = alice.headers
    sid = new_id()
    client.put(series_url(sid=sid), json=series(), headers=h)
    for day in ("02", "03"):
        _session(client, h, sid, started_at=f"2026-03-{day}T09:00:00+01:00")
    before = client.get(changes_url(), headers=h).json()["next_cursor"]
    client.delete(series_url(sid=sid), headers=h)
    after = client.get(changes_url(), headers=h).json()["next_cursor"]
    report = purge(ctx.db, now=utcnow() + timedelta(days=181))
    assert (report.patients, report.tombstones) == (1, 3)
    assert client.get(changes_url(), headers=h).json()["changes"] == []
    # A cursor that had not seen the deletions must resync; one that had goes on.
    assert_problem(client.get(changes_url(), params={"since": before}, headers=h), 410)
    assert client.get(changes_url(), params={"since": after}, headers=h).status_code == 200


def test_no_session_outlives_its_series_while_writers_race_the_delete(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    """Whatever the interleaving, a session is either refused (404) or deleted with its series:
    the series check and the delete both run under the patient's lock."""
    alice = api.register()
    h = alice.headers
    sid = new_id()
    client.put(series_url(sid=sid), json=series(), headers=h)
    created: list[str] = []
    refused = 0
    lock = threading.Lock()
    enough = threading.Event()

    def add(writer: int) -> None:
        nonlocal refused
        for n in range(6):
            if n % 2:
                r = client.post(session_url(sid), json=treatment_session(), headers=h)
            else:
                r = client.put(session_url(sid, new_id()), json=treatment_session(), headers=h)
            assert r.status_code in (201, 404), r.text
            with lock:
                if r.status_code == 201:
                    created.append(r.json()["id"])
                else:
                    refused += 1
                if len(created) >= 4:
                    enough.set()

    def remove() -> None:
        enough.wait(timeout=10)
        assert client.delete(series_url(sid=sid), headers=h).status_code == 204

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(add, w) for w in range(3)] + [pool.submit(remove)]
        for future in futures:
            future.result()
    assert len(created) + refused == 18
    t = sessions_table
    with ctx.db.session() as session:
        live = session.scalar(
            select(func.count()).where(t.c.series_id == uuid.UUID(sid), t.c.deleted_at.is_(None))
        )
    assert live == 0
    replica = Replica(headers=h)
    replica.pull(client)
    assert {i for kind, i in replica.deleted if kind == "session"} == set(created)
    assert not any(kind == "session" for kind, _ in replica.live)
