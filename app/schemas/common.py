"""Shared schema base and constrained types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)

from app.trends.days import utc_text


class Schema(BaseModel):
    """Input and output base: unknown fields are errors, ORM rows convert directly."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


# Every timestamp leaves the API in UTC with a "Z".
# Documented as what it is on the wire (a serializer alone would make it a bare string, and a
# generated client would hand partners text instead of a datetime).
_SENT_AS_DATE_TIME = WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")
UTCDatetime = Annotated[
    datetime,
    PlainSerializer(utc_text, return_type=str, when_used="json"),
    _SENT_AS_DATE_TIME,
]


def _with_offset(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# An episode's or session's started_at leaves the API in the UTC offset it was written with
# ("2026-03-01T08:15:00+01:00"; "Z" for a zero offset): the local time the patient lived.
OffsetDatetime = Annotated[
    datetime,
    PlainSerializer(_with_offset, return_type=str, when_used="json"),
    _SENT_AS_DATE_TIME,
]


_ZONES: frozenset[str] | None = None


def _check_timezone(value: str) -> str:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    if value not in _ZONES:
        raise ValueError("must be an IANA time zone name such as 'Europe/Berlin'")
    ZoneInfo(value)
    return value


# Every IANA name this server knows, as the documented pattern: a client (and the fuzzer) can
# tell a valid zone from the schema alone. A pattern rather than an enum: generated clients
# would have to name 599 members ("Etc/GMT+1" and "Etc/GMT-1" alike), a pattern stays a string.
TIME_ZONE_PATTERN = (
    "^(?:" + "|".join(name.replace("+", "\\+") for name in sorted(available_timezones())) + ")$"
)
TimeZoneName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        json_schema_extra={"pattern": TIME_ZONE_PATTERN, "examples": ["Europe/Berlin"]},
    ),
    AfterValidator(_check_timezone),
]
# Text never holds NUL: PostgreSQL cannot store it and SQLite's length() stops at it; the
# pattern says so in the document, so a schema-valid text is always storable.
NO_NUL = "^[^\\x00]*$"
DisplayName = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
Password = Annotated[str, Field(min_length=10, max_length=1024)]
Limit = Annotated[int, Field(ge=1, le=500)]


def not_nullable(
    *fields: str, examples: list[dict[str, Any]] | None = None
) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` for PATCH bodies whose fields may be left out but not set to null:
    the Python type is ``X | None`` (None = "not sent"), the documented type is just X."""

    def tweak(schema: dict[str, Any]) -> None:
        properties = schema.get("properties", {})
        for name in fields:
            prop = properties.get(name, {})
            branches = [b for b in prop.get("anyOf", []) if b != {"type": "null"}]
            if len(branches) == 1 and "anyOf" in prop:
                del prop["anyOf"]
                prop.update(branches[0])
            elif branches:
                prop["anyOf"] = branches
            prop.pop("default", None)
        if examples:
            schema["examples"] = examples

    return tweak


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
