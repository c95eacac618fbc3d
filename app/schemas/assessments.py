"""Validated questionnaires (PHQ-9, GAD-7, Penn-FPS-R, PGIC, CADSS-6).

The item count and range depend on the instrument, so they are checked after parsing
(``app.services.diary.assessments.check_items``) where the error can name the item's index.
"""

from __future__ import annotations

import uuid

from pydantic import Field, StrictInt

from app.schemas.common import Schema, UTCDatetime
from app.schemas.diary import PastTimestamp
from app.vocabulary import Instrument

# Far above any instrument's count: only so a huge list is cheap to refuse.
MAX_ITEMS = 100


class AssessmentIn(Schema):
    """PUT body; the id is in the path (repeating it here is allowed if equal)."""

    id: uuid.UUID | None = None
    instrument: Instrument
    taken_at: PastTimestamp
    # Strict: ``true`` or ``"2"`` is not an answer to a questionnaire item.
    items: list[StrictInt] = Field(max_length=MAX_ITEMS)
    series_id: uuid.UUID | None = None

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "instrument": "gad7",
                    "taken_at": "2026-03-01T20:00:00+01:00",
                    "items": [1, 0, 2, 1, 0, 1, 0],
                }
            ]
        }
    }


class AssessmentOut(Schema):
    id: uuid.UUID
    instrument: Instrument
    taken_at: UTCDatetime
    items: list[int]
    total: int = Field(description="Sum of the items, computed by the server.")
    series_id: uuid.UUID | None
    version: int
    created_at: UTCDatetime
    updated_at: UTCDatetime
