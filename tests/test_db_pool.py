"""The connection pool: a PostgreSQL connection that died while idle is replaced before use."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from app import db as db_module
from app.db import Database, normalise_url

PG_URL = os.environ.get("TEST_DATABASE_URL")


# PostgreSQL only: SQLite connections are files, nothing can drop them. CI always sets the URL.
@pytest.mark.skipif(PG_URL is None, reason="TEST_DATABASE_URL not set: runs in .ci/run")
def test_a_connection_that_died_while_idle_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert PG_URL is not None
    db_url = normalise_url(PG_URL)
    database = Database(db_url, pool_size=1)
    killer = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        with database.session() as session:
            backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        # As if the connection had been idle for longer than the ping threshold.
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        with database.session() as session:
            replaced = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert replaced != backend
    finally:
        killer.dispose()
        database.dispose()
