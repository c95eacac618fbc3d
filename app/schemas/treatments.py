"""Treatment series (e.g. a ketamine infusion series) and their sessions.

The same body rules as the diary: unknown and read-only fields are 422, timestamps need an offset
and may not lie in the future beyond the diary's clock skew, numbers are strict. Checks that need
the stored state or the patient (the dose cross-check, duplicate adverse effects, vitals that
contradict each other) run in ``app.services.treatments.sessions`` so the 422 can name the field.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, get_args

from pydantic import Field, StrictBool, field_validator

from app.schemas.common import Schema, UTCDatetime, not_nullable
from app.schemas.diary import Note, PastTimestamp, Score, ShortText, reject_null
from app.vocabulary import (
    ADVERSE_EFFECTS,
    MAX_DOSE_MG,
    MAX_DOSE_MG_PER_KG,
    MODALITIES,
    PROTOCOL_MAX,
    ROUTES,
    SEVERITIES,
    Effect,
    Modality,
    Route,
    Severity,
)

SessionFlag = Literal["incomplete", "dose_unverified", "hypertension_reading"]
RecorderRole = Literal["patient", "clinician", "admin", "partner"]
# The database CHECKs are built from the model tuples; keep both in step.
assert get_args(Modality) == MODALITIES
assert get_args(Route) == ROUTES
assert get_args(Effect) == ADVERSE_EFFECTS
assert get_args(Severity) == SEVERITIES

BaselineDays = Annotated[int, Field(ge=7, le=90, strict=True)]
FollowUpDays = Annotated[int, Field(ge=28, le=364, strict=True)]
PlannedSessions = Annotated[int, Field(ge=1, le=100, strict=True)]
Protocol = Annotated[str, Field(max_length=PROTOCOL_MAX)]
DurationMinutes = Annotated[int, Field(gt=0, le=1440, strict=True)]
DoseMg = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_DOSE_MG,
        strict=True,
        description=(
            "Total dose in mg. Omitted while dose_mg_per_kg is given and the patient's weight is "
            "known: derived as dose_mg_per_kg * weight, rounded half up to 0.1 mg."
        ),
    ),
]
DoseMgPerKg = Annotated[
    float,
    Field(
        gt=0,
        le=MAX_DOSE_MG_PER_KG,
        strict=True,
        description=(
            "Dose in mg per kg of body weight. Omitted while dose_mg is given and the patient's "
            "weight is known: derived as dose_mg / weight, rounded half up to 0.001 mg/kg. When "
            "both are given and the weight is known, dose_mg must lie within 5 % of "
            "dose_mg_per_kg * weight, else 422 naming dose_mg_per_kg."
        ),
    ),
]
Systolic = Annotated[int, Field(ge=50, le=300, strict=True, description="mmHg")]
Diastolic = Annotated[int, Field(ge=20, le=200, strict=True, description="mmHg")]
HeartRate = Annotated[int, Field(ge=20, le=250, strict=True, description="beats per minute")]
Spo2 = Annotated[int, Field(ge=50, le=100, strict=True, description="%")]
MAX_ADVERSE_EFFECTS = len(ADVERSE_EFFECTS)

# --- series -----------------------------------------------------------------------------------


class SeriesIn(Schema):
    """POST (the id is optional: offline clients pick their own) and PUT body."""

    id: uuid.UUID | None = None
    name: ShortText
    modality: Modality
    protocol: Protocol | None = None
    planned_sessions: PlannedSessions | None = None
    baseline_days: BaselineDays = 28
    follow_up_days: FollowUpDays = 84

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "Ketamine IV, spring 2026",
                    "modality": "ketamine_iv",
                    "protocol": "0.5 mg/kg over 40 min on 5 consecutive days",
                    "planned_sessions": 5,
                }
            ]
        }
    }


_SERIES_NOT_NULL = ("name", "modality", "baseline_days", "follow_up_days")


class SeriesPatch(Schema):
    name: ShortText | None = None
    modality: Modality | None = None
    protocol: Protocol | None = None
    planned_sessions: PlannedSessions | None = None
    baseline_days: BaselineDays | None = None
    follow_up_days: FollowUpDays | None = None

    _not_null = field_validator(*_SERIES_NOT_NULL, mode="before")(reject_null)

    model_config = Schema.model_config | {
        "json_schema_extra": not_nullable(
            *_SERIES_NOT_NULL, examples=[{"planned_sessions": 6, "follow_up_days": 112}]
        )
    }


class SeriesOut(Schema):
    id: uuid.UUID
    name: str
    modality: Modality
    protocol: str | None
    planned_sessions: int | None
    baseline_days: int
    follow_up_days: int
    version: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


# --- sessions ---------------------------------------------------------------------------------


class Vitals(Schema):
    """Extremes during the session. In a PATCH only the members sent change; ``vitals: null``
    clears them all."""

    systolic_max: Systolic | None = None
    diastolic_max: Diastolic | None = None
    heart_rate_max: HeartRate | None = None
    spo2_min: Spo2 | None = None


class AdverseEffect(Schema):
    effect: Effect
    severity: Severity


AdverseEffects = Annotated[
    list[AdverseEffect],
    Field(
        max_length=MAX_ADVERSE_EFFECTS,
        description="Each effect at most once; returned in the contract's order of effects.",
    ),
]


class SessionIn(Schema):
    """POST (optional client id) and PUT body. The series is the one in the path; a body may
    repeat ``series_id`` and ``id`` only if they are equal to the path's."""

    id: uuid.UUID | None = None
    series_id: uuid.UUID | None = None
    started_at: PastTimestamp
    duration_minutes: DurationMinutes
    route: Route
    dose_mg: DoseMg | None = None
    dose_mg_per_kg: DoseMgPerKg | None = None
    pain_before: Score | None = None
    pain_after: Score | None = None
    vitals: Vitals | None = None
    adverse_effects: AdverseEffects = Field(default_factory=list)
    completed: StrictBool = Field(
        default=True,
        description="false: stopped early or not given as planned. Stored and listed, and "
        "flagged `incomplete`; the trend counts only completed sessions.",
    )
    notes: Note | None = None

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "started_at": "2026-03-02T09:00:00+01:00",
                    "duration_minutes": 40,
                    "route": "iv",
                    "dose_mg_per_kg": 0.5,
                    "pain_before": 7,
                    "pain_after": 3,
                    "vitals": {"systolic_max": 152, "diastolic_max": 91, "spo2_min": 96},
                    "adverse_effects": [{"effect": "dissociation", "severity": "moderate"}],
                }
            ]
        }
    }


