"""The ``cursor`` query parameter of every list, documented with the list's own pattern."""

from __future__ import annotations

from typing import Any

from fastapi import Query

from app.services.sync.listing import Keyset

CURSOR = "The next_cursor of the previous page; omit for the first page"


def cursor_query(keyset: Keyset, description: str = CURSOR) -> Any:
    """``Query`` for a list's cursor: any string of the list's pattern is accepted (a position
    in the list), anything else is a 422, and the OpenAPI document says which is which."""
    # A name in the sort key (the cohort's) takes up to 2 000 hex digits; numbers and ids fit 128.
    longest = 2_200 if "text" in keyset.kinds else 128
    return Query(pattern=keyset.pattern, max_length=longest, description=description)
