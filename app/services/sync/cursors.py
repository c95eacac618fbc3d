"""Opaque pagination cursors: urlsafe base64 of a small JSON list tagged with its list's name.

The tag keeps a cursor of one list from being replayed against another; clients treat the
string as opaque, so the format can change behind a new tag.
"""

from __future__ import annotations

import base64
import binascii
import json

from app.errors import ValidationFailed

Value = str | int

BAD_CURSOR = "Not a cursor this list handed out; start again without one."


def encode(tag: str, *values: Value) -> str:
    raw = json.dumps([tag, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(
    cursor: str, tag: str, arity: int, *, loc: tuple[str, str] = ("query", "cursor")
) -> list[Value]:
    """The values of a cursor made by ``encode(tag, ...)`` with ``arity`` values, else 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise ValidationFailed(loc, BAD_CURSOR) from exc
    if (
        not isinstance(data, list)
        or len(data) != arity + 1
        or data[0] != tag
        or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in data[1:])
    ):
        raise ValidationFailed(loc, BAD_CURSOR)
    return data[1:]
