"""Readiness: whether this process can serve requests — the database answers and its schema is
at the newest migration (``GET /readyz``)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import Database
from app.dbmigrate import head_revisions
from app.errors import NotReady

DATABASE_DOWN = "database unavailable"
SCHEMA_BEHIND = "database schema is not at the newest migration"


def ready_schema(db: Database) -> list[str]:
    """The schema's revisions when the database is ready; ``NotReady`` (503) otherwise."""
    try:
        with db.engine.connect() as conn:
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError as exc:
        raise NotReady(DATABASE_DOWN) from exc
    if current != set(head_revisions()):
        raise NotReady(SCHEMA_BEHIND)
    return sorted(current)
