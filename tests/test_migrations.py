"""Alembic owns the schema: head matches the models exactly, and the chain runs down and up."""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import cli
from app.db import Base, Database, normalise_url
from app.dbmigrate import downgrade, head_revisions, upgrade
from app.models import AuditEntry, Patient
from app.services.care import audit
from app.settings import get_settings
from tests.conftest import TEST_AUDIT_KEY


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


# What the revision before 0015b01 (plain SHA-256, no key) wrote for this entry.
LEGACY_ENTRY: dict[str, Any] = {
    "patient_id": uuid.UUID("11111111-1111-4111-8111-111111111111"),
    "seq": 1,
    "at": dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC),
    "actor_id": uuid.UUID("22222222-2222-4222-8222-222222222222"),
    "actor_role": "clinician",
    "actor_name": "Dr Old",
    "client_id": None,
    "action": "read",
    "resource": "/patients/{pid}",
    "resource_id": None,
    "request_id": "r1",
    "ip": "10.0.0.1",
    "outcome": "success",
}
LEGACY_HASH = "551b2c0e1aaba75161ca85d861a271bde13c4c75edb731c76fd9c6652d1098de"


def _legacy_chain(patient_id: uuid.UUID, length: int, *, erased: bool = False) -> list[AuditEntry]:
    """A chain as the revision before wrote it."""
    rows: list[AuditEntry] = []
    prev = audit.GENESIS_HASH
    for seq in range(1, length + 1):
        last = erased and seq == length
        fields = {
            **LEGACY_ENTRY,
            "patient_id": patient_id,
            "seq": seq,
            "at": LEGACY_ENTRY["at"] + dt.timedelta(minutes=seq - 1),
            "actor_name": "Erased account" if last else "Dr Old",
            "action": "erase" if last else "read",
        }
        digest = audit.legacy_hash(prev, fields)
        rows.append(AuditEntry(**fields, prev_hash=prev, hash=digest))
        prev = digest
    return rows


def test_chains_from_before_the_audit_key_are_sealed_by_migrate_and_stay_tamper_evident(
    empty_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """0015b01 on a database holding chains of the revision before (plain SHA-256): nothing is
    rewritten; ``paindiary migrate`` seals each chain's head under the audit key (an erased
    patient's too); the unkeyed entries verify up to their seal, keyed ones follow, and a
    change recomputed with plain SHA-256 behind the seal shows."""
    assert audit.legacy_hash(audit.GENESIS_HASH, LEGACY_ENTRY) == LEGACY_HASH
    upgrade(empty_db, "0010c")
    active, erased, idle = LEGACY_ENTRY["patient_id"], uuid.uuid4(), uuid.uuid4()
    engine = create_engine(empty_db)
    with Session(engine) as session, session.begin():
        for pid, length in ((active, 3), (idle, 2)):
            session.add(Patient(id=pid, display_name="Old", timezone="UTC", audit_seq=length))
        session.add_all(
            _legacy_chain(active, 3)
            + _legacy_chain(idle, 2)
            + _legacy_chain(erased, 2, erased=True)
        )
    key = TEST_AUDIT_KEY.encode()
    monkeypatch.setenv("PAINDIARY_DATABASE_URL", empty_db)
    monkeypatch.setenv("PAINDIARY_AUDIT_KEY", TEST_AUDIT_KEY)
    get_settings.cache_clear()
    try:
        assert cli.main(["migrate"]) == 0
        assert "sealed 3 audit chains (7 entries written before the audit key)" in (
            capsys.readouterr().out
        )
        with Session(engine) as session:
            first = select(AuditEntry.hash).where(
                AuditEntry.patient_id == active, AuditEntry.seq == 1
            )
            assert session.scalar(first) == LEGACY_HASH  # nothing was rewritten
        assert cli.main(["audit", "verify"]) == 0
        assert capsys.readouterr().out.strip() == (
            "ok 7 entries in 3 chains (7 from before the audit key, sealed)"
        )
        # The app appends keyed entries after the unkeyed ones; a second migrate seals nothing.
        db = Database(empty_db, audit_key=key)
        event = audit.AuditEvent(
            **{k: v for k, v in LEGACY_ENTRY.items() if k not in ("seq", "at")}
        )
        audit.record(db, [event, event])
        db.dispose()
        assert cli.main(["migrate"]) == 0
        assert "sealed" not in capsys.readouterr().out
        assert cli.main(["audit", "verify"]) == 0
        assert "ok 9 entries in 3 chains" in capsys.readouterr().out

        # Behind the seal: an unkeyed entry changed and its chain recomputed the old way.
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            table = AuditEntry.__table__
            rows = (
                conn.execute(select(table).where(table.c.patient_id == idle).order_by(table.c.seq))
                .mappings()
                .all()
            )
            prev = audit.GENESIS_HASH
            for row in rows:
                fields = {**row, "actor_name": "Nobody"}
                digest = audit.legacy_hash(prev, fields)
                conn.execute(
                    update(AuditEntry)
                    .where(AuditEntry.patient_id == idle, AuditEntry.seq == row["seq"])
                    .values(actor_name="Nobody", prev_hash=prev, hash=digest)
                )
                prev = digest
            if engine.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
        assert cli.main(["audit", "verify"]) == 1
        assert f"patient {idle} seq 2: differs from its seal" in capsys.readouterr().out
        assert cli.main(["audit", "seal"]) == 0  # nothing new to seal; the old seal stands
        assert cli.main(["audit", "verify"]) == 1
    finally:
        get_settings.cache_clear()
        engine.dispose()
