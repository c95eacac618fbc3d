"""GET /patients/{pid}/access-log: the patient reads their own audit trail, newest first."""

from __future__ import annotations

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from app.models import AuditEntry, Patient
from app.schemas.audit import AccessLogEntryOut
from app.schemas.common import Page
from app.services.sync import listing

ANOTHER_PATIENT = "Another patient"
LIST = listing.Keyset("access-log", (AuditEntry.seq,))


ENTRY_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.at,
    AuditEntry.actor_id,
    AuditEntry.actor_role,
    AuditEntry.actor_name,
    AuditEntry.action,
    AuditEntry.resource,
    AuditEntry.resource_id,
    AuditEntry.outcome,
)


def entry_out(row: RowMapping, patient: Patient) -> AccessLogEntryOut:
    return AccessLogEntryOut(
        at=row["at"],
        actor_id=row["actor_id"],
        actor_role=row["actor_role"],
        # Who tried to look matters; which other patient it was is that patient's privacy.
        actor_name=(
            ANOTHER_PATIENT
            if row["actor_role"] == "patient" and row["actor_id"] != patient.user_id
            else row["actor_name"]
        ),
        action=row["action"],
        resource=row["resource"],
        resource_id=row["resource_id"],
        outcome=row["outcome"],
    )


def access_log(
    session: Session, patient: Patient, *, limit: int, cursor: str | None
) -> Page[AccessLogEntryOut]:
    query = select(*ENTRY_COLUMNS).where(AuditEntry.patient_id == patient.id)
    return listing.page(
        session, query, LIST, limit=limit, cursor=cursor, out=lambda row: entry_out(row, patient)
    )
