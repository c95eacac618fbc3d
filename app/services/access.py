"""Who may see or change which patient. Every patient-scoped request goes through here."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import Patient
from app.services.actors import Actor

AccessMode = Literal["read", "write"]

PATIENT_NOT_FOUND = "No such patient."


def parse_patient_ref(actor: Actor, pid: str) -> uuid.UUID:
    """``me`` stands for the caller's own patient record; anything else must be a UUID."""
    if pid == "me":
        if actor.patient_id is None:
            raise NotFound(PATIENT_NOT_FOUND)
        return actor.patient_id
    try:
        return uuid.UUID(pid)
    except ValueError as exc:
        raise NotFound(PATIENT_NOT_FOUND) from exc


def resolve_patient(session: Session, actor: Actor, pid: str, mode: AccessMode) -> Patient:
    """The patient the caller may access in ``mode``, or a 404 that reveals nothing."""
    patient_id = parse_patient_ref(actor, pid)
    if actor.patient_id == patient_id:
        patient = session.get(Patient, patient_id)
        if patient is not None:
            return patient
    raise NotFound(PATIENT_NOT_FOUND)


def visible_patients(session: Session, actor: Actor) -> list[Patient]:
    if actor.patient_id is not None:
        return list(session.scalars(select(Patient).where(Patient.id == actor.patient_id)))
    return []
