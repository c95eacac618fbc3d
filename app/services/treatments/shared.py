"""What the series and session use cases, the change feed and the assessments share: the two
record kinds, their representations and the lookup of a live series.

Kept apart from the use cases so that modules on either side (assessments link to a series;
deleting a series touches sessions and assessments) import it without a cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Series, TreatmentSession
from app.schemas.treatments import AdverseEffect, SeriesOut, SessionFlag, SessionOut, VitalsOut
from app.services.sync.records import RecordKind
from app.services.sync.sql import table_of
from app.services.treatments import dosing
from app.trends.days import at_offset
from app.vocabulary import ADVERSE_EFFECTS

series_table = table_of(Series)
sessions_table = table_of(TreatmentSession)
VITALS = ("systolic_max", "diastolic_max", "heart_rate_max", "spo2_min")
NO_SUCH_SERIES = "No such treatment series."
# The hypertension flag: a reading at or above 180/110 mmHg (a hypertensive crisis threshold).
SYSTOLIC_ALERT = 180
DIASTOLIC_ALERT = 110


def series_out(row: RowMapping) -> SeriesOut:
    return SeriesOut(
        id=row["id"],
        name=row["name"],
        modality=row["modality"],
        protocol=row["protocol"],
        planned_sessions=row["planned_sessions"],
        baseline_days=row["baseline_days"],
        follow_up_days=row["follow_up_days"],
        planned_start=row["planned_start"],
        new_course=row["new_course"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def session_flags(row: Mapping[Any, Any]) -> list[SessionFlag]:
    flags: list[SessionFlag] = []
    if not row["completed"]:
        flags.append("incomplete")
    both_doses = row["dose_mg"] is not None and row["dose_mg_per_kg"] is not None
    if both_doses and row["weight_kg"] is None:
        flags.append("dose_unverified")
    systolic, diastolic = row["systolic_max"], row["diastolic_max"]
    if (systolic is not None and systolic >= SYSTOLIC_ALERT) or (
        diastolic is not None and diastolic >= DIASTOLIC_ALERT
    ):
        flags.append("hypertension_reading")
    dose = (row["route"], row["duration_minutes"], row["dose_mg_per_kg"])
    if dosing.rate_above_usual(*dose):
        flags.append("dose_rate_above_usual")
    if dosing.high_dose(*dose) is not None:
        flags.append("high_dose")
    return flags


def session_out(row: RowMapping) -> SessionOut:
    vitals = {name: row[name] for name in VITALS}
    return SessionOut(
        id=row["id"],
        series_id=row["series_id"],
        started_at=at_offset(row["started_at"], row["started_offset_minutes"]),
        duration_minutes=row["duration_minutes"],
        route=row["route"],
        dose_mg=row["dose_mg"],
        dose_mg_per_kg=row["dose_mg_per_kg"],
        weight_kg=row["weight_kg"],
        pain_before=row["pain_before"],
        pain_after=row["pain_after"],
        vitals=VitalsOut(**vitals) if any(v is not None for v in vitals.values()) else None,
        adverse_effects=[AdverseEffect(**item) for item in row["adverse_effects"]],
        completed=row["completed"],
        notes=row["notes"],
        high_dose_confirmed=row["high_dose_confirmed"],
        recorded_by=row["recorded_by"],
        recorded_by_role=cast(Any, row["recorded_by_role"]),
        flags=session_flags(row),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


SERIES: RecordKind[SeriesOut] = RecordKind(
    "series", "treatment series", series_table, "id", series_out
)
SESSIONS: RecordKind[SessionOut] = RecordKind(
    "session", "treatment session", sessions_table, "id", session_out
)


def canonical_effects(effects: list[dict[str, str]]) -> list[dict[str, str]]:
    """The contract's order of effects, so the same list in another order is the same state."""
    return sorted(effects, key=lambda item: ADVERSE_EFFECTS.index(item["effect"]))


def series_is_live(session: Session, patient_id: uuid.UUID, series_id: uuid.UUID) -> bool:
    t = series_table
    found = session.scalar(
        select(t.c.id).where(
            t.c.patient_id == patient_id, t.c.id == series_id, t.c.deleted_at.is_(None)
        )
    )
    return found is not None


def require_live_series(session: Session, patient_id: uuid.UUID, series_id: uuid.UUID) -> None:
    """404 unless the series exists, is this patient's and is not deleted."""
    if not series_is_live(session, patient_id, series_id):
        raise NotFound(NO_SUCH_SERIES)
