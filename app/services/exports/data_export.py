"""GET /me/export: everything we hold about the caller, as one JSON document, streamed.

For a patient: the account, the profile with its diagnosis, every diary and treatment record
(tombstones awaiting purge included), the grants they gave and their access log - the shape of
``schemas.exports.ExportDocument``. The access log grows with every read, so it and the diary
are streamed from one read snapshot rather than built in memory (a few MB for years of diary).
For clinicians and admins: the account and the grants patients gave them; they hold no diary.
Partner clients have no personal account (403).

Treatment rows are read straight from the models: their own service is written in parallel.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy import RowMapping, Select, select
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import Unauthorized
from app.models import (
    Assessment,
    AuditEntry,
    Checkin,
    Episode,
    Grant,
    Medication,
    Patient,
    Series,
    TreatmentSession,
    User,
)
from app.schemas.exports import (
    FORMAT,
    FORMAT_VERSION,
    AccountRecord,
    AssessmentRecord,
    CheckinRecord,
    EpisodeRecord,
    GrantReceived,
    MedicationRecord,
    PatientRecord,
    SeriesRecord,
    SessionRecord,
)
from app.schemas.treatments import Vitals
from app.services.care import audit
from app.services.care.access_log import ENTRY_COLUMNS, entry_out
from app.services.care.grants import grant_history
from app.services.care.patients import patient_out
from app.services.context import AppContext
from app.services.diary.assessments import assessment_out
from app.services.diary.checkins import checkin_out
from app.services.diary.episodes import episode_out
from app.services.diary.medications import medication_out
from app.services.exports.quota import take_export
from app.services.exports.streaming import chunked, json_array, rows, snapshot
from app.services.identity.actors import Actor, require_person
from app.services.sync.sql import table_of
from app.trends.days import utc_text, utcnow

VITALS = ("systolic_max", "diastolic_max", "heart_rate_max", "spo2_min")
SERIES_FIELDS = tuple(name for name in SeriesRecord.model_fields)

_episodes = table_of(Episode)
_checkins = table_of(Checkin)
_medications = table_of(Medication)
_assessments = table_of(Assessment)
_series = table_of(Series)
_sessions = table_of(TreatmentSession)


def episode_record(row: RowMapping) -> EpisodeRecord:
    return EpisodeRecord(**dict(episode_out(row)), deleted_at=row["deleted_at"])


def checkin_record(row: RowMapping) -> CheckinRecord:
    return CheckinRecord(**dict(checkin_out(row)), deleted_at=row["deleted_at"])


def medication_record(row: RowMapping) -> MedicationRecord:
    return MedicationRecord(**dict(medication_out(row)), deleted_at=row["deleted_at"])


def assessment_record(row: RowMapping) -> AssessmentRecord:
    return AssessmentRecord(**dict(assessment_out(row)), deleted_at=row["deleted_at"])


def series_record(row: RowMapping) -> SeriesRecord:
    return SeriesRecord(**{name: row[name] for name in SERIES_FIELDS})


def session_record(row: RowMapping) -> SessionRecord:
    vitals = {name: row[name] for name in VITALS}
    fields = {
        name: row[name]
        for name in SessionRecord.model_fields
        if name not in ("vitals", "adverse_effects")
    }
    return SessionRecord(
        **fields,
        vitals=Vitals(**vitals) if any(v is not None for v in vitals.values()) else None,
        adverse_effects=row["adverse_effects"] or [],
    )


def _records(table: Any, patient_id: uuid.UUID, *order: Any) -> Select[Any]:
    """Every record, tombstones included. Ties in the natural order are broken by created_at
    (an import keeps it) before the id (an import changes it), so the order survives a move."""
    return select(table).where(table.c.patient_id == patient_id).order_by(*order)


def _json(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def export_me(
    ctx: AppContext, session: Session, actor: Actor, info: audit.RequestInfo
) -> Iterator[bytes]:
    """GET /me/export. Checks the caller and counts the export against their quota now (so
    refusals are problem+json), audits it on the patient's record, then streams the document."""
    require_person(actor, "personal data to export")
    take_export(ctx, actor.patient_id or actor.id, actor)
    user = session.get(User, actor.id)
    if user is None:  # pragma: no cover - the actor was resolved from this row a moment ago
        raise Unauthorized()
    account = AccountRecord(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,  # type: ignore[arg-type]
        created_at=user.created_at,
    )
    session.commit()  # end the read: the document is read from a snapshot of its own
    if actor.patient_id is not None:
        audit.record(ctx.db, [audit.event_for(actor, actor.patient_id, info, "success")])
    return chunked(_document(ctx.db, account, actor.patient_id))


