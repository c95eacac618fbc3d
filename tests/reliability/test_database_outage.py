"""The database goes away and comes back: 503 with Retry-After meanwhile, recovery without a
restart, and no acknowledged write lost.

PostgreSQL runs behind a TCP proxy that the test cuts (the shared server keeps running for
everyone else); SQLite is "down" when another process holds the write lock past the timeout.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from app.db import normalise_url
from app.dbmigrate import upgrade
from app.main import create_app
from app.models import User
from tests.conftest import make_settings
from tests.helpers import PASSWORD, assert_problem, patch_current
from tests.tcp_proxy import TcpProxy


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of its own (the suite's is emptied per test)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL not set: the PostgreSQL outage tests run in .ci/run")
    url = make_url(normalise_url(base))
    name = f"paindiary_outage_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        db_url = url.set(database=name).render_as_string(hide_password=False)
        upgrade(db_url)
        yield db_url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def proxy(pg_url: str) -> Iterator[TcpProxy]:
    url = make_url(pg_url)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


def _through(pg_url: str, proxy: TcpProxy) -> str:
    return make_url(pg_url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)


def _register(client: TestClient | httpx.Client, email: str) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": "P", "timezone": "UTC"},
    )
    return response


def _login(client: TestClient, email: str) -> str:
    r = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": PASSWORD},
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def _assert_unavailable(response: httpx.Response) -> None:
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0


def test_outage_gives_503_and_the_same_app_recovers(pg_url: str, proxy: TcpProxy) -> None:
    app = create_app(make_settings(_through(pg_url, proxy), db_connect_timeout_seconds=2))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert _register(client, "before@example.org").status_code == 202
        auth = {"Authorization": f"Bearer {_login(client, 'before@example.org')}"}
        assert client.get("/api/v1/me", headers=auth).status_code == 200

        proxy.cut()
        _assert_unavailable(client.get("/api/v1/me", headers=auth))
        _assert_unavailable(client.get("/api/v1/patients/me", headers=auth))
        _assert_unavailable(patch_current(client, "/api/v1/patients/me", headers=auth, json={}))
        _assert_unavailable(_register(client, "during@example.org"))
        _assert_unavailable(
            client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "before@example.org", "password": "x"},
            )
        )
        ready = client.get("/readyz")
        assert_problem(ready, 503)
        assert ready.headers["retry-after"]
        assert client.get("/healthz").status_code == 200

        proxy.restore()
        assert client.get("/readyz").status_code == 200
        assert client.get("/api/v1/me", headers=auth).status_code == 200
        assert _register(client, "after@example.org").status_code == 202

    engine = create_engine(pg_url)  # straight to the server, not through the proxy
    with engine.connect() as conn:
        emails = set(conn.scalars(select(User.email)))
    engine.dispose()
    assert emails == {"before@example.org", "after@example.org"}


def test_every_acknowledged_write_survives_a_cut_mid_stream(pg_url: str, proxy: TcpProxy) -> None:
    app = create_app(
        make_settings(_through(pg_url, proxy), db_connect_timeout_seconds=2, db_pool_size=4)
    )
    acknowledged: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()
    cut, restored = threading.Event(), threading.Event()

    def write(i: int) -> None:
        email = f"writer{i}@example.org"
        response = _register(client, email)
        with lock:
            statuses.append(response.status_code)
            if response.status_code == 202:
                acknowledged.append(email)
            if len(acknowledged) == 15 and not cut.is_set():
                proxy.cut()  # while the other writers are mid-request
                cut.set()
            if statuses.count(503) == 10 and not restored.is_set():
                proxy.restore()
                restored.set()

    with (
        TestClient(app, raise_server_exceptions=False) as client,
        ThreadPoolExecutor(max_workers=6) as pool,
    ):
        list(pool.map(write, range(80)))

    assert cut.is_set()
    assert restored.is_set()
    assert set(statuses) <= {202, 503}, statuses
    # Writes went on after the database came back, with the same app and pool.
    assert len(acknowledged) > 30
    engine = create_engine(pg_url)  # straight to the server
    with engine.connect() as conn:
        stored = set(conn.scalars(select(User.email)))
    engine.dispose()
    missing = set(acknowledged) - stored
    assert not missing, f"acknowledged but not stored: {sorted(missing)}"


def test_sqlite_locked_past_the_busy_timeout_is_503_not_500(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    app = create_app(make_settings(url, sqlite_busy_timeout_ms=100))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert _register(client, "first@example.org").status_code == 202
        auth = {"Authorization": f"Bearer {_login(client, 'first@example.org')}"}

        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            _assert_unavailable(_register(client, "second@example.org"))
            _assert_unavailable(patch_current(client, "/api/v1/patients/me", headers=auth, json={}))
            # Readers are not blocked by a writer (WAL).
            assert client.get("/api/v1/me", headers=auth).status_code == 200
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()

        assert _register(client, "second@example.org").status_code == 202


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly")),
        InterfaceError("SELECT 1", {}, Exception("the connection is closed")),
        SQLAlchemyTimeoutError("QueuePool limit of size 5 overflow 5 reached"),
        DBAPIError("SELECT 1", {}, Exception("lost"), connection_invalidated=True),
    ],
    ids=["operational", "interface", "pool-timeout", "invalidated"],
)
def test_every_kind_of_database_unavailability_is_503(tmp_path: Path, error: Exception) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}"))

    @app.get("/api/v1/_db_failure_for_test", include_in_schema=False)
    def fail() -> None:
        raise error

    with TestClient(app, raise_server_exceptions=False) as client:
        _assert_unavailable(client.get("/api/v1/_db_failure_for_test"))
