"""Engine, sessions and the declarative base shared by every model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 10_000
PING_AFTER_IDLE_SECONDS = 5.0


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware timestamp stored as UTC on every engine.

    SQLite has no time-zone type and hands back naive values; this keeps the rule
    "aware in, aware UTC out" in one place instead of at every call site.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """Route plain ``postgresql://`` URLs to psycopg 3, the only PostgreSQL driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    connect_timeout_seconds: int = 5,
    sqlite_writer: bool = False,
) -> Engine:
    """The engine for ``url``. On SQLite, ``sqlite_writer`` makes an engine whose transactions
    all take the write lock when they begin (BEGIN IMMEDIATE)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": sqlite_busy_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=30,
        )
        _configure_sqlite(engine, sqlite_busy_timeout_ms, writer=sqlite_writer)
        return engine
    query = make_url(url).query
    connect_args: dict[str, Any] = {
        # Keepalives notice a peer that vanished mid-query instead of waiting on TCP for hours.
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if "connect_timeout" not in query:
        connect_args["connect_timeout"] = connect_timeout_seconds
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, connect_args=connect_args
    )
    _ping_after_idle(engine)
    _prefer_index_scans(engine)
    return engine


def _prefer_index_scans(engine: Engine) -> None:
    """``random_page_cost = 1.1``, PostgreSQL's advice for SSD storage (the default 4 assumes
    spinning disks). Measured (bench/NOTES.md): for a patient with a long history the planner
    misjudged the rows of a trend window (patient and time are correlated) and scanned the
    whole episodes table (23 ms) instead of the covering index (0.3 ms); this flips the plan.
    A deployment may set it for the database instead; a per-connection SET costs nothing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SET random_page_cost = 1.1")
        dbapi_conn.commit()


def _ping_after_idle(engine: Engine) -> None:
    """Test a pooled connection before use only when it has been idle a while.

    ``pool_pre_ping`` pings on every checkout: a round trip, two per request here. A connection
    in use a moment ago is all but certainly alive; if the server restarted in that moment the
    statement fails, SQLAlchemy discards the pool, and the client gets a 503 to retry (errors.py).
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("the pooled connection is gone") from exc


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, *, writer: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below) so that writers can take the lock up front.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before we acknowledge it, even across a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Past this wait a locked database is an OperationalError, which the API answers as 503.
        # A writer waits for the lock in _begin_immediate (below), never in SQLite's handler;
        # holding the lock, it meets no other in WAL mode.
        cursor.execute(f"PRAGMA busy_timeout={0 if writer else int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once (SQLITE_BUSY_SNAPSHOT)
        # when another writer committed in between; BEGIN IMMEDIATE waits for the lock instead.
        if writer:
            _begin_immediate(conn, busy_timeout_ms)
        else:
            conn.exec_driver_sql("BEGIN")


def _begin_immediate(conn: Connection, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, retried every few hundred microseconds while another process writes.

    SQLite's busy handler sleeps 1, 2, 5, 10 … up to 100 ms between tries, so under load a
    waiting writer oversleeps the lock again and again (PUT p99 was 30 times its p50 at half
    the peak rate). Within a process writers queue on the one write connection instead.
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    pause = 0.0001
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            busy = getattr(exc.orig, "sqlite_errorname", "") == "SQLITE_BUSY"
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.001)


class Database:
    """The engine plus the two session factories the request layer picks from."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 5,
        sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
        connect_timeout_seconds: int = 5,
    ) -> None:
        self.engine = make_engine(
            url,
            pool_size=pool_size,
            sqlite_busy_timeout_ms=sqlite_busy_timeout_ms,
            connect_timeout_seconds=connect_timeout_seconds,
        )
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # SQLite admits one writer at a time, and its busy handler waits by polling with sleeps
        # of up to 100 ms: under load, writers on several connections spend more time asleep
        # than writing. One write connection per process makes them queue on the pool instead
        # (woken the moment it is free), so only the worker processes meet at the file lock.
        # PostgreSQL locks per patient row: writers share the pool.
        self._write_engine = (
            make_engine(
                url, pool_size=1, sqlite_writer=True, sqlite_busy_timeout_ms=sqlite_busy_timeout_ms
            )
            if self.is_sqlite
            else self.engine
        )
        self._reader = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False, autoflush=False)

    def session(self, *, write: bool = False) -> Session:
        return (self._writer if write else self._reader)()

    @contextmanager
    def begin(self, *, write: bool = True) -> Iterator[Session]:
        """A session in one transaction, committed on success (for the CLI and scripts)."""
        with self.session(write=write) as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        self._write_engine.dispose()
