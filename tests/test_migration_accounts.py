"""The e-mail verification migration on a database that already holds accounts: everyone who
could sign in before the upgrade still can (their addresses count as confirmed from the day
their account was made)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import create_engine, insert, inspect, select

from app.db import UTCDateTime
from app.dbmigrate import downgrade, upgrade
from tests.test_migrations import empty_db  # noqa: F401  (the fixture: a fresh database per engine)

BEFORE = "0015b01"  # the revision before 0015a1
VERIFICATION = "0015a1"


# The table as the migrations know it (portable types, as in the revision files).
users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("display_name", sa.String()),
    sa.column("role", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("email_verified_at", UTCDateTime()),
)


def test_existing_accounts_count_as_confirmed_after_the_upgrade(empty_db: str) -> None:  # noqa: F811
    upgrade(empty_db, BEFORE)
    made = datetime(2026, 3, 1, 8, 15, tzinfo=UTC)
    ids = [uuid.uuid4(), uuid.uuid4()]
    engine = create_engine(empty_db)
    with engine.begin() as conn:
        for n, user_id in enumerate(ids):
            conn.execute(
                insert(users).values(
                    id=user_id,
                    email=f"before{n}@example.org",
                    display_name="Before",
                    role="patient" if n else "clinician",
                    password_hash="$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
                    created_at=made,
                    updated_at=made,
                )
            )
    engine.dispose()

    upgrade(empty_db, VERIFICATION)
    engine = create_engine(empty_db)
    with engine.connect() as conn:
        rows = conn.execute(select(users.c.id, users.c.created_at, users.c.email_verified_at))
        found = {row.id: (row.created_at, row.email_verified_at) for row in rows}
    engine.dispose()
    assert set(found) == set(ids)
    for created_at, verified_at in found.values():
        assert verified_at is not None
        assert verified_at == created_at

    upgrade(empty_db)
    downgrade(empty_db, BEFORE)  # and back: the accounts stay, the column goes
    engine = create_engine(empty_db)
    assert "email_verified_at" not in {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.connect() as conn:
        assert len(conn.execute(select(users.c.id)).all()) == 2
    engine.dispose()
