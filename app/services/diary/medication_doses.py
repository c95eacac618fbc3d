"""The dose history of maintenance medications, for the trends' ``dose_change``.

A PATCH or PUT changes ``medications.dose_mg_per_day`` in place. Inside that write's
transaction (under the patient's lock) ``record_dose_change`` keeps what would be lost:

- the first change of a medication also records the dose it replaces, effective from the
  medication's ``started_on`` (a medication without entries has had one dose since its start,
  so nothing is written on create);
- the new dose is effective from the patient's local today: the API carries no date for a dose
  change, and the day it is entered is the best reading (clients that know another date can
  stop the row and start a new one, which the trends read as a dose change too).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, insert, select
from sqlalchemy.orm import Session

from app.models import MedicationDose, Patient
from app.services.sync.records import Written
from app.trends import days
from app.trends.days import utcnow


def record_dose_change(
    session: Session, patient: Patient, before: RowMapping | None, written: Written
) -> None:
    """Append history entries when ``written`` changed the dose of the row ``before``."""
    after = written.row
    if (
        before is None
        or before["deleted_at"] is not None
        or written.status != "updated"
        or before["dose_mg_per_day"] == after["dose_mg_per_day"]
    ):
        return
    has_history = session.scalar(
        select(MedicationDose.id)
        .where(
            MedicationDose.patient_id == patient.id,
            MedicationDose.medication_id == after["id"],
        )
        .limit(1)
    )
    entries: list[dict[str, Any]] = []
    if has_history is None:
        entries.append(
            {
                "effective_on": before["started_on"],
                "dose_mg_per_day": before["dose_mg_per_day"],
                "recorded_at": before["updated_at"],
            }
        )
    entries.append(
        {
            "effective_on": days.local_today(patient.timezone),
            "dose_mg_per_day": after["dose_mg_per_day"],
            "recorded_at": utcnow(),
        }
    )
    session.execute(
        insert(MedicationDose),
        [{**entry, "patient_id": patient.id, "medication_id": after["id"]} for entry in entries],
    )
