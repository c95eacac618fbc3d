"""The personal data document of GET /me/export and POST /me/import.

One JSON object: a ``format``/``version`` marker, the account, the patient profile with its
diagnosis, every diary and treatment record (tombstones awaiting purge included, marked by
``deleted_at``: they are data we still hold), the grants the patient gave and the access log.
Records carry the fields their own API returns. The import side validates each record with the
same rules as the diary's write bodies, plus the bookkeeping fields an export carries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StrictBool, StrictInt

from app.schemas.assessments import AssessmentIn, AssessmentOut
from app.schemas.audit import AccessLogEntryOut
from app.schemas.common import (
    NO_NUL,
    DisplayName,
    OffsetDatetime,
    Schema,
    TimeZoneName,
    UTCDatetime,
)
from app.schemas.diary import (
    STARTED_AT_OUT,
    CheckinIn,
    CheckinOut,
    DoseEntry,
    EpisodeBody,
    EpisodeOut,
    MedicationBody,
    MedicationOut,
    PastTimestamp,
)
from app.schemas.grants import GrantOut
from app.schemas.patients import BirthYear, Diagnosis, WeightKg
from app.schemas.treatments import AdverseEffect, NewCourse, PlannedStart, SeriesOut, Vitals
from app.vocabulary import (
    MAX_DOSE_MG,
    MAX_DOSE_MG_PER_KG,
    NAME_MAX,
    NOTE_MAX,
    PROTOCOL_MAX,
    Modality,
    Route,
)

FORMAT = "paindiary-export"
# The treatment enums are the API's own (one definition, in schemas/treatments.py).
# Version 2: started_at of episodes and sessions in the offset it was written with (version 1
# wrote UTC; importing one, the patient's zone at each instant gives the offset), medications
# with their doses history, series with planned_start and new_course.
FORMAT_VERSION = 2

Role = Literal["patient", "clinician", "admin"]

# --- records as exported ----------------------------------------------------------------------


DeletedAt = Annotated[
    UTCDatetime | None,
    Field(description="Set on a deleted record the server still keeps (for sync, until purged)."),
]


class EpisodeRecord(EpisodeOut):
    deleted_at: DeletedAt = None


class CheckinRecord(CheckinOut):
    deleted_at: DeletedAt = None


class MedicationRecord(MedicationOut):
    deleted_at: DeletedAt = None


class AssessmentRecord(AssessmentOut):
    deleted_at: DeletedAt = None


class SeriesRecord(SeriesOut):
    deleted_at: DeletedAt = None


class SessionRecord(Schema):
    id: uuid.UUID
    series_id: uuid.UUID
    started_at: OffsetDatetime = Field(description=STARTED_AT_OUT)
    duration_minutes: int
    route: Route
    dose_mg: float | None
    dose_mg_per_kg: float | None
    weight_kg: float | None
    pain_before: int | None
    pain_after: int | None
    vitals: Vitals | None
    adverse_effects: list[AdverseEffect]
    completed: bool
    notes: str | None
    high_dose_confirmed: bool
    recorded_by: uuid.UUID
    recorded_by_role: str
    version: int
    created_at: UTCDatetime
    updated_at: UTCDatetime
    deleted_at: DeletedAt = None


class AccountRecord(Schema):
    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    created_at: UTCDatetime


class PatientRecord(Schema):
    id: uuid.UUID
    display_name: str
    timezone: str
    birth_year: int | None
    weight_kg: float | None
    diagnosis: Diagnosis
    version: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


class GrantReceived(Schema):
    """A clinician's view of the access patients gave them (no patient data beyond the id)."""

    id: uuid.UUID
    patient_id: uuid.UUID
    access: Literal["read", "write"]
    created_at: UTCDatetime
    expires_at: UTCDatetime | None
    revoked_at: UTCDatetime | None


