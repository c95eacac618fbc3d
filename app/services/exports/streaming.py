"""Streamed exports: bodies produced chunk by chunk from a read snapshot that the generator owns.

Why the generator opens its own session instead of using the request's: the body is produced
after the endpoint has returned, and whether FastAPI has closed a yield dependency by then
depends on the dependency's scope (``function`` closes before the body streams, ``request``
after) and changed between FastAPI versions. A generator that opens its session on the first
chunk and closes it in ``finally`` - also when the client goes away and the server closes the
generator - is right whatever the framework does, and never leaks a pooled connection.

Rows come through ``yield_per`` (a server-side cursor on PostgreSQL, ``fetchmany`` on SQLite),
so memory stays flat however long the diary is; parts are joined into chunks of about
``CHUNK_BYTES`` so the client is not sent one tiny frame per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import RowMapping, Select, text
from sqlalchemy.orm import Session

from app.db import Database

BATCH_ROWS = 1000
EXPORT_CACHE_KIB = 256
DEFAULT_CACHE_KIB = 2000  # SQLite's default, restored before the connection goes back
CHUNK_BYTES = 64 * 1024


@contextmanager
def snapshot(db: Database) -> Iterator[Session]:
    """A read session whose statements all see one snapshot of the database.

    SQLite (WAL) gives a transaction one snapshot anyway; PostgreSQL needs REPEATABLE READ, or
    a write committed half-way through the export could show a session whose series the
    export had already passed over.
    """
    session = db.session()
    sqlite = db.is_sqlite
    try:
        if sqlite:
            # An export reads every row once; SQLite's page cache (2 MB per connection) would
            # only fill up and stay allocated. A small cache keeps the export's memory flat
            # (bench/NOTES.md: RSS growth at 100 000 episodes 1.8 MiB -> 0 with plain sqlite3).
            session.execute(text(f"PRAGMA cache_size=-{EXPORT_CACHE_KIB}"))
        else:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session
    finally:
        if sqlite:
            session.rollback()
            session.execute(text(f"PRAGMA cache_size=-{DEFAULT_CACHE_KIB}"))
        session.close()


def rows(session: Session, query: Select[*tuple[Any, ...]]) -> Iterator[RowMapping]:
    """The query's rows, fetched ``BATCH_ROWS`` at a time."""
    result = session.execute(query.execution_options(yield_per=BATCH_ROWS))
    try:
        yield from result.mappings()
    finally:
        result.close()  # ends the server-side cursor when the client leaves early


def chunked(parts: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Join small parts into chunks of at least ``size`` bytes (the last one may be smaller)."""
    pending: list[bytes] = []
    length = 0
    for part in parts:
        pending.append(part)
        length += len(part)
        if length >= size:
            yield b"".join(pending)
            pending, length = [], 0
    if pending:
        yield b"".join(pending)


def json_array(items: Iterable[bytes]) -> Iterator[bytes]:
    """``[item,item,…]`` from already-encoded JSON values."""
    yield b"["
    for index, item in enumerate(items):
        yield b"," + item if index else item
    yield b"]"
