"""POST /me/import: a GET /me/export document into the caller's (new) patient account.

- Only into an empty diary (409 otherwise): merging two diaries would mix records and their
  histories with no way to tell them apart again.
- All or nothing: the whole document is validated first (422 naming the bad path, e.g.
  ``body.sessions.3.series_id``), then written in one transaction.
- Every record gets a new id (the old ids still belong to the old account); sessions and
  assessments follow their series to its new id. Versions start again at 1; the timestamps
  (``created_at``, ``updated_at``, ``deleted_at``) are kept, as when something was logged is
  part of the diary. Tombstones come along as tombstones.
- The profile (name, time zone, birth year, weight, diagnosis) replaces the account's; the
  e-mail and password stay. Grants and the access log are not imported: they belong to the old
  account (grant again from the new one).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, exists, insert, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import Assessment, Checkin, Episode, Medication, Patient, Series, TreatmentSession
from app.schemas.diary import EpisodeBody
from app.schemas.exports import ImportDocument, ImportResult, PatientImport, Stored
from app.services import clock
from app.services.care import audit
from app.services.care.access import PATIENT_NOT_FOUND
from app.services.diary import episodes
from app.services.identity.actors import Actor
from app.services.sync.records import ChangeSeq
from app.services.sync.sql import table_of
from app.trends.days import to_utc
from app.vocabulary import INSTRUMENTS

NOT_EMPTY = (
    "This account already has diary records; import into a new, empty account "
    "(merging two diaries would mix their histories)."
)
EPISODE_FIELDS = set(EpisodeBody.model_fields)
VITALS = ("systolic_max", "diastolic_max", "heart_rate_max", "spo2_min")

_episodes = table_of(Episode)
_checkins = table_of(Checkin)
_medications = table_of(Medication)
_assessments = table_of(Assessment)
_series = table_of(Series)
_sessions = table_of(TreatmentSession)
DIARY_TABLES = (_episodes, _checkins, _medications, _assessments, _series, _sessions)


def import_document(
    session: Session, actor: Actor, info: audit.RequestInfo, doc: ImportDocument
) -> ImportResult:
    if actor.patient_id is None:
        raise Forbidden("Only a patient account can import a diary.")
    check_document(doc)
    total = sum(
        len(records)
        for records in (
            doc.episodes,
            doc.checkins,
            doc.medications,
            doc.assessments,
            doc.series,
            doc.sessions,
        )
    )
    # The patient's row lock, held to commit: no other write of this diary can interleave.
    seq = ChangeSeq(session, actor.patient_id, max(total, 1))
    patient = session.get(Patient, actor.patient_id)
    if patient is None:  # pragma: no cover - ChangeSeq found the row a moment ago
        raise NotFound(PATIENT_NOT_FOUND)
    if _has_records(session, patient.id):
        raise Conflict(NOT_EMPTY)
    audit.stage(session, audit.event_for(actor, patient.id, info, "success"))
    _apply_profile(patient, doc.patient)
    series_ids = {record.id: uuid.uuid4() for record in doc.series}

    def stored(record: Stored) -> dict[str, Any]:
        return {
            "patient_id": patient.id,
            "version": 1,
            "change_seq": seq.take(),
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "deleted_at": record.deleted_at,
        }

    # Treatment series and sessions are written straight against their models' tables (their
    # service is being written in parallel), with change positions like every other record.
    _insert(
        session,
        _series,
        [
            {
                **stored(s),
                "id": series_ids[s.id],
                **s.model_dump(include={"name", "modality", "protocol", "planned_sessions"}),
                "baseline_days": s.baseline_days,
                "follow_up_days": s.follow_up_days,
            }
            for s in doc.series
        ],
    )
    _insert(
        session,
        _sessions,
        [
            {
                **stored(s),
                "id": uuid.uuid4(),
                **s.model_dump(
                    exclude={"id", "series_id", "vitals", "adverse_effects", "recorded_by"}
                    | set(Stored.model_fields)
                ),
                "series_id": series_ids[s.series_id],
                "started_at": to_utc(s.started_at),
                **{name: getattr(s.vitals, name) if s.vitals else None for name in VITALS},
                "adverse_effects": [effect.model_dump() for effect in s.adverse_effects],
                # The patient's own entries are now the new account's; a clinician's stay theirs.
                "recorded_by": actor.id if s.recorded_by_role == "patient" else s.recorded_by,
            }
            for s in doc.sessions
        ],
    )
    _insert(
        session,
        _episodes,
        [
            {
                **stored(e),
                "id": uuid.uuid4(),
                **episodes.columns(e.model_dump(include=EPISODE_FIELDS)),
            }
            for e in doc.episodes
        ],
    )
    _insert(
        session,
        _checkins,
        [
            {
                **stored(c),
                **c.model_dump(exclude={"date"} | set(Stored.model_fields)),
                "local_date": c.date,
            }
            for c in doc.checkins
        ],
    )
    _insert(
        session,
        _medications,
        [
            {
                **stored(m),
                "id": uuid.uuid4(),
                **m.model_dump(exclude={"id"} | set(Stored.model_fields)),
            }
            for m in doc.medications
        ],
    )
    _insert(
        session,
        _assessments,
        [
            {
                **stored(a),
                "id": uuid.uuid4(),
                "instrument": a.instrument,
                "taken_at": to_utc(a.taken_at),
                "items": list(a.items),
                "total": a.total,
                "series_id": series_ids[a.series_id] if a.series_id is not None else None,
            }
            for a in doc.assessments
        ],
    )
    session.commit()
    return ImportResult(
        episodes=len(doc.episodes),
        checkins=len(doc.checkins),
        medications=len(doc.medications),
        assessments=len(doc.assessments),
        series=len(doc.series),
        sessions=len(doc.sessions),
    )


def _insert(session: Session, table: Table, values: list[dict[str, Any]]) -> None:
    if values:  # one executemany per kind
        session.execute(insert(table), values)


def _has_records(session: Session, patient_id: uuid.UUID) -> bool:
    """Any record, tombstones included (they still sync to the account's devices)."""
    return any(
        session.scalar(select(exists().where(table.c.patient_id == patient_id)))
        for table in DIARY_TABLES
    )


def _apply_profile(patient: Patient, profile: PatientImport) -> None:
    diagnosis = profile.diagnosis
    values = {
        "display_name": profile.display_name,
        "timezone": profile.timezone,
        "birth_year": profile.birth_year,
        "weight_kg": profile.weight_kg,
        "ichd3_type": diagnosis.ichd3_type,
        "side": diagnosis.side,
        "branches": list(diagnosis.branches),
        "concomitant_continuous_pain": diagnosis.concomitant_continuous_pain,
        "diagnosed_on": diagnosis.diagnosed_on,
    }
    changed = [name for name, value in values.items() if getattr(patient, name) != value]
    for name in changed:
        setattr(patient, name, values[name])
    if changed:
        patient.version += 1


# --- whole-document checks (after the schema's per-record ones) -------------------------------


def check_document(doc: ImportDocument) -> None:
    """What one record's schema cannot see: duplicates, references between records, totals,
    and dates against the patient's today. Raises the first problem, naming its path."""
    for name, keys in (
        ("episodes", [e.id for e in doc.episodes]),
        ("checkins", [c.date for c in doc.checkins]),
        ("medications", [m.id for m in doc.medications]),
        ("assessments", [a.id for a in doc.assessments]),
        ("series", [s.id for s in doc.series]),
        ("sessions", [s.id for s in doc.sessions]),
    ):
        _unique(name, keys, "date" if name == "checkins" else "id")
    series = {s.id for s in doc.series}
    for index, sess in enumerate(doc.sessions):
        if sess.series_id not in series:
            raise ValidationFailed(
                _loc("sessions", index, "series_id"), "must be the id of a series in the document"
            )
    timezone = doc.patient.timezone
    for index, assessment in enumerate(doc.assessments):
        if assessment.series_id is not None and assessment.series_id not in series:
            raise ValidationFailed(
                _loc("assessments", index, "series_id"),
                "must be null or the id of a series in the document",
            )
        _check_total(index, assessment.instrument, assessment.items, assessment.total)
    for index, checkin in enumerate(doc.checkins):
        clock.not_after_today(checkin.date, timezone, _loc("checkins", index, "date"))
    for index, medication in enumerate(doc.medications):
        clock.not_after_today(
            medication.started_on, timezone, _loc("medications", index, "started_on")
        )
        clock.not_after_today(
            medication.stopped_on, timezone, _loc("medications", index, "stopped_on")
        )
        if medication.stopped_on is not None and medication.stopped_on < medication.started_on:
            raise ValidationFailed(
                _loc("medications", index, "stopped_on"), "stopped_on must not be before started_on"
            )


def _loc(*path: str | int) -> list[str | int]:
    return ["body", *path]


def _unique(name: str, keys: Iterable[object], field: str) -> None:
    seen: set[object] = set()
    for index, key in enumerate(keys):
        if key in seen:
            raise ValidationFailed(_loc(name, index, field), f"repeats an earlier {field}")
        seen.add(key)


def _check_total(index: int, instrument: str, items: Sequence[int], total: int) -> None:
    count, low, high = INSTRUMENTS[instrument]
    if len(items) != count:
        raise ValidationFailed(
            _loc("assessments", index, "items"),
            f"{instrument} has {count} items; {len(items)} were given",
        )
    for position, value in enumerate(items):
        if not low <= value <= high:
            raise ValidationFailed(
                _loc("assessments", index, "items", position),
                f"{instrument} items range from {low} to {high}",
            )
    if total != sum(items):
        raise ValidationFailed(_loc("assessments", index, "total"), "must be the sum of the items")
