"""Small portable SQL building blocks the record services share.

Hot paths run prebuilt Core statements with bound parameters: a statement object built once has
its cache key memoised, so SQLAlchemy finds the compiled SQL without walking the expression
again (building ``insert(t).values(...)`` per call re-derives the key from every value: that
was a tenth of a PUT's CPU time).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, RowMapping, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import Base


def table_of(model: type[Base]) -> Table:
    """A mapped class's Table, typed as such (``__table__`` is typed as any FromClause)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


@cache
def _insert_unless_taken(dialect: str, table: Table) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing().returning(*table.c)


def insert_unless_taken(
    session: Session, table: Table, values: dict[str, Any]
) -> RowMapping | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING *: the stored row, or None when a unique key
    is already taken (by a row this transaction may not even be allowed to see).

    No exception and so no savepoint is needed, and a concurrent insert of the same key waits
    for the other transaction instead of failing (PostgreSQL) or is serialised (SQLite).
    """
    stmt = _insert_unless_taken(session.get_bind().dialect.name, table)
    return session.execute(stmt, values).mappings().first()


def insert_many_unless_taken(
    session: Session, table: Table, rows: list[dict[str, Any]]
) -> list[RowMapping]:
    """``insert_unless_taken`` for many rows in one round trip (SQLAlchemy sends them as
    multi-row INSERTs): the rows stored, in no particular order; a taken key is left out."""
    stmt = _insert_unless_taken(session.get_bind().dialect.name, table)
    return list(session.execute(stmt, rows).mappings())
