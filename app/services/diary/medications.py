"""Maintenance medications (carbamazepine, gabapentin, …): full CRUD with client ids.

PUT and PATCH keep the dose history the trends need (``medication_doses``): they read the row
before the change under the patient lock and record a changed dose in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Medication, Patient
from app.schemas.common import Page
from app.schemas.diary import MedicationIn, MedicationOut, MedicationPatch
from app.services import clock
from app.services.diary import medication_doses
from app.services.sync import idempotency, listing, records
from app.services.sync.records import RecordKind, Written
from app.services.sync.sql import table_of

_table = table_of(Medication)
LIST = listing.Keyset("medications", (_table.c.started_on, _table.c.id))


def medication_out(row: RowMapping) -> MedicationOut:
    return MedicationOut(
        id=row["id"],
        name=row["name"],
        dose_mg_per_day=row["dose_mg_per_day"],
        started_on=row["started_on"],
        stopped_on=row["stopped_on"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


MEDICATIONS: RecordKind[MedicationOut] = RecordKind(
    "medication", "medication", _table, "id", medication_out
)


def _check_dates(values: Mapping[str, Any], timezone: str, given: Mapping[str, Any]) -> None:
    """Dates not after the patient's today; a stop not before the start. ``given`` (the
    fields the client sent) decides which field a 422 names."""
    for name in ("started_on", "stopped_on"):
        if name in given:
            clock.not_after_today(values[name], timezone, ["body", name])
    stopped_on = values["stopped_on"]
    if stopped_on is not None and stopped_on < values["started_on"]:
        name = "stopped_on" if "stopped_on" in given else "started_on"
        raise ValidationFailed(["body", name], "stopped_on must not be before started_on")


def _values(data: MedicationIn, timezone: str) -> dict[str, Any]:
    values = data.model_dump(exclude={"id"})
    _check_dates(values, timezone, values)
    return values


def create_medication(
    session: Session,
    patient: Patient,
    data: MedicationIn,
    *,
    actor_id: uuid.UUID,
    idempotency_key: str | None,
) -> idempotency.Outcome:
    values = _values(data, patient.timezone)
    keyed = idempotency.keyed(actor_id, idempotency_key, "POST medications", data)
    return records.create(session, MEDICATIONS, patient.id, values, client_id=data.id, keyed=keyed)


def put_medication(
    session: Session,
    patient: Patient,
    medication_id: uuid.UUID,
    data: MedicationIn,
    *,
    if_match: str | None,
    if_none_match: str | None,
) -> Written:
    if data.id is not None and data.id != medication_id:
        raise ValidationFailed(["body", "id"], "must equal the id in the path")
    values = _values(data, patient.timezone)
    seq = records.ChangeSeq(session, patient.id)
    before = records.find(session, MEDICATIONS, patient.id, medication_id)  # dose history
    result = records.put(
        session,
        MEDICATIONS,
        patient.id,
        medication_id,
        values,
        seq,
        if_match=if_match,
        if_none_match=if_none_match,
    )
    medication_doses.record_dose_change(session, patient, before, result)
    records.finish(session, result)
    return result


def patch_medication(
    session: Session,
    patient: Patient,
    medication_id: uuid.UUID,
    data: MedicationPatch,
    *,
    if_match: str | None,
) -> Written:
    changes = data.model_dump(exclude_unset=True)
    timezone = patient.timezone
    seq = records.ChangeSeq(session, patient.id)
    before = records.find(session, MEDICATIONS, patient.id, medication_id)  # dose history
    result = records.patch(
        session,
        MEDICATIONS,
        patient.id,
        medication_id,
        changes,
        seq,
        if_match=if_match,
        check=lambda merged: _check_dates(merged, timezone, changes),
    )
    medication_doses.record_dose_change(session, patient, before, result)
    records.finish(session, result)
    return result


def get_medication(session: Session, patient: Patient, medication_id: uuid.UUID) -> MedicationOut:
    return medication_out(records.find_live(session, MEDICATIONS, patient.id, medication_id))


def delete_medication(
    session: Session, patient: Patient, medication_id: uuid.UUID, *, if_match: str | None
) -> int:
    return records.delete_record(session, MEDICATIONS, patient.id, medication_id, if_match=if_match)


def list_medications(
    session: Session, patient: Patient, *, limit: int, cursor: str | None
) -> Page[MedicationOut]:
    """Most recently started first."""
    t = _table
    query = select(t).where(t.c.patient_id == patient.id, t.c.deleted_at.is_(None))
    return listing.page(session, query, LIST, limit=limit, cursor=cursor, out=medication_out)
