"""Diary I/O: episodes, check-ins, medications, the batch upload and the change feed.

Rules shared by every diary body: timestamps need an offset (``AwareDatetime``, naive → 422), are
text (a number is no timestamp) and plausible: not before 2000-01-01 and not ahead of the
server clock by more than ``CLOCK_SKEW``; unknown and read-only fields are 422
(``Schema`` forbids extras); lists of enum values may not repeat and come back in the
contract's order.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from app.schemas.common import NO_NUL, OffsetDatetime, Schema, UTCDatetime, not_nullable
from app.trends.days import CLOCK_SKEW, utcnow
from app.vocabulary import (
    BRANCHES,
    MAX_DOSE_MG_PER_DAY,
    NAME_MAX,
    NOTE_MAX,
    QUALITIES,
    TRIGGERS,
    Bni,
    Branch,
    Quality,
    Side,
    Trigger,
)

MAX_BATCH_ITEMS = 500


# No diary entry predates this: an earlier value is a typo or a clock reset to the epoch (a
# phone that lost its time writes 1970-01-01), not an attack someone lived through.
# Compared with the time as written (its local day), so 2000-01-01T00:30:00+01:00 is in.
EARLIEST = dt.datetime(2000, 1, 1)


# Real UTC offsets lie within ±14:00 (Kiribati +14:00 is the furthest east, -12:00 the west).
MAX_OFFSET = dt.timedelta(hours=14)
_TIMESTAMP_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")


def timestamp_text(value: object) -> object:
    """An RFC 3339 text, never a number: epoch seconds carry no offset, so no local day."""
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _TIMESTAMP_TEXT.match(value):
        raise ValueError(
            "must be an RFC 3339 timestamp with an offset, e.g. 2026-03-01T08:15:00+01:00"
        )
    return value


def not_in_future(value: dt.datetime) -> dt.datetime:
    """Plausible: from 2000-01-01 (UTC) up to ``CLOCK_SKEW`` ahead of the server clock."""
    if value > utcnow() + CLOCK_SKEW:
        minutes = int(CLOCK_SKEW.total_seconds() // 60)
        raise ValueError(
            f"must not be in the future (more than {minutes} minutes ahead of the server clock)"
        )
    if value.replace(tzinfo=None) < EARLIEST:
        raise ValueError("must not be before 2000-01-01")
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValueError("the UTC offset must lie between -14:00 and +14:00")
    return value


# The offset written is kept with episodes and sessions: it decides their local day.
PastTimestamp = Annotated[
    AwareDatetime, BeforeValidator(timestamp_text), AfterValidator(not_in_future)
]


def date_text(value: object) -> object:
    """A calendar date as ``YYYY-MM-DD`` text, never a number (``5`` is no day)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


# For new date fields: lax ``date`` would read 0 as 1970-01-01.
CalendarDate = Annotated[dt.date, BeforeValidator(date_text)]
# Numbers in bodies are strict: ``true`` or ``"7"`` for a pain score is a client bug to report,
# not to coerce. (Query strings are text, so query parameters use the lax forms.)
Intensity = Annotated[int, Field(ge=1, le=10, strict=True)]
IntensityQuery = Annotated[int, Field(ge=1, le=10)]
Score = Annotated[int, Field(ge=0, le=10, strict=True)]
DurationSeconds = Annotated[int, Field(gt=0, le=86400, strict=True)]
AttackCount = Annotated[int, Field(ge=1, le=1000, strict=True)]
SleepHours = Annotated[float, Field(ge=0, le=24, strict=True)]
DosePerDay = Annotated[float, Field(gt=0, le=MAX_DOSE_MG_PER_DAY, strict=True)]
Note = Annotated[str, Field(max_length=NOTE_MAX, pattern=NO_NUL)]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX, pattern=NO_NUL),
]


def canonical(values: list[str] | None, order: tuple[str, ...]) -> list[str] | None:
    """No repeats; the contract's order, so an identical PUT compares equal."""
    if values is None:
        return None
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a value")
    return sorted(values, key=order.index)


def reject_null(value: object) -> object:
    """PATCH: an omitted field stays as it is, but ``null`` cannot clear a required one."""
    if value is None:
        raise ValueError("may not be null")
    return value


# --- episodes ---------------------------------------------------------------------------------


STARTED_AT_IN = (
    "RFC 3339 with the UTC offset of the place the patient was (e.g. "
    "2026-03-01T08:15:00+01:00; the offset within ±14:00, never epoch seconds or another "
    "number). Plausible: not before 2000-01-01 and at most 10 minutes ahead of the server "
    "clock (else 422). The offset is kept: the date there is the record's local day, and "
    "started_at is returned in it."
)
STARTED_AT_OUT = (
    "In the UTC offset it was written with (e.g. 2026-03-01T08:15:00+01:00; Z for +00:00): its "
    "date there is the record's local day, which a later change of the patient's timezone does "
    "not move. Records written before the offset was kept carry the offset of the patient's "
    "zone at that instant."
)


