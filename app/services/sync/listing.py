"""Newest-first keyset pagination, shared by the record lists.

The cursor holds the sort key of the last item sent; the next page continues strictly below it
(``(a, b) < (last_a, last_b)``), which an index on ``(patient_id, a, b)`` serves directly and
which stays correct while records are added or deleted between pages.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Column, Date, RowMapping, Select, Uuid, literal, tuple_
from sqlalchemy.orm import Session

from app.db import UTCDateTime
from app.errors import ValidationFailed
from app.schemas.common import Page
from app.services.sync import cursors

OutT = TypeVar("OutT", bound=BaseModel)


def _encode_value(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _decode_value(column: Column[Any], text: str) -> object:
    if isinstance(column.type, UTCDateTime):
        moment = dt.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError("naive timestamp in cursor")
        return moment
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(text)
    if isinstance(column.type, Uuid):
        return uuid.UUID(text)
    raise TypeError(f"no cursor encoding for {column.type!r}")  # pragma: no cover


def newest_first(
    session: Session,
    query: Select[Any],
    order: Sequence[Column[Any]],
    *,
    limit: int,
    cursor: str | None,
    tag: str,
    out: Callable[[RowMapping], OutT] | None = None,
    out_many: Callable[[Sequence[RowMapping]], list[OutT]] | None = None,
) -> Page[OutT]:
    """One page of ``query`` ordered by ``order`` descending; never more than ``limit`` items.
    Items are built by ``out`` per row, or by ``out_many`` for the page's rows at once."""
    if cursor is not None:
        raw = cursors.decode(cursor, tag, len(order))
        try:
            after = [_decode_value(col, str(v)) for col, v in zip(order, raw, strict=True)]
        except ValueError as exc:
            raise ValidationFailed(["query", "cursor"], cursors.BAD_CURSOR) from exc
        # Typed literals: bound values must be encoded like the columns on every engine.
        bound = [literal(value, col.type) for col, value in zip(order, after, strict=True)]
        query = query.where(tuple_(*order) < tuple_(*bound))
    query = query.order_by(*(col.desc() for col in order)).limit(limit + 1)
    rows = session.execute(query).mappings().all()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = cursors.encode(tag, *(_encode_value(last[col.name]) for col in order))
    page = rows[:limit]
    if out_many is not None:
        items = out_many(page)
    else:
        assert out is not None, "newest_first needs out or out_many"
        items = [out(row) for row in page]
    return Page[OutT](items=items, next_cursor=next_cursor)
