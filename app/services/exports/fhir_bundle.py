"""GET /patients/{pid}/export/fhir: a FHIR R4 Bundle (collection) of the patient's live records.

Patient, Condition, an Observation per episode, check-in and questionnaire, and a
MedicationAdministration per treatment session; deleted records are left out. Streamed entry
by entry from one read snapshot (``streaming``), so a diary of any length costs flat memory.
Treatment rows are read straight from the models: their own service is written in parallel.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from sqlalchemy import RowMapping, Select, select

from app.db import Database
from app.errors import NotFound
from app.models import Assessment, Checkin, Episode, Patient, Series, TreatmentSession
from app.services.care.access import PATIENT_NOT_FOUND
from app.services.context import AppContext
from app.services.exports import fhir
from app.services.exports.quota import take_export
from app.services.exports.streaming import chunked, json_array, rows, snapshot
from app.services.identity.actors import Actor
from app.services.sync.sql import table_of
from app.trends.days import utc_text, utcnow

FHIR_JSON = "application/fhir+json"

_patients = table_of(Patient)
_episodes = table_of(Episode)
_checkins = table_of(Checkin)
_assessments = table_of(Assessment)
_series = table_of(Series)
_sessions = table_of(TreatmentSession)


def _live(table: Any, patient_id: uuid.UUID) -> Select[Any]:
    return select(table).where(table.c.patient_id == patient_id, table.c.deleted_at.is_(None))


def _sessions_query(patient_id: uuid.UUID) -> Select[Any]:
    s, series = _sessions, _series
    return (
        select(s, series.c.modality, series.c.name.label("series_name"))
        .join(series, series.c.id == s.c.series_id)
        .where(
            s.c.patient_id == patient_id,
            s.c.deleted_at.is_(None),
            series.c.deleted_at.is_(None),
        )
        .order_by(s.c.started_at, s.c.id)
    )


def export_bundle(ctx: AppContext, patient: Patient, caller: Actor) -> Iterator[bytes]:
    """GET …/export/fhir: counts against the caller's export quota, then streams."""
    take_export(ctx, patient.id, caller)
    return fhir_bundle(ctx.db, patient.id)


def fhir_bundle(db: Database, patient_id: uuid.UUID) -> Iterator[bytes]:
    return chunked(_bundle(db, patient_id))


def _bundle(db: Database, patient_id: uuid.UUID) -> Iterator[bytes]:
    with snapshot(db) as session:
        patient = (
            session.execute(select(_patients).where(_patients.c.id == patient_id))
            .mappings()
            .first()
        )
        if patient is None:  # erased between the access check and this read
            raise NotFound(PATIENT_NOT_FOUND)
        head = {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "collection",
            "timestamp": utc_text(utcnow()),
        }
        # The header without its closing brace; the entries follow, then "}".
        yield orjson.dumps(head)[:-1] + b',"entry":'
        sections: list[tuple[Select[Any], Callable[[RowMapping], fhir.Json]]] = [
            (
                _live(_episodes, patient_id).order_by(_episodes.c.started_at, _episodes.c.id),
                fhir.episode,
            ),
            (_live(_checkins, patient_id).order_by(_checkins.c.local_date), fhir.checkin),
            (
                _live(_assessments, patient_id).order_by(
                    _assessments.c.taken_at, _assessments.c.id
                ),
                fhir.assessment,
            ),
            (_sessions_query(patient_id), fhir.medication_administration),
        ]

        def entries() -> Iterator[bytes]:
            yield orjson.dumps(fhir.entry(fhir.patient(patient)))
            yield orjson.dumps(fhir.entry(fhir.condition(patient)))
            for query, build in sections:
                for row in rows(session, query):
                    yield orjson.dumps(fhir.entry(build(row)))

        yield from json_array(entries())
        yield b"}"