_SESSION_NOT_NULL = ("started_at", "duration_minutes", "route", "adverse_effects", "completed")


class SessionPatch(Schema):
    """Only the fields sent change. Sending one dose form alone re-derives the other from the
    patient's weight (or clears it when the weight is unknown), as a PUT would."""

    started_at: PastTimestamp | None = None
    duration_minutes: DurationMinutes | None = None
    route: Route | None = None
    dose_mg: DoseMg | None = None
    dose_mg_per_kg: DoseMgPerKg | None = None
    pain_before: Score | None = None
    pain_after: Score | None = None
    vitals: Vitals | None = None
    adverse_effects: AdverseEffects | None = None
    completed: StrictBool | None = None
    notes: Note | None = None

    _not_null = field_validator(*_SESSION_NOT_NULL, mode="before")(reject_null)

    model_config = Schema.model_config | {
        "json_schema_extra": not_nullable(
            *_SESSION_NOT_NULL,
            examples=[{"pain_after": 2, "vitals": {"heart_rate_max": 104}}],
        )
    }


class VitalsOut(Schema):
    systolic_max: int | None
    diastolic_max: int | None
    heart_rate_max: int | None
    spo2_min: int | None


class SessionOut(Schema):
    id: uuid.UUID
    series_id: uuid.UUID
    started_at: UTCDatetime
    duration_minutes: int
    route: Route
    dose_mg: float | None
    dose_mg_per_kg: float | None
    weight_kg: float | None = Field(
        description="The patient's weight used to derive or cross-check the doses; null when "
        "no weight was known (or no dose was given)."
    )
    pain_before: int | None
    pain_after: int | None
    vitals: VitalsOut | None = Field(description="null when no vital sign was recorded.")
    adverse_effects: list[AdverseEffect]
    completed: bool
    notes: str | None
    recorded_by: uuid.UUID = Field(
        description="Set by the server: the user (or partner client) whose write produced the "
        "current state."
    )
    recorded_by_role: RecorderRole
    flags: list[SessionFlag] = Field(
        description="Computed: `incomplete` (completed is false); `dose_unverified` (both dose "
        "forms were given but no weight was known to cross-check them); "
        "`hypertension_reading` (systolic_max ≥ 180 or diastolic_max ≥ 110 mmHg)."
    )
    version: int
    created_at: UTCDatetime
    updated_at: UTCDatetime
