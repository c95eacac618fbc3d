"""Alembic owns the schema: head matches the models exactly, and the chain runs down and up."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.db import Base, normalise_url
from app.dbmigrate import downgrade, head_revisions, upgrade


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new empty database of each engine, separate from the suite's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL migration test runs in .ci/run")
    url = make_url(normalise_url(base))
    name = f"paindiary_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drift(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_to_head_matches_models_exactly(empty_db: str) -> None:
    upgrade(empty_db)
    assert _drift(empty_db) == []
    assert _tables(empty_db) == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}


def test_downgrade_to_base_and_up_again(empty_db: str) -> None:
    upgrade(empty_db)
    downgrade(empty_db, "base")
    assert _tables(empty_db) <= {"alembic_version"}
    upgrade(empty_db)
    assert _drift(empty_db) == []


def test_single_head() -> None:
    assert len(head_revisions()) == 1, "migrations must form one line; merge the heads"


def test_migration_files_are_dated() -> None:
    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    names = [p.name for p in versions.glob("*.py")]
    assert names
    for name in names:
        assert re.match(r"^\d{4}-\d{2}-\d{2}_\d{4}_\w+\.py$", name), name