class ExportDocument(Schema):
    """GET /me/export (documentation model: the body is streamed in exactly this shape)."""

    format: Literal["paindiary-export"]
    version: Literal[2]
    exported_at: UTCDatetime
    account: AccountRecord
    patient: PatientRecord | None = Field(description="null for clinicians and admins")
    episodes: list[EpisodeRecord]
    checkins: list[CheckinRecord]
    medications: list[MedicationRecord]
    assessments: list[AssessmentRecord]
    series: list[SeriesRecord]
    sessions: list[SessionRecord]
    grants: list[GrantOut] = Field(description="Access the patient gave (history included)")
    grants_received: list[GrantReceived] = Field(description="Clinicians: access given to you")
    access_log: list[AccessLogEntryOut] = Field(description="Who read or changed the diary")


# --- the import side --------------------------------------------------------------------------


class Stored(Schema):
    """Bookkeeping an exported record carries. Versions start again at 1 on import; the
    timestamps are kept (when something was logged is part of the diary), so they must be
    plausible: none in the future (beyond the clock skew) or before 1900, and ``deleted_at``
    not before ``created_at`` (checked by the import)."""

    version: Annotated[StrictInt, Field(ge=1)]
    created_at: PastTimestamp
    updated_at: PastTimestamp
    deleted_at: PastTimestamp | None = None


_NO_EXAMPLES = ConfigDict(json_schema_extra=None)


class EpisodeImport(EpisodeBody, Stored):
    model_config = _NO_EXAMPLES
    id: uuid.UUID


class CheckinImport(CheckinIn, Stored):
    model_config = _NO_EXAMPLES
    date: dt.date


class MedicationImport(MedicationBody, Stored):
    model_config = _NO_EXAMPLES
    id: uuid.UUID
    doses: list[DoseEntry] = Field(
        default_factory=list,
        max_length=10_000,
        description="The dose history as exported: oldest first, the first from started_on, "
        "all within the medication's life, the last one's dose dose_mg_per_day. Left out: the "
        "dose from started_on.",
    )


class AssessmentImport(AssessmentIn, Stored):
    model_config = _NO_EXAMPLES
    id: uuid.UUID
    total: StrictInt


class SeriesImport(Stored):
    id: uuid.UUID
    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=NO_NUL)]
    modality: Modality
    protocol: Annotated[str, Field(max_length=PROTOCOL_MAX, pattern=NO_NUL)] | None = None
    planned_sessions: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    planned_start: PlannedStart | None = None
    new_course: NewCourse | None = None
    baseline_days: Annotated[StrictInt, Field(ge=7, le=90)] = 28
    follow_up_days: Annotated[StrictInt, Field(ge=28, le=364)] = 84


class SessionImport(Stored):
    id: uuid.UUID
    series_id: uuid.UUID
    started_at: PastTimestamp
    duration_minutes: Annotated[StrictInt, Field(gt=0, le=1440)]
    route: Route
    dose_mg: Annotated[float, Field(gt=0, le=MAX_DOSE_MG, strict=True)] | None = None
    dose_mg_per_kg: Annotated[float, Field(gt=0, le=MAX_DOSE_MG_PER_KG, strict=True)] | None = None
    weight_kg: WeightKg | None = None
    pain_before: Annotated[StrictInt, Field(ge=0, le=10)] | None = None
    pain_after: Annotated[StrictInt, Field(ge=0, le=10)] | None = None
    vitals: Vitals | None = None
    adverse_effects: list[AdverseEffect] = Field(default_factory=list, max_length=12)
    completed: StrictBool = True
    notes: Annotated[str, Field(max_length=NOTE_MAX, pattern=NO_NUL)] | None = None
    # Documents written before the dose safety rule lack it: false (a high dose then is a 422).
    high_dose_confirmed: StrictBool = False
    recorded_by: uuid.UUID
    recorded_by_role: Literal["patient", "clinician"]


