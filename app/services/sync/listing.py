"""Keyset pagination, the one way every list pages: newest first or oldest first.

A list's ``Keyset`` names its sort columns (unique together: the last one is usually the id), its
direction and its cursor's tag. The cursor holds the sort key of the last item sent; the next
page continues strictly beyond it (``(a, b) < (last_a, last_b)`` newest first, ``>`` oldest
first), which an index on ``(patient_id, a, b)`` serves directly and which stays correct while
items are added or deleted between pages. Cursor values are typed by their columns; the tag keeps
one list's cursor from being replayed against another (``cursors``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    RowMapping,
    Select,
    String,
    UnaryExpression,
    Uuid,
    literal,
    tuple_,
)
from sqlalchemy.orm import QueryableAttribute, Session

from app.db import UTCDateTime
from app.schemas.common import Page
from app.services.sync import cursors

OutT = TypeVar("OutT", bound=BaseModel)
ItemT = TypeVar("ItemT")
Key = tuple[Any, ...]
# A sort column: a table's column or a mapped attribute.
Column = ColumnElement[Any] | QueryableAttribute[Any]
# A SELECT of any columns.
Query = Select[*tuple[Any, ...]]


def _kind(column: Column) -> cursors.Kind:
    kind = column.type
    if isinstance(kind, Integer):
        return "int"
    if isinstance(kind, String):
        return "text"
    if isinstance(kind, UTCDateTime):
        return "datetime"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Uuid):
        return "uuid"
    raise TypeError(f"no cursor encoding for {kind!r}")  # pragma: no cover


@dataclass(frozen=True)
class Keyset:
    """How one list is ordered and paged."""

    tag: str
    columns: tuple[Column, ...]
    newest_first: bool = True
    loc: tuple[str, str] = ("query", "cursor")

    @property
    def kinds(self) -> tuple[cursors.Kind, ...]:
        return tuple(_kind(column) for column in self.columns)

    @property
    def pattern(self) -> str:
        """What every cursor of this list looks like (the API documents it)."""
        return cursors.pattern(self.tag, self.kinds)

    def decode(self, cursor: str) -> Key:
        """The sort key a cursor of this list holds; one not of this list's pattern is a 422."""
        return tuple(cursors.decode(cursor, self.tag, self.kinds, loc=self.loc))

    def encode(self, key: Sequence[Any]) -> str:
        return cursors.encode(self.tag, self.kinds, key)

    def key(self, row: RowMapping) -> Key:
        return tuple(row[str(col.key)] for col in self.columns)

    def beyond(
        self, key: Sequence[Any], columns: Sequence[Column] | None = None
    ) -> ColumnElement[bool]:
        """Rows strictly after ``key`` in this list's order. ``columns`` stand in for the list's
        own where a query reads the same key from other tables (the change feed's union)."""
        on = tuple(columns or self.columns)
        # Typed literals: bound values must be encoded like the columns on every engine.
        bound = [literal(value, col.type) for col, value in zip(self.columns, key, strict=True)]
        left, right = (on[0], bound[0]) if len(on) == 1 else (tuple_(*on), tuple_(*bound))
        return left < right if self.newest_first else left > right

    def order(self, columns: Sequence[Column] | None = None) -> list[UnaryExpression[Any]]:
        return [col.desc() if self.newest_first else col.asc() for col in columns or self.columns]

    def fetch(
        self, session: Session, query: Query, count: int, after: Key | None = None
    ) -> Sequence[RowMapping]:
        """At most ``count`` rows of ``query`` in this order, after ``after`` when given."""
        if after is not None:
            query = query.where(self.beyond(after))
        return session.execute(query.order_by(*self.order()).limit(count)).mappings().all()


def page(
    session: Session,
    query: Query,
    keyset: Keyset,
    *,
    limit: int,
    cursor: str | None,
    out: Callable[[RowMapping], OutT] | None = None,
    out_many: Callable[[Sequence[RowMapping]], list[OutT]] | None = None,
) -> Page[OutT]:
    """One page of ``query``; never more than ``limit`` items, and a cursor when more follow.
    Items are built by ``out`` per row, or by ``out_many`` for the page's rows at once."""
    after = keyset.decode(cursor) if cursor is not None else None
    rows = keyset.fetch(session, query, limit + 1, after)
    next_cursor = keyset.encode(keyset.key(rows[limit - 1])) if len(rows) > limit else None
    chosen = rows[:limit]
    if out_many is not None:
        items = out_many(chosen)
    else:
        assert out is not None, "page needs out or out_many"
        items = [out(row) for row in chosen]
    return Page[OutT](items=items, next_cursor=next_cursor)


def every_page(
    session: Session,
    query: Query,
    keyset: Keyset,
    *,
    size: int,
    out: Callable[[RowMapping], ItemT],
) -> Iterator[list[ItemT]]:
    """All of ``query``, ``size`` items at a time (for work that must see the whole list)."""
    after: Key | None = None
    while True:
        rows = keyset.fetch(session, query, size + 1, after)
        if rows[:size]:
            yield [out(row) for row in rows[:size]]
        if len(rows) <= size:
            return
        after = keyset.key(rows[size - 1])
