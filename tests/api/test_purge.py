"""Retention: tombstones 180 days, idempotency keys 30 days; the purge CLI."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import cli
from app.services.context import AppContext
from app.services.sync import idempotency
from app.services.sync.changes import encode_cursor
from app.services.sync.purge import purge
from app.trends.days import utcnow
from tests.diary import changes_url, episode, episode_url, new_id
from tests.helpers import Api, assert_problem


def test_keys_are_kept_30_days_and_tombstones_180(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    alice = api.register()
    keyed = {**alice.headers, "Idempotency-Key": "k-1"}
    first = client.post(episode_url(), json=episode(), headers=keyed).json()
    client.delete(episode_url(eid=first["id"]), headers=alice.headers)

    report = purge(ctx.db, now=utcnow() + timedelta(days=29))
    assert (report.keys, report.tombstones) == (0, 0)
    assert client.post(episode_url(), json=episode(), headers=keyed).json() == first

    report = purge(ctx.db, now=utcnow() + timedelta(days=31))
    assert (report.keys, report.tombstones) == (1, 0)
    # The tombstone is still reported; the expired key now makes a new record.
    feed = client.get(changes_url(), headers=alice.headers).json()["changes"]
    assert [(c["id"], c["deleted"]) for c in feed] == [(first["id"], True)]
    again = client.post(episode_url(), json=episode(), headers=keyed)
    assert again.status_code == 201
    assert again.json()["id"] != first["id"]

    with pytest.raises(ValueError, match="180 days"):
        purge(ctx.db, tombstone_age=timedelta(days=90))


def test_a_key_stored_by_a_racing_request_is_replayed(
    api: Api, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If another request with the same key commits between our lookup and our insert, the
    unique key refuses ours: our record is rolled back and the other response replayed."""
    alice = api.register()
    keyed = {**alice.headers, "Idempotency-Key": "race"}
    first = client.post(episode_url(), json=episode(), headers=keyed).json()
    real_lookup = idempotency.lookup
    calls: list[int] = []

    def late_lookup(*args: Any) -> idempotency.Outcome | None:
        calls.append(1)
        return None if len(calls) == 1 else real_lookup(*args)

    monkeypatch.setattr(idempotency, "lookup", late_lookup)
    r = client.post(episode_url(), json=episode(), headers=keyed)
    assert (r.status_code, r.json()) == (201, first)
    assert len(calls) == 2
    items = client.get(episode_url(), headers=alice.headers).json()["items"]
    assert [e["id"] for e in items] == [first["id"]]


def test_cli_purge_tombstones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.settings import get_settings

    monkeypatch.setenv("PAINDIARY_DATABASE_URL", f"sqlite:///{tmp_path / 'purge.db'}")
    monkeypatch.setenv("PAINDIARY_SECRET_KEY", "s" * 40)
    get_settings.cache_clear()
    try:
        assert cli.main(["migrate"]) == 0
        monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
        assert (
            cli.main(["create-user", "p@example.org", "--role", "patient", "--password-stdin"]) == 0
        )
        capsys.readouterr()
        assert cli.main(["purge-tombstones"]) == 0
        assert "purged 0 tombstones and 0 idempotency keys of 0 patients" in capsys.readouterr().out
        assert cli.main(["purge-tombstones", "--days", "30"]) == 2
        assert "180 days" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


def test_purged_ids_are_not_reported_but_newer_cursors_work(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    alice = api.register()
    gone = new_id()
    client.put(episode_url(eid=gone), json=episode(), headers=alice.headers)
    client.delete(episode_url(eid=gone), headers=alice.headers)
    cursor = client.get(changes_url(), headers=alice.headers).json()["next_cursor"]
    purge(ctx.db, now=utcnow() + timedelta(days=200))
    assert client.get(changes_url(), headers=alice.headers).json()["changes"] == []
    r = client.get(changes_url(), params={"since": cursor}, headers=alice.headers)
    assert r.json() == {"changes": [], "next_cursor": cursor, "has_more": False}
    # A cursor from before the purged deletion cannot be served any more.
    assert_problem(
        client.get(changes_url(), params={"since": encode_cursor(0)}, headers=alice.headers), 410
    )
