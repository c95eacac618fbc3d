"""Maintenance medications (carbamazepine, gabapentin, …): full CRUD with client ids, each
with its dose history (``doses``, kept by ``medication_doses`` in the same transaction).

PUT and PATCH read the row and its history under the patient's lock; a write that changes the
dose (or carries ``dose_changed_on``) records the change from that day. A write whose fields
are unchanged but whose history changes (a dose change re-dated) is still a new version.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Medication, Patient
from app.schemas.common import Page
from app.schemas.diary import MedicationIn, MedicationOut, MedicationPatch
from app.services import clock
from app.services.diary import medication_doses
from app.services.diary.medication_doses import History
from app.services.sync import idempotency, listing, preconditions, records
from app.services.sync.records import ChangeSeq, RecordKind, Written
from app.services.sync.sql import table_of

_table = table_of(Medication)
LIST = listing.Keyset("medications", (_table.c.started_on, _table.c.id))


def medication_out(row: RowMapping, history: History) -> MedicationOut:
    return MedicationOut(
        id=row["id"],
        name=row["name"],
        dose_mg_per_day=row["dose_mg_per_day"],
        started_on=row["started_on"],
        stopped_on=row["stopped_on"],
        # Every stored medication has a history; an empty one reads as the dose from its start.
        doses=medication_doses.entries(history or ((row["started_on"], row["dose_mg_per_day"]),)),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def medications_out(session: Session, rows: Sequence[RowMapping]) -> list[MedicationOut]:
    """The representations of these rows with their dose histories (one query)."""
    histories = medication_doses.histories_of(session, rows)
    return [medication_out(row, histories.get(row["id"], ())) for row in rows]


def _without_history(row: RowMapping) -> MedicationOut:
    raise TypeError("a medication is rendered with its dose history: use MEDICATIONS.outs")


MEDICATIONS: RecordKind[MedicationOut] = RecordKind(
    "medication", "medication", _table, "id", _without_history, render=medications_out
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
    values = data.model_dump(exclude={"id", "dose_changed_on"})
    _check_dates(values, timezone, values)
    if data.dose_changed_on is not None:
        # On create nothing is replaced, but the day must still lie within the medication's life.
        medication_doses.check_change_day(
            data.dose_changed_on, data.started_on, data.stopped_on, timezone
        )
    return values


def _first_dose(session: Session, patient_id: uuid.UUID, row: RowMapping) -> None:
    medication_doses.store(
        session, patient_id, row["id"], (), ((row["started_on"], row["dose_mg_per_day"]),)
    )


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
    return records.create(
        session,
        MEDICATIONS,
        patient.id,
        values,
        client_id=data.id,
        keyed=keyed,
        created=lambda row: _first_dose(session, patient.id, row),
    )


def _with_history(
    session: Session,
    patient: Patient,
    result: Written,
    seq: ChangeSeq,
    old: History,
    new: History,
) -> tuple[Written, MedicationOut]:
    """Store the new history; a write that changed only the history is a new version too."""
    if result.status == "unchanged" and new != old:
        row = records.rewrite(session, MEDICATIONS, result.row, {}, seq.take())
        result = Written("updated", row)
    medication_doses.store(session, patient.id, result.row["id"], old, new)
    records.finish(session, result)
    return result, medication_out(result.row, new)


def put_medication(
    session: Session,
    patient: Patient,
    medication_id: uuid.UUID,
    data: MedicationIn,
    *,
    if_match: str | None,
    if_none_match: str | None,
) -> tuple[Written, MedicationOut]:
    if data.id is not None and data.id != medication_id:
        raise ValidationFailed(["body", "id"], "must equal the id in the path")
    values = _values(data, patient.timezone)
    seq = ChangeSeq(session, patient.id)
    before = records.find(session, MEDICATIONS, patient.id, medication_id)
    live = before is not None and before["deleted_at"] is None
    old = medication_doses.load(session, patient.id, medication_id) if live else ()
    new = old
    if before is not None and live:
        # The preconditions first, as records.put would: a stale write is a 412, not a 422.
        preconditions.check_if_none_match(if_none_match, before["version"])
        preconditions.check_if_match(if_match, before["version"])
        new = medication_doses.next_history(
            old,
            values,
            dose_changed=values["dose_mg_per_day"] != before["dose_mg_per_day"],
            dose_changed_on=data.dose_changed_on,
            timezone=patient.timezone,
            given=values,
        )
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
    if result.status == "created":
        new = ((values["started_on"], values["dose_mg_per_day"]),)
    return _with_history(session, patient, result, seq, old, new)


def patch_medication(
    session: Session,
    patient: Patient,
    medication_id: uuid.UUID,
    data: MedicationPatch,
    *,
    if_match: str | None,
) -> tuple[Written, MedicationOut]:
    changes = data.model_dump(exclude_unset=True, exclude={"dose_changed_on"})
    timezone = patient.timezone
    seq = ChangeSeq(session, patient.id)
    before = records.find(session, MEDICATIONS, patient.id, medication_id)
    live = before is not None and before["deleted_at"] is None
    old = medication_doses.load(session, patient.id, medication_id) if live else ()
    planned: list[History] = []

    def check(merged: Mapping[str, Any]) -> None:
        _check_dates(merged, timezone, changes)
        assert before is not None  # records.patch found the live row
        planned.append(
            medication_doses.next_history(
                old,
                merged,
                dose_changed=merged["dose_mg_per_day"] != before["dose_mg_per_day"],
                dose_changed_on=data.dose_changed_on,
                timezone=timezone,
                given=changes,
            )
        )

    result = records.patch(
        session,
        MEDICATIONS,
        patient.id,
        medication_id,
        changes,
        seq,
        if_match=if_match,
        check=check,
    )
    return _with_history(session, patient, result, seq, old, planned[0])


def get_medication(session: Session, patient: Patient, medication_id: uuid.UUID) -> MedicationOut:
    row = records.find_live(session, MEDICATIONS, patient.id, medication_id)
    return medication_out(row, medication_doses.load(session, patient.id, medication_id))


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
    return listing.page(
        session,
        query,
        LIST,
        limit=limit,
        cursor=cursor,
        out_many=lambda rows: medications_out(session, rows),
    )
