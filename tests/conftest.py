"""One real database per engine for the whole run, built by the migrations; emptied per test.

The suite runs on SQLite always and, when TEST_DATABASE_URL is set, once more on PostgreSQL:
every test that touches the database is parametrised by engine ([sqlite] / [postgresql]).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, make_url, text

from app.db import Base, normalise_url
from app.dbmigrate import upgrade
from app.main import create_app
from app.models import Patient as _Patient  # importing app.models registers every table
from app.services.context import AppContext
from app.settings import Settings
from tests.helpers import Api

assert _Patient.__tablename__  # every table is on Base.metadata

hypothesis_settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True)
hypothesis_settings.load_profile("ci")

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
TEST_AUDIT_KEY = "test-audit-key-held-outside-the-database-0123456789"
ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
# Mail the app sends during tests is written here (never into the checkout's var/mail).
MAIL_DIR = Path(tempfile.mkdtemp(prefix="paindiary-test-mail-"))
atexit.register(shutil.rmtree, MAIL_DIR, True)


def reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database: TEST_DATABASE_URL's name
    with the worker id appended, created when missing. Without xdist, TEST_DATABASE_URL itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if exists is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def make_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": url,
        "secret_key": TEST_SECRET,
        "audit_key": TEST_AUDIT_KEY,
        # Cheap Argon2 in tests only: the suite signs in hundreds of times.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        # Every test client shares one address ("testclient") and tests register freely; the
        # registration limit has its own tests, which lower it again.
        "register_max_per_ip": 10_000,
        "mail_dir": MAIL_DIR,
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture(scope="session", params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "paindiary-test.db"
        url = f"sqlite:///{path}"
    else:
        url = worker_database(normalise_url(os.environ["TEST_DATABASE_URL"]))
        reset_postgres(url)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def test_settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture(scope="session")
def app(test_settings: Settings) -> FastAPI:
    return create_app(test_settings)


@pytest.fixture(scope="session")
def _live_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def _empty_tables(ctx: AppContext) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with ctx.db.engine.begin() as conn:
        if ctx.db.is_sqlite:
            for table in tables:
                conn.execute(table.delete())
        else:
            # DELETE, not TRUNCATE: on these small tables TRUNCATE costs ~200 ms per test (a
            # new file per table), DELETE ~20 ms. The replica role skips the triggers, so the
            # audit log's append-only trigger and the foreign-key order do not get in the way.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def ctx(app: FastAPI) -> AppContext:
    context: AppContext = app.state.ctx
    return context


@pytest.fixture
def client(_live_client: TestClient, ctx: AppContext) -> TestClient:
    _empty_tables(ctx)
    _live_client.headers.clear()
    _live_client.cookies.clear()
    return _live_client


@pytest.fixture
def api(client: TestClient, ctx: AppContext) -> Api:
    return Api(client, ctx)


# A parameter computed from the clock at import (an hour from now, say) must not name its test:
# pytest-xdist's workers collect at different instants and refuse to run when the names differ.
_CLOCK_VALUE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    if isinstance(val, str) and _CLOCK_VALUE.match(val):
        return "from-the-clock"
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many tests passed per database engine, so CI output shows both."""
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("passed", []):
        engine = next(
            (
                e
                for e in ("postgresql", "sqlite")
                if f"[{e}" in report.nodeid
                or f"-{e}]" in report.nodeid
                or f"-{e}-" in report.nodeid
            ),
            "no database",
        )
        counts[engine] = counts.get(engine, 0) + 1
    summary = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items()))
    terminalreporter.write_line(f"passed per engine: {summary}")
