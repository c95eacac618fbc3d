"""Housekeeping: tombstones past their retention, and expired idempotency keys.

Per patient, in one transaction under the patient's lock (writers of that patient wait, no
transaction spans two patients): delete the old tombstones, raise ``feed_horizon_seq`` to the
highest position removed - so a feed cursor that could have missed one of those deletions gets
410 instead of silently keeping a deleted record - and drop the patient's expired keys.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.db import Database
from app.models import IdempotencyKey, Patient
from app.services.sync.changes import FEED_KINDS, TOMBSTONE_RETENTION
from app.services.sync.idempotency import KEY_TTL
from app.services.sync.sql import table_of
from app.trends.days import utcnow


@dataclass(frozen=True)
class PurgeReport:
    patients: int
    tombstones: int
    keys: int


def purge(
    db: Database,
    *,
    now: dt.datetime | None = None,
    tombstone_age: dt.timedelta = TOMBSTONE_RETENTION,
    key_age: dt.timedelta = KEY_TTL,
) -> PurgeReport:
    if tombstone_age < TOMBSTONE_RETENTION or key_age < KEY_TTL:
        raise ValueError("the contract keeps tombstones 180 days and keys 30 days at least")
    now = now or utcnow()
    tombstone_cutoff, key_cutoff = now - tombstone_age, now - key_age
    with db.session() as session:
        patient_ids = _patients_with_expired(session, tombstone_cutoff, key_cutoff)
    tombstones = keys = 0
    for patient_id in sorted(patient_ids):
        with db.session(write=True) as session:
            removed, expired = _purge_patient(session, patient_id, tombstone_cutoff, key_cutoff)
            session.commit()
        tombstones += removed
        keys += expired
    return PurgeReport(patients=len(patient_ids), tombstones=tombstones, keys=keys)


def _patients_with_expired(
    session: Session, tombstone_cutoff: dt.datetime, key_cutoff: dt.datetime
) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for kind in FEED_KINDS:
        t = kind.table
        found.update(
            session.scalars(
                select(t.c.patient_id).where(t.c.deleted_at < tombstone_cutoff).distinct()
            )
        )
    found.update(
        session.scalars(
            select(IdempotencyKey.patient_id)
            .where(IdempotencyKey.created_at < key_cutoff)
            .distinct()
        )
    )
    return found


def _purge_patient(
    session: Session, patient_id: uuid.UUID, tombstone_cutoff: dt.datetime, key_cutoff: dt.datetime
) -> tuple[int, int]:
    # The same lock the writers take: no write of this patient interleaves with the purge.
    locked = session.scalar(select(Patient.id).where(Patient.id == patient_id).with_for_update())
    if locked is None:  # pragma: no cover - the patient was erased meanwhile (cascade)
        return 0, 0
    horizon = 0
    removed = 0
    # FEED_KINDS lists sessions before their series: no tombstone leaves by a cascade, unseen by
    # the horizon.
    for kind in FEED_KINDS:
        t = kind.table
        old = (t.c.patient_id == patient_id, t.c.deleted_at < tombstone_cutoff)
        highest = session.scalar(select(func.max(t.c.change_seq)).where(*old))
        if highest is None:
            continue
        horizon = max(horizon, highest)
        removed += session.execute(delete(t).where(*old)).rowcount  # type: ignore[attr-defined]
    if horizon:
        patients = table_of(Patient)
        session.execute(
            update(patients)
            .where(patients.c.id == patient_id, patients.c.feed_horizon_seq < horizon)
            # Not a profile change: keep updated_at as it is (it has an onupdate default).
            .values(feed_horizon_seq=horizon, updated_at=patients.c.updated_at)
        )
    expired = session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.patient_id == patient_id, IdempotencyKey.created_at < key_cutoff
        )
    ).rowcount  # type: ignore[attr-defined]
    return removed, expired
