"""Pagination cursors: the list's tag and the sort key of the last item sent, as digits.

``episodes.63904371237000000.0b7e9b2c4f1e4c8a9d3b6a2f1e5c7d90``: the tag keeps a cursor of one
list from being replayed against another; each value is a whole number (an integer column as
is, a timestamp as microseconds since 0001-01-01T00:00Z, a date as days since 0001-01-01), a
UUID as 32 hex digits or a text (a name) as the hex digits of its UTF-8 bytes. Every string
that matches a list's ``pattern`` is a position in that
list, so the OpenAPI document can state exactly which cursors are accepted: a pattern-valid
cursor the server never handed out simply continues from that position. Clients still treat
cursors as opaque; the format can change behind a new tag.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from typing import Literal

from app.errors import ValidationFailed

Kind = Literal["int", "datetime", "date", "uuid", "text"]
Value = int | dt.datetime | dt.date | uuid.UUID | str

BAD_CURSOR = "Not a cursor this list handed out; start again without one."
# Up to 18 digits: every int64 ≥ 0 below 10^18, and every timestamp up to 9999-12-31.
# Text (a name to sort by) as the hex digits of its UTF-8 bytes, up to 1 000 bytes.
_DIGITS = {
    "int": "[0-9]{1,18}",
    "datetime": "[0-9]{1,18}",
    "date": "[0-9]{1,7}",
    "text": "(?:[0-9a-f]{2}){0,1000}",
}
_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
_MAX_MICROS = (dt.datetime.max.replace(tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(microseconds=1)
_MAX_DAYS = dt.date.max.toordinal() - 1


def pattern(tag: str, kinds: Sequence[Kind]) -> str:
    """The regular expression every cursor of this list matches (documented in OpenAPI)."""
    assert re.fullmatch("[a-z-]+", tag), tag  # literal in any regex dialect, never escaped
    fields = [_DIGITS.get(kind, "[0-9a-f]{32}") for kind in kinds]
    return "^" + tag + "".join(r"\." + field for field in fields) + "$"


def encode(tag: str, kinds: Sequence[Kind], values: Sequence[Value]) -> str:
    parts = [tag]
    for kind, value in zip(kinds, values, strict=True):
        if kind == "uuid":
            assert isinstance(value, uuid.UUID)
            parts.append(value.hex)
        elif kind == "datetime":
            assert isinstance(value, dt.datetime)
            parts.append(str((value - _EPOCH) // dt.timedelta(microseconds=1)))
        elif kind == "date":
            assert isinstance(value, dt.date)
            parts.append(str(value.toordinal() - 1))
        elif kind == "text":
            assert isinstance(value, str)
            parts.append(value.encode("utf-8").hex())
        else:
            assert isinstance(value, int)
            parts.append(str(value))
    return ".".join(parts)


def decode(
    cursor: str, tag: str, kinds: Sequence[Kind], *, loc: tuple[str, str] = ("query", "cursor")
) -> list[Value]:
    """The sort key a cursor of this list holds; one that does not match the list's pattern is
    a 422. Values beyond the last representable day or instant stand for that day or instant."""
    if re.fullmatch(pattern(tag, kinds), cursor) is None:
        raise ValidationFailed(loc, BAD_CURSOR)
    values: list[Value] = []
    for kind, text in zip(kinds, cursor.split(".")[1:], strict=True):
        if kind == "uuid":
            values.append(uuid.UUID(hex=text))
        elif kind == "datetime":
            micros = min(int(text), _MAX_MICROS)
            values.append(_EPOCH + dt.timedelta(microseconds=micros))
        elif kind == "date":
            values.append(dt.date.fromordinal(min(int(text), _MAX_DAYS) + 1))
        elif kind == "text":
            # Any bytes are a position: undecodable ones and NUL (no database stores it in text)
            # become the replacement character.
            name = bytes.fromhex(text).decode("utf-8", errors="replace")
            values.append(name.replace("\x00", "\ufffd"))
        else:
            values.append(int(text))
    return values
