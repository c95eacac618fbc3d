"""Small portable SQL building blocks the record services share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import Base


def table_of(model: type[Base]) -> Table:
    """A mapped class's Table, typed as such (``__table__`` is typed as any FromClause)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def insert_unless_taken(
    session: Session, table: Table, values: dict[str, Any]
) -> RowMapping | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING *: the stored row, or None when a unique key
    is already taken (by a row this transaction may not even be allowed to see).

    No exception and so no savepoint is needed, and a concurrent insert of the same key waits
    for the other transaction instead of failing (PostgreSQL) or is serialised (SQLite).
    """
    if session.get_bind().dialect.name == "postgresql":
        pg_stmt = postgresql.insert(table).values(values).on_conflict_do_nothing()
        return session.execute(pg_stmt.returning(*table.c)).mappings().first()
    lite_stmt = sqlite.insert(table).values(values).on_conflict_do_nothing()
    return session.execute(lite_stmt.returning(*table.c)).mappings().first()
