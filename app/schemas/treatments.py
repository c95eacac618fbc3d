"""Treatment series (e.g. a ketamine infusion series) and their sessions.

The same body rules as the diary: unknown and read-only fields are 422, timestamps need an offset
and may not lie in the future beyond the diary's clock skew, numbers are strict. Checks that need
the stored state or the patient (the dose cross-check, duplicate adverse effects, vitals that
contradict each other) run in ``app.services.treatments.sessions`` so the 422 can name the field.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, StrictBool, field_validator

from app.schemas.common import NO_NUL, OffsetDatetime, Schema, UTCDatetime, not_nullable
from app.schemas.diary import (
    STARTED_AT_IN,
    STARTED_AT_OUT,
    CalendarDate,
    Note,
    PastTimestamp,
    Score,
    ShortText,
    reject_null,
)
from app.vocabulary import (
    ADVERSE_EFFECTS,
    MAX_DOSE_MG,
    MAX_DOSE_MG_PER_KG,
    MODALITIES,
    PLANNED_START_MAX,
    PLANNED_START_MIN,
    PROTOCOL_MAX,
    ROUTES,
    SEVERITIES,
    Effect,
    Modality,
    Route,
    Severity,
)

SessionFlag = Literal[
    "incomplete", "dose_unverified", "hypertension_reading", "dose_rate_above_usual", "high_dose"
]
RecorderRole = Literal["patient", "clinician", "admin", "partner"]
# The database CHECKs are built from the model tuples; keep both in step.
assert get_args(Modality) == MODALITIES
assert get_args(Route) == ROUTES
assert get_args(Effect) == ADVERSE_EFFECTS
assert get_args(Severity) == SEVERITIES

BaselineDays = Annotated[int, Field(ge=7, le=90, strict=True)]
FollowUpDays = Annotated[int, Field(ge=28, le=364, strict=True)]
PlannedSessions = Annotated[int, Field(ge=1, le=100, strict=True)]
Protocol = Annotated[str, Field(max_length=PROTOCOL_MAX, pattern=NO_NUL)]
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


def _planned_start_in_range(value: dt.date) -> dt.date:
    if not PLANNED_START_MIN <= value <= PLANNED_START_MAX:
        raise ValueError(
            f"must lie between {PLANNED_START_MIN.isoformat()} and {PLANNED_START_MAX.isoformat()}"
        )
    return value


PlannedStart = Annotated[
    CalendarDate,
    AfterValidator(_planned_start_in_range),
    Field(
        description="The day the first session is planned for (YYYY-MM-DD, 1900-01-01 to "
        "2199-12-31), so the app can follow the baseline before it (readiness). Optional; "
        "null: not planned ahead.",
        examples=["2026-04-13"],
    ),
]
NewCourse = Annotated[
    StrictBool,
    Field(
        description="Course override. true: this series starts a new course; false: it "
        "continues the course of the series before it (a booster); null (default): a series "
        "starting more than 182 days after the end of the one before starts a new course.",
        examples=[False],
    ),
]

# --- series -----------------------------------------------------------------------------------


class SeriesIn(Schema):
    """POST (the id is optional: offline clients pick their own) and PUT body."""

    id: uuid.UUID | None = None
    name: ShortText
    modality: Modality
    protocol: Protocol | None = None
    planned_sessions: PlannedSessions | None = None
    planned_start: PlannedStart | None = None
    new_course: NewCourse | None = None
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
                    "planned_start": "2026-04-13",
                },
                {
                    "name": "Ketamine IV booster, autumn 2026",
                    "modality": "ketamine_iv",
                    "planned_sessions": 2,
                    "new_course": False,
                },
            ]
        }
    }


_SERIES_NOT_NULL = ("name", "modality", "baseline_days", "follow_up_days")


class SeriesPatch(Schema):
    """Only the fields sent change; null clears protocol, planned_sessions, planned_start and
    new_course."""

    name: ShortText | None = None
    modality: Modality | None = None
    protocol: Protocol | None = None
    planned_sessions: PlannedSessions | None = None
    planned_start: PlannedStart | None = None
    new_course: NewCourse | None = None
    baseline_days: BaselineDays | None = None
    follow_up_days: FollowUpDays | None = None

    _not_null = field_validator(*_SERIES_NOT_NULL, mode="before")(reject_null)

    model_config = Schema.model_config | {
        "json_schema_extra": not_nullable(
            *_SERIES_NOT_NULL,
            examples=[
                {"planned_sessions": 6, "follow_up_days": 112},
                {"planned_start": "2026-04-20", "new_course": True},
            ],
        )
    }


class SeriesOut(Schema):
    id: uuid.UUID
    name: str
    modality: Modality
    protocol: str | None
    planned_sessions: int | None
    planned_start: dt.date | None = Field(
        description="The day the first session is planned for; null: not planned ahead."
    )
    new_course: bool | None = Field(
        description="Course override: true starts a new course, false continues the one "
        "before, null lets the 182-day rule decide."
    )
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


HIGH_DOSE_CONFIRMED = (
    "Dose safety: an iv session above 2.0 mg/kg/h (dose_mg_per_kg ÷ (duration_minutes / 60)), "
    "or any session above 5 mg/kg in total, is a 422 naming the figures unless this is true "
    "(then stored, flagged `high_dose` and audited as a confirmed high dose). Above 1.0 mg/kg/h "
    "iv the session is flagged `dose_rate_above_usual`. A PATCH that changes the dose, the "
    "duration or the route confirms again (else this becomes false)."
)


class SessionIn(Schema):
    """POST (optional client id) and PUT body. The series is the one in the path; a body may
    repeat ``series_id`` and ``id`` only if they are equal to the path's."""

    id: uuid.UUID | None = None
    series_id: uuid.UUID | None = None
    started_at: PastTimestamp = Field(description=STARTED_AT_IN)
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
    high_dose_confirmed: StrictBool = Field(default=False, description=HIGH_DOSE_CONFIRMED)

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


_SESSION_NOT_NULL = (
    "started_at",
    "duration_minutes",
    "route",
    "adverse_effects",
    "completed",
    "high_dose_confirmed",
)


class SessionPatch(Schema):
    """Only the fields sent change. Sending one dose form alone re-derives the other from the
    patient's weight (or clears it when the weight is unknown), as a PUT would."""

    started_at: PastTimestamp | None = Field(default=None, description=STARTED_AT_IN)
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
    high_dose_confirmed: StrictBool | None = Field(default=None, description=HIGH_DOSE_CONFIRMED)

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
    started_at: OffsetDatetime = Field(description=STARTED_AT_OUT)
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
    high_dose_confirmed: bool = Field(
        description="The writer confirmed a dose above the safety thresholds (see SessionIn)."
    )
    recorded_by: uuid.UUID = Field(
        description="Set by the server: the user (or partner client) whose write produced the "
        "current state."
    )
    recorded_by_role: RecorderRole
    flags: list[SessionFlag] = Field(
        description="Computed: `incomplete` (completed is false); `dose_unverified` (both dose "
        "forms were given but no weight was known to cross-check them); "
        "`hypertension_reading` (systolic_max ≥ 180 or diastolic_max ≥ 110 mmHg); "
        "`dose_rate_above_usual` (an iv session whose dose_mg_per_kg ÷ (duration_minutes / 60) "
        "is above 1.0 mg/kg/h); `high_dose` (above 2.0 mg/kg/h iv, or above 5 mg/kg in total: "
        "stored only with high_dose_confirmed)."
    )
    version: int
    created_at: UTCDatetime
    updated_at: UTCDatetime
