"""The "not after the patient's today" rule for dates (the days themselves: app/trends/days.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from app.errors import ValidationFailed
from app.trends.days import local_today


def not_after_today(value: dt.date | None, timezone: str, loc: Sequence[str | int]) -> None:
    if value is not None and value > local_today(timezone):
        raise ValidationFailed(loc, "must not be after today (in the patient's time zone)")
