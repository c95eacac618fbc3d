"""Opaque list cursors: the keyset position of the last item, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

from app.errors import ValidationFailed


def encode_cursor(*values: str | int) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> ValidationFailed:
    return ValidationFailed(["query", "cursor"], "The cursor is not valid for this list.")


def cursor_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid_cursor() from None


def decode_cursor(cursor: str, *types: type) -> list[Any]:
    """The values of a cursor made by ``encode_cursor``, checked against ``types``; else 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != len(types)
        or not all(isinstance(v, t) for v, t in zip(values, types, strict=True))
    ):
        raise invalid_cursor()
    return values
