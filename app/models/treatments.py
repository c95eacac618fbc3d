"""Treatment series (e.g. a ketamine infusion series) and their sessions.

Both are synced records like the diary (``SyncedRecord``: version, change position, tombstone).
A session's vitals are plain columns so CHECK constraints can bound them; its adverse effects are
a small JSON list of ``{effect, severity}`` validated by the API schema (at most a dozen entries).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Uuid,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.models.diary import OFFSET_CHECK, SyncedRecord, _in, _sync_checks
from app.vocabulary import (
    MAX_DOSE_MG,
    MAX_DOSE_MG_PER_KG,
    MODALITIES,
    NAME_MAX,
    NOTE_MAX,
    PLANNED_START_MAX,
    PLANNED_START_MIN,
    PROTOCOL_MAX,
    ROUTES,
)


class Series(SyncedRecord, Base):
    __tablename__ = "treatment_series"
    __table_args__ = (
        *_sync_checks(),
        CheckConstraint(f"length(name) BETWEEN 1 AND {NAME_MAX}", name="name"),
        CheckConstraint(_in("modality", MODALITIES), name="modality"),
        CheckConstraint(f"protocol IS NULL OR length(protocol) <= {PROTOCOL_MAX}", name="protocol"),
        CheckConstraint(
            "planned_sessions IS NULL OR planned_sessions BETWEEN 1 AND 100",
            name="planned_sessions",
        ),
        CheckConstraint("baseline_days BETWEEN 7 AND 90", name="baseline_days"),
        CheckConstraint("follow_up_days BETWEEN 28 AND 364", name="follow_up_days"),
        CheckConstraint(
            f"planned_start IS NULL OR planned_start BETWEEN '{PLANNED_START_MIN.isoformat()}' "
            f"AND '{PLANNED_START_MAX.isoformat()}'",
            name="planned_start",
        ),
        Index("ix_treatment_series_patient", "patient_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    modality: Mapped[str] = mapped_column(String(32))
    protocol: Mapped[str | None] = mapped_column(String(PROTOCOL_MAX), default=None)
    planned_sessions: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    baseline_days: Mapped[int] = mapped_column(SmallInteger, default=28)
    follow_up_days: Mapped[int] = mapped_column(SmallInteger, default=84)
    # The day the first session is planned for (baseline readiness), if planned ahead.
    planned_start: Mapped[date | None] = mapped_column(Date, default=None)
    # Course override: true starts a new course, false continues the previous one, null lets
    # the 182-day rule decide (app/trends).
    new_course: Mapped[bool | None] = mapped_column(Boolean, default=None)


class TreatmentSession(SyncedRecord, Base):
    """One infusion (or dose) of a series."""

    __tablename__ = "treatment_sessions"
    __table_args__ = (
        *_sync_checks(),
        CheckConstraint("duration_minutes > 0 AND duration_minutes <= 1440", name="duration"),
        CheckConstraint(_in("route", ROUTES), name="route"),
        CheckConstraint(
            f"dose_mg IS NULL OR (dose_mg > 0 AND dose_mg <= {MAX_DOSE_MG})", name="dose_mg"
        ),
        CheckConstraint(
            "dose_mg_per_kg IS NULL OR "
            f"(dose_mg_per_kg > 0 AND dose_mg_per_kg <= {MAX_DOSE_MG_PER_KG})",
            name="dose_mg_per_kg",
        ),
        CheckConstraint("pain_before IS NULL OR pain_before BETWEEN 0 AND 10", name="pain_before"),
        CheckConstraint("pain_after IS NULL OR pain_after BETWEEN 0 AND 10", name="pain_after"),
        CheckConstraint(
            "systolic_max IS NULL OR systolic_max BETWEEN 50 AND 300", name="systolic_max"
        ),
        CheckConstraint(
            "diastolic_max IS NULL OR diastolic_max BETWEEN 20 AND 200", name="diastolic_max"
        ),
        CheckConstraint(
            "heart_rate_max IS NULL OR heart_rate_max BETWEEN 20 AND 250", name="heart_rate_max"
        ),
        CheckConstraint("spo2_min IS NULL OR spo2_min BETWEEN 50 AND 100", name="spo2_min"),
        CheckConstraint(f"notes IS NULL OR length(notes) <= {NOTE_MAX}", name="notes"),
        CheckConstraint(OFFSET_CHECK, name="started_offset"),
        # The trend loader reads a series' sessions, and the patient's sessions by time.
        Index("ix_treatment_sessions_series", "series_id", "started_at"),
        Index("ix_treatment_sessions_patient_started", "patient_id", "started_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    series_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("treatment_series.id", ondelete="CASCADE")
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The UTC offset started_at was written with: its local day, and how it is returned.
    started_offset_minutes: Mapped[int] = mapped_column(SmallInteger)
    duration_minutes: Mapped[int] = mapped_column(SmallInteger)
    route: Mapped[str] = mapped_column(String(16))
    dose_mg: Mapped[float | None] = mapped_column(Float, default=None)
    dose_mg_per_kg: Mapped[float | None] = mapped_column(Float, default=None)
    pain_before: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    pain_after: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    systolic_max: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    diastolic_max: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    heart_rate_max: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    spo2_min: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    adverse_effects: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    completed: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str | None] = mapped_column(String(NOTE_MAX), default=None)
    # Who recorded it (user id of the patient or clinician); set by the server, never the client.
    recorded_by: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorded_by_role: Mapped[str] = mapped_column(String(16))
    # Weight used to derive one dose form from the other, kept so the derivation is auditable.
    weight_kg: Mapped[float | None] = mapped_column(Float, default=None)
    # The writer confirmed a dose above the safety thresholds (services/treatments/dosing.py).
    high_dose_confirmed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
