"""Reading and updating the patient profile."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db import Database
from app.models import Patient
from app.schemas.common import Page
from app.schemas.patients import Diagnosis, PatientOut, PatientPatch
from app.services.care import audit
from app.services.care.access import DEFAULT_SCOPE, PATIENTS, require_scope, visible_patients
from app.services.identity.actors import Actor
from app.services.sync import listing
from app.services.sync.preconditions import check_if_match


def patient_out(patient: Patient) -> PatientOut:
    return PatientOut(
        id=patient.id,
        display_name=patient.display_name,
        timezone=patient.timezone,
        birth_year=patient.birth_year,
        weight_kg=patient.weight_kg,
        diagnosis=Diagnosis(
            ichd3_type=patient.ichd3_type,  # type: ignore[arg-type]
            side=patient.side,  # type: ignore[arg-type]
            branches=list(patient.branches or []),  # type: ignore[arg-type]
            concomitant_continuous_pain=patient.concomitant_continuous_pain,
            diagnosed_on=patient.diagnosed_on,
        ),
        version=patient.version,
    )


def list_patients(
    session: Session,
    db: Database,
    actor: Actor,
    info: audit.RequestInfo,
    *,
    limit: int,
    cursor: str | None,
) -> Page[PatientOut]:
    # The listing shows profiles, as GET /patients/{pid} does: a partner needs the same scope.
    require_scope(actor, DEFAULT_SCOPE["read"])
    page = listing.page(
        session,
        visible_patients(actor),
        PATIENTS,
        limit=limit,
        cursor=cursor,
        out=lambda row: patient_out(row["Patient"]),
    )
    # End the read before the audit's write transaction: one pooled connection at a time.
    session.commit()
    # Names and diagnoses were shown: each listed patient sees this on their access log.
    audit.record(db, [audit.event_for(actor, p.id, info, "success") for p in page.items])
    return page


def update_patient(
    session: Session, patient: Patient, data: PatientPatch, if_match: str | None
) -> PatientOut:
    # The patient was read before this transaction began (services/care/access.py): read it again
    # under the row lock, so If-Match compares with the version this write replaces.
    session.refresh(patient, with_for_update=True)
    check_if_match(if_match, patient.version)
    changes = data.model_dump(exclude_unset=True)
    diagnosis = changes.pop("diagnosis", None) or {}
    changes.update(diagnosis)
    changed = False
    for key, value in changes.items():
        if getattr(patient, key) != value:
            setattr(patient, key, value)
            changed = True
    if changed:
        patient.version += 1
    session.commit()
    return patient_out(patient)