def _document(
    db: Database, account: AccountRecord, patient_id: uuid.UUID | None
) -> Iterator[bytes]:
    head = {"format": FORMAT, "version": FORMAT_VERSION, "exported_at": utc_text(utcnow())}
    yield orjson.dumps(head)[:-1]
    yield b',"account":' + _json(account)
    with snapshot(db) as session:
        patient = session.get(Patient, patient_id) if patient_id is not None else None
        if patient is None:
            yield b',"patient":null'
            for name in ("episodes", "checkins", "medications", "assessments", "series"):
                yield f',"{name}":[]'.encode()
            yield b',"sessions":[],"grants":[]'
            yield b',"grants_received":'
            yield from json_array(_json(g) for g in _grants_received(session, account.id))
            yield b',"access_log":[]}'
            return
        yield b',"patient":' + _json(_patient_record(patient))
        sections: list[tuple[str, Select[Any], Callable[[RowMapping], BaseModel]]] = [
            (
                "episodes",
                _records(
                    _episodes,
                    patient.id,
                    _episodes.c.started_at,
                    _episodes.c.created_at,
                    _episodes.c.id,
                ),
                episode_record,
            ),
            ("checkins", _records(_checkins, patient.id, _checkins.c.local_date), checkin_record),
            (
                "medications",
                _records(
                    _medications,
                    patient.id,
                    _medications.c.started_on,
                    _medications.c.created_at,
                    _medications.c.id,
                ),
                medication_record,
            ),
            (
                "assessments",
                _records(
                    _assessments,
                    patient.id,
                    _assessments.c.taken_at,
                    _assessments.c.created_at,
                    _assessments.c.id,
                ),
                assessment_record,
            ),
            (
                "series",
                _records(_series, patient.id, _series.c.created_at, _series.c.id),
                series_record,
            ),
            (
                "sessions",
                _records(
                    _sessions,
                    patient.id,
                    _sessions.c.started_at,
                    _sessions.c.created_at,
                    _sessions.c.id,
                ),
                session_record,
            ),
        ]
        for name, query, build in sections:
            yield f',"{name}":'.encode()
            yield from json_array(_json(build(row)) for row in rows(session, query))
        yield b',"grants":'
        yield from json_array(_json(g) for g in grant_history(session, patient.id))
        yield b',"grants_received":[],"access_log":'
        log = (
            select(*ENTRY_COLUMNS)
            .where(AuditEntry.patient_id == patient.id)
            .order_by(AuditEntry.seq)
        )
        yield from json_array(_json(entry_out(row, patient)) for row in rows(session, log))
        yield b"}"


def _patient_record(patient: Patient) -> PatientRecord:
    out = patient_out(patient)
    return PatientRecord(**dict(out), created_at=patient.created_at, updated_at=patient.updated_at)


def _grants_received(session: Session, user_id: uuid.UUID) -> list[GrantReceived]:
    grants = session.scalars(
        select(Grant).where(Grant.grantee_user_id == user_id).order_by(Grant.created_at, Grant.id)
    )
    return [
        GrantReceived(
            id=g.id,
            patient_id=g.patient_id,
            access=g.access,  # type: ignore[arg-type]
            created_at=g.created_at,
            expires_at=g.expires_at,
            revoked_at=g.revoked_at,
        )
        for g in grants
    ]
