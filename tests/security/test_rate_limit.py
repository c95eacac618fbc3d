"""The rate-limit helper itself (exports and other callers use it directly)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.errors import TooManyRequests
from app.models import RateLimit
from app.security.rate_limit import (
    MAX_WINDOW_SECONDS,
    Hit,
    export_key,
    login_account_key,
    rate_limit,
    release,
    reset,
)
from app.services.context import AppContext
from app.trends.days import utcnow


def _hit(ctx: AppContext, key: str, *, limit: int = 3, window: int = 60, at: float = 0) -> Hit:
    with ctx.db.session(write=True) as session:
        hit = rate_limit(
            session, key, limit=limit, window=window, now=utcnow() + timedelta(seconds=at)
        )
        session.commit()
        return hit


def test_sliding_window_counts_exactly_the_last_window(client: TestClient, ctx: AppContext) -> None:
    key = export_key(uuid.uuid4(), uuid.uuid4())
    for at in (0, 10, 20):
        _hit(ctx, key, at=at)
    with pytest.raises(TooManyRequests) as refused:
        _hit(ctx, key, at=30)
    # Free again when the oldest of the three hits (t=0) leaves the 60-second window.
    assert refused.value.status == 429
    assert refused.value.headers["Retry-After"] == "30"
    with pytest.raises(TooManyRequests):
        _hit(ctx, key, at=59)
    _hit(ctx, key, at=61)  # t=0 has left; t=10, 20 and 61 remain
    with pytest.raises(TooManyRequests) as refused:
        _hit(ctx, key, at=62)
    assert refused.value.headers["Retry-After"] == "8"
    # Another key is independent.
    _hit(ctx, export_key(uuid.uuid4(), uuid.uuid4()), at=62)


def test_refused_hits_are_not_counted(client: TestClient, ctx: AppContext) -> None:
    key = "export:patient:patient"
    _hit(ctx, key, limit=1, at=0)
    for at in range(1, 50, 7):
        with pytest.raises(TooManyRequests):
            _hit(ctx, key, limit=1, at=at)
    _hit(ctx, key, limit=1, at=60)


def test_release_takes_back_one_hit_and_reset_all(client: TestClient, ctx: AppContext) -> None:
    key = "login:ip:192.0.2.1"
    first = _hit(ctx, key, limit=2)
    _hit(ctx, key, limit=2, at=1)
    with ctx.db.session(write=True) as session:
        release(session, first)
        release(session, first)  # a second release of the same hit takes nothing more
        session.commit()
    _hit(ctx, key, limit=2, at=2)
    with pytest.raises(TooManyRequests):
        _hit(ctx, key, limit=2, at=3)
    with ctx.db.session(write=True) as session:
        reset(session, key)
        session.commit()
    _hit(ctx, key, limit=2, at=4)


def test_stale_rows_are_pruned(client: TestClient, ctx: AppContext) -> None:
    for i in range(5):
        _hit(ctx, f"register:ip:10.0.0.{i}", at=-MAX_WINDOW_SECONDS - 10)
    _hit(ctx, "register:ip:10.0.1.1")
    with ctx.db.session() as session:
        keys = set(session.scalars(select(RateLimit.key)))
    assert keys == {"register:ip:10.0.1.1"}


def test_window_is_bounded(client: TestClient, ctx: AppContext) -> None:
    with ctx.db.session(write=True) as session, pytest.raises(ValueError, match="window"):
        rate_limit(session, "k", limit=1, window=MAX_WINDOW_SECONDS + 1)


def test_account_keys_do_not_store_the_address(client: TestClient, ctx: AppContext) -> None:
    key = login_account_key(" Alex@Example.org ")
    assert key == login_account_key("alex@example.org")
    assert "alex" not in key
    assert len(key) <= RateLimit.__table__.c.key.type.length  # type: ignore[attr-defined]
    _hit(ctx, key)
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(RateLimit)) == 1