class EpisodeBody(Schema):
    started_at: PastTimestamp = Field(description=STARTED_AT_IN)
    duration_seconds: DurationSeconds
    attack_count: AttackCount = 1
    intensity: Intensity
    side: Side | None = None
    branches: list[Branch] = Field(default_factory=list)
    qualities: list[Quality] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)
    rescue_medication: ShortText | None = None
    note: Note | None = None

    @field_validator("branches")
    @classmethod
    def _branches(cls, value: list[str]) -> list[str] | None:
        return canonical(value, BRANCHES)

    @field_validator("qualities")
    @classmethod
    def _qualities(cls, value: list[str]) -> list[str] | None:
        return canonical(value, QUALITIES)

    @field_validator("triggers")
    @classmethod
    def _triggers(cls, value: list[str]) -> list[str] | None:
        return canonical(value, TRIGGERS)

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "started_at": "2026-03-01T08:15:00+01:00",
                    "duration_seconds": 90,
                    "attack_count": 12,
                    "intensity": 8,
                    "side": "right",
                    "branches": ["V2"],
                    "qualities": ["electric"],
                    "triggers": ["eating", "chewing"],
                }
            ]
        }
    }


class EpisodeIn(EpisodeBody):
    """PUT body: the id is in the path; if the body repeats it, the two must be equal."""

    id: uuid.UUID | None = None


class BatchEpisode(EpisodeBody):
    id: uuid.UUID


_EPISODE_NOT_NULL = (
    "started_at",
    "duration_seconds",
    "attack_count",
    "intensity",
    "branches",
    "qualities",
    "triggers",
)


class EpisodePatch(Schema):
    """Only the fields sent change; null clears side, rescue_medication and note."""

    started_at: PastTimestamp | None = Field(default=None, description=STARTED_AT_IN)
    duration_seconds: DurationSeconds | None = None
    attack_count: AttackCount | None = None
    intensity: Intensity | None = None
    side: Side | None = None
    branches: list[Branch] | None = None
    qualities: list[Quality] | None = None
    triggers: list[Trigger] | None = None
    rescue_medication: ShortText | None = None
    note: Note | None = None

    _not_null = field_validator(*_EPISODE_NOT_NULL, mode="before")(reject_null)

    @field_validator("branches")
    @classmethod
    def _branches(cls, value: list[str] | None) -> list[str] | None:
        return canonical(value, BRANCHES)

    @field_validator("qualities")
    @classmethod
    def _qualities(cls, value: list[str] | None) -> list[str] | None:
        return canonical(value, QUALITIES)

    @field_validator("triggers")
    @classmethod
    def _triggers(cls, value: list[str] | None) -> list[str] | None:
        return canonical(value, TRIGGERS)

    model_config = Schema.model_config | {
        "json_schema_extra": not_nullable(
            *_EPISODE_NOT_NULL, examples=[{"intensity": 6, "note": "Eased after 10 minutes"}]
        )
    }


class EpisodeOut(Schema):
    id: uuid.UUID
    started_at: OffsetDatetime = Field(description=STARTED_AT_OUT)
    duration_seconds: int
    attack_count: int
    intensity: int
    side: Side | None
    branches: list[Branch]
    qualities: list[Quality]
    triggers: list[Trigger]
    rescue_medication: str | None
    note: str | None
    version: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


# --- batch upload -----------------------------------------------------------------------------


BATCH_ITEM_REF = "#/components/schemas/BatchEpisode"
_BATCH_EXAMPLES: list[dict[str, Any]] = [
    {
        "items": [
            {
                "id": "0b7e9b2c-4f1e-4c8a-9d3b-6a2f1e5c7d90",
                "started_at": "2026-03-01T08:15:00+01:00",
                "duration_seconds": 90,
                "attack_count": 12,
                "intensity": 8,
                "triggers": ["eating"],
            },
            {
                "id": "5d1c3a7e-2b9f-4e6d-8c1a-3f7b9e2d4a61",
                "started_at": "2026-03-01T19:40:00+01:00",
                "duration_seconds": 30,
                "intensity": 5,
                "triggers": ["talking"],
            },
        ]
    }
]


def _batch_schema(schema: dict[str, Any]) -> None:
    # Documented as what each item must be (generated clients get the typed episode model);
    # read raw, so that each item is validated on its own and one bad item cannot fail the rest.
    schema["properties"]["items"]["items"] = {"$ref": BATCH_ITEM_REF}
    schema["examples"] = _BATCH_EXAMPLES


class BatchIn(Schema):
    items: list[Any] = Field(
        max_length=MAX_BATCH_ITEMS,
        description="Episodes, each with its client id (like a PUT body); validated one by one: "
        "an item that is not a valid episode is reported `invalid`, the others are still stored.",
    )

    model_config = Schema.model_config | {"json_schema_extra": _batch_schema}


