"""Patient profile and diagnosis."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from app.schemas.common import DisplayName, Schema, TimeZoneName, not_nullable
from app.vocabulary import Branch, Side

Ichd3Type = Literal["classical", "secondary", "idiopathic", "unknown"]
WeightKg = Annotated[float, Field(gt=0, le=500, strict=True)]
BirthYear = Annotated[int, Field(ge=1900, le=2100, strict=True)]
# Documents what _unique_branches enforces.
UNIQUE: dict[str, JsonValue] = {"uniqueItems": True}


def _unique_branches(value: list[Branch] | None) -> list[Branch] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("branches must not repeat")
    return sorted(value) if value is not None else None


class Diagnosis(Schema):
    ichd3_type: Ichd3Type = "unknown"
    side: Side | None = None
    branches: list[Branch] = Field(default_factory=list, max_length=3, json_schema_extra=UNIQUE)
    concomitant_continuous_pain: bool = False
    diagnosed_on: date | None = None

    _branches = field_validator("branches")(_unique_branches)


def _reject_nulls(data: object, fields: tuple[str, ...]) -> object:
    if isinstance(data, dict):
        for name in fields:
            if name in data and data[name] is None:
                raise ValueError(f"{name} cannot be null")
    return data


_DIAGNOSIS_NOT_NULL = ("ichd3_type", "branches", "concomitant_continuous_pain")
_PATIENT_NOT_NULL = ("display_name", "timezone", "diagnosis")


class DiagnosisPatch(Schema):
    ichd3_type: Ichd3Type | None = None
    side: Side | None = None
    branches: list[Branch] | None = Field(default=None, max_length=3, json_schema_extra=UNIQUE)
    concomitant_continuous_pain: bool | None = None
    diagnosed_on: date | None = None

    _branches = field_validator("branches")(_unique_branches)

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: object) -> object:
        return _reject_nulls(data, _DIAGNOSIS_NOT_NULL)

    model_config = Schema.model_config | {"json_schema_extra": not_nullable(*_DIAGNOSIS_NOT_NULL)}


class PatientOut(Schema):
    id: uuid.UUID
    display_name: str
    timezone: str
    birth_year: int | None
    weight_kg: float | None
    diagnosis: Diagnosis
    version: int


class PatientPatch(Schema):
    display_name: DisplayName | None = None
    timezone: TimeZoneName | None = None
    birth_year: BirthYear | None = None
    weight_kg: WeightKg | None = None
    diagnosis: DiagnosisPatch | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: object) -> object:
        return _reject_nulls(data, _PATIENT_NOT_NULL)

    model_config = Schema.model_config | {
        "json_schema_extra": not_nullable(
            *_PATIENT_NOT_NULL,
            examples=[
                {
                    "weight_kg": 72.5,
                    "diagnosis": {"ichd3_type": "classical", "side": "right", "branches": ["V2"]},
                }
            ],
        )
    }