class PatientImport(Schema):
    id: uuid.UUID
    display_name: DisplayName
    timezone: TimeZoneName
    birth_year: BirthYear | None = None
    weight_kg: WeightKg | None = None
    diagnosis: Diagnosis
    version: int
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ImportDocument(Schema):
    """POST /me/import: a document from GET /me/export. The account, grants and access log are
    accepted but not imported: they belong to the old account. Version 1 documents (UTC
    timestamps) are still read: each started_at takes the offset of the document's patient
    zone at that instant."""

    format: Literal["paindiary-export"]
    version: Literal[1, 2]
    exported_at: AwareDatetime
    account: dict[str, Any] | None = None
    patient: PatientImport
    episodes: list[EpisodeImport] = Field(default_factory=list)
    checkins: list[CheckinImport] = Field(default_factory=list)
    medications: list[MedicationImport] = Field(default_factory=list)
    assessments: list[AssessmentImport] = Field(default_factory=list)
    series: list[SeriesImport] = Field(default_factory=list)
    sessions: list[SessionImport] = Field(default_factory=list)
    grants: list[Any] = Field(default_factory=list)
    grants_received: list[Any] = Field(default_factory=list)
    access_log: list[Any] = Field(default_factory=list)

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "format": FORMAT,
                    "version": FORMAT_VERSION,
                    "exported_at": "2026-03-02T09:00:00Z",
                    "patient": {
                        "id": "6f1c2a3e-0d7b-4f55-9a51-2b0c9f1e4a10",
                        "display_name": "Alex",
                        "timezone": "Europe/Berlin",
                        "birth_year": 1971,
                        "weight_kg": 72.5,
                        "diagnosis": {
                            "ichd3_type": "classical",
                            "side": "right",
                            "branches": ["V2"],
                            "concomitant_continuous_pain": False,
                            "diagnosed_on": "2019-05-14",
                        },
                        "version": 3,
                        "created_at": "2025-12-01T10:00:00Z",
                        "updated_at": "2026-01-10T10:00:00Z",
                    },
                    "episodes": [
                        {
                            "id": "0b6f3f52-3c1e-4a8e-9d1e-5b1f7d3c2a01",
                            "started_at": "2026-03-01T08:15:00+01:00",
                            "duration_seconds": 90,
                            "attack_count": 12,
                            "intensity": 8,
                            "side": "right",
                            "branches": ["V2"],
                            "qualities": ["electric"],
                            "triggers": ["eating", "chewing"],
                            "rescue_medication": None,
                            "note": None,
                            "version": 1,
                            "created_at": "2026-03-01T07:16:00Z",
                            "updated_at": "2026-03-01T07:16:00Z",
                            "deleted_at": None,
                        }
                    ],
                    "medications": [
                        {
                            "id": "3c2b1a09-8f7e-4d6c-b5a4-392817161514",
                            "name": "carbamazepine",
                            "dose_mg_per_day": 800,
                            "started_on": "2025-11-01",
                            "stopped_on": None,
                            "doses": [
                                {"from": "2025-11-01", "mg_per_day": 600},
                                {"from": "2026-02-10", "mg_per_day": 800},
                            ],
                            "version": 2,
                            "created_at": "2025-11-01T18:00:00Z",
                            "updated_at": "2026-02-12T19:30:00Z",
                            "deleted_at": None,
                        }
                    ],
                    "checkins": [
                        {
                            "date": "2026-03-01",
                            "no_attacks": False,
                            "background_pain": 2,
                            "bni": "IV",
                            "mood": 5,
                            "sleep_hours": 6.5,
                            "note": None,
                            "version": 1,
                            "created_at": "2026-03-01T21:00:00Z",
                            "updated_at": "2026-03-01T21:00:00Z",
                            "deleted_at": None,
                        }
                    ],
                }
            ]
        }
    }


class ImportResult(Schema):
    """How many records of each kind were imported (tombstones included)."""

    episodes: int
    checkins: int
    medications: int
    assessments: int
    series: int
    sessions: int


class EraseIn(Schema):
    password: Annotated[str, Field(min_length=1, max_length=1024)]

    model_config = Schema.model_config | {
        "json_schema_extra": {"examples": [{"password": "correct horse battery"}]}
    }