class ItemError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class BatchError(BaseModel):
    detail: str
    errors: list[ItemError] = Field(default_factory=list)


class BatchResult(BaseModel):
    id: uuid.UUID | None
    status: Literal["created", "updated", "unchanged", "invalid", "conflict"]
    version: int | None = None
    error: BatchError | None = None


class BatchOut(BaseModel):
    results: list[BatchResult]


# --- check-ins --------------------------------------------------------------------------------


class CheckinIn(Schema):
    """PUT body; the date is in the path (repeating it in the body is allowed if equal)."""

    date: dt.date | None = None
    no_attacks: Annotated[bool, Field(strict=True)] = Field(
        description="Required (an empty check-in says nothing). true: no attack on this day; "
        "a 409 if the day has a live episode. An episode written on the day later sets it "
        "to false (the check-in's version rises)."
    )
    background_pain: Score | None = None
    bni: Bni | None = None
    mood: Score | None = None
    sleep_hours: SleepHours | None = None
    note: Note | None = None

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [{"no_attacks": True, "background_pain": 2, "bni": "IIIa", "mood": 6}]
        }
    }


class CheckinOut(Schema):
    date: dt.date
    no_attacks: bool
    background_pain: int | None
    bni: Bni | None
    mood: int | None
    sleep_hours: float | None
    note: str | None
    version: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


# --- medications ------------------------------------------------------------------------------


DOSE_CHANGED_ON = (
    "The day a new dose_mg_per_day took effect (default: the patient's local today). Not before "
    "started_on, not after today or stopped_on. The dose history gains {from: dose_changed_on, "
    "mg_per_day}, replacing every entry from that day on. Sent with an unchanged dose it re-dates "
    "the current dose (an earlier day moves the change earlier). On create the history is the "
    "dose from started_on."
)


class MedicationBody(Schema):
    """The fields a client writes (the export document's too)."""

    name: ShortText
    dose_mg_per_day: DosePerDay
    started_on: dt.date
    stopped_on: dt.date | None = None


class MedicationIn(MedicationBody):
    """POST (the id is optional: offline clients pick their own) and PUT body."""

    id: uuid.UUID | None = None
    dose_changed_on: CalendarDate | None = Field(default=None, description=DOSE_CHANGED_ON)

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {"name": "carbamazepine", "dose_mg_per_day": 600, "started_on": "2025-11-01"},
                {
                    "name": "carbamazepine",
                    "dose_mg_per_day": 800,
                    "started_on": "2025-11-01",
                    "dose_changed_on": "2026-02-10",
                },
            ]
        }
    }


_MEDICATION_NOT_NULL = ("name", "dose_mg_per_day", "started_on", "dose_changed_on")


class MedicationPatch(Schema):
    """Only the fields sent change; ``stopped_on: null`` means the patient takes it again."""

    name: ShortText | None = None
    dose_mg_per_day: DosePerDay | None = None
    started_on: dt.date | None = None
    # null: the patient still takes it.
    stopped_on: dt.date | None = None
    dose_changed_on: CalendarDate | None = Field(default=None, description=DOSE_CHANGED_ON)

    _not_null = field_validator(*_MEDICATION_NOT_NULL, mode="before")(reject_null)

    model_config = Schema.model_config | {
        "json_schema_extra": not_nullable(
            *_MEDICATION_NOT_NULL,
            examples=[
                {"dose_mg_per_day": 800, "dose_changed_on": "2026-02-10"},
                {"stopped_on": "2026-03-01"},
            ],
        )
    }


class DoseEntry(BaseModel):
    """One step of a medication's dose history."""

    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    from_: CalendarDate = Field(
        alias="from", description="From this day on (until the next entry, or stopped_on)"
    )
    mg_per_day: DosePerDay = Field(description="The dose taken per day, in mg")


class MedicationOut(Schema):
    id: uuid.UUID
    name: str
    dose_mg_per_day: float
    started_on: dt.date
    stopped_on: dt.date | None
    doses: list[DoseEntry] = Field(
        description="The dose history, kept by the server, oldest first: the first entry is "
        "from started_on, each later one from the day its dose took effect "
        "(dose_changed_on); the last one's mg_per_day is dose_mg_per_day.",
        examples=[
            [{"from": "2025-11-01", "mg_per_day": 600}, {"from": "2026-02-10", "mg_per_day": 800}]
        ],
    )
    version: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


# --- change feed ------------------------------------------------------------------------------

ChangeKind = Literal["episode", "checkin", "medication", "assessment", "series", "session"]


class ChangeOut(BaseModel):
    kind: ChangeKind
    # The record's id; for a check-in, its date (YYYY-MM-DD), which is how clients address it.
    id: str
    deleted: bool
    version: int
    data: dict[str, Any] | None = Field(
        description="The record as its own GET returns it; null for a deletion."
    )


class ChangesOut(BaseModel):
    changes: list[ChangeOut]
    next_cursor: str = Field(description="Never null: poll again from here.")
    has_more: bool
