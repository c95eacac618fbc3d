"""Calendar dates in the patient's zone, and the "not in the future" rule for dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from app.db import utcnow
from app.errors import ValidationFailed
from app.schemas.diary import CLOCK_SKEW


def local_today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """The patient's calendar date, allowing the same clock skew as timestamps."""
    return ((now or utcnow()) + CLOCK_SKEW).astimezone(ZoneInfo(timezone)).date()


def not_after_today(value: dt.date | None, timezone: str, loc: Sequence[str | int]) -> None:
    if value is not None and value > local_today(timezone):
        raise ValidationFailed(loc, "must not be after today (in the patient's time zone)")
