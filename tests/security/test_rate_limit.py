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
    Backoff,
    Hit,
    export_key,
    login_account_key,
    login_pair_key,
    rate_limit,
    release,
    reset,
    throttle,
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


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0), (4, 0), (5, 1), (6, 2), (7, 4), (13, 256), (14, 512), (15, 900), (500, 900)],
)
def test_backoff_doubles_after_the_free_failures_up_to_its_cap(failures: int, delay: int) -> None:
    policy = Backoff(free=5, max_delay=900, memory=86_400)
    assert policy.delay(failures) == delay
    # It remembers enough failures to reach the cap, and no more.
    assert policy.delay(policy.kept - 1) == 900
    assert policy.kept <= 5 + 12


def _attempt(ctx: AppContext, limits: list[tuple[str, Backoff]], at: float) -> None:
    with ctx.db.session(write=True) as session:
        throttle(session, limits, now=utcnow() + timedelta(seconds=at))
        session.commit()


def test_throttle_counts_on_every_key_and_refuses_with_the_longest_wait(
    client: TestClient, ctx: AppContext
) -> None:
    quick = ("k:quick", Backoff(free=1, max_delay=60, memory=3600))
    slow = ("k:slow", Backoff(free=2, max_delay=60, memory=3600))
    _attempt(ctx, [quick, slow], at=0)  # quick: 1 failure (delay 1 s from now on)
    with pytest.raises(TooManyRequests) as refused:
        _attempt(ctx, [quick, slow], at=0)
    assert refused.value.headers["Retry-After"] == "1"
    _attempt(ctx, [quick, slow], at=1)  # quick: 2 (delay 2), slow: 2 (delay 1)
    with pytest.raises(TooManyRequests) as refused:
        _attempt(ctx, [slow, quick], at=2)
    assert refused.value.headers["Retry-After"] == "1"  # quick's 2 s after t=1
    # The refusal counted on neither key: slow alone is free again a second after t=1.
    _attempt(ctx, [slow], at=2)
    with ctx.db.session() as session:
        hits = dict(session.execute(select(RateLimit.key, RateLimit.hits)).all())
    assert (len(hits["k:quick"]), len(hits["k:slow"])) == (2, 3)


def test_throttle_forgets_failures_after_its_memory(client: TestClient, ctx: AppContext) -> None:
    limits = [("k:memory", Backoff(free=1, max_delay=600, memory=120))]
    # Each attempt as soon as allowed: 1, 2, 4 … seconds apart; the seventh waits 64 s.
    for at in (0, 1, 3, 7, 15, 31, 63):
        _attempt(ctx, limits, at=at)
    with pytest.raises(TooManyRequests) as refused:
        _attempt(ctx, limits, at=100)
    assert refused.value.headers["Retry-After"] == "27"
    # Two minutes after the last failure every one of them is forgotten: one free attempt,
    # then a second's wait (not the 128 s the eight failures would cost).
    _attempt(ctx, limits, at=184)
    with pytest.raises(TooManyRequests) as refused:
        _attempt(ctx, limits, at=184)
    assert refused.value.headers["Retry-After"] == "1"


def test_pair_keys_hash_the_address_and_the_account_together() -> None:
    key = login_pair_key(" Alex@Example.org ", "192.0.2.1")
    assert key == login_pair_key("alex@example.org", "192.0.2.1")
    assert key != login_pair_key("alex@example.org", "192.0.2.2")
    assert "alex" not in key
    assert "192.0.2" not in key
