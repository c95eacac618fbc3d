"""Treatment sessions of a series: create (optional client id, Idempotency-Key),
create-or-replace, list, get, patch and delete, with the diary's versioning and feed rules.

- The series must be this patient's and live (else 404), checked under the patient's lock, so a
  session can never be added to a series that a concurrent request is deleting.
- A session stays in the series it was created in: a PUT of its id under another series is a 409
  (moving sessions between series is not supported); GET, PATCH and DELETE there are 404.
- ``recorded_by`` / ``recorded_by_role`` are stamped with the writer of every real change
  (the same content sent again by someone else changes nothing, not even the recorder).
- Doses: see ``dosing``; the patient's current weight is used and stored with the session.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, ValidationFailed
from app.models import Patient
from app.schemas.common import Page
from app.schemas.treatments import SessionIn, SessionOut, SessionPatch
from app.services.care import audit
from app.services.identity.actors import Actor
from app.services.sync import idempotency, listing, records
from app.services.sync.records import ChangeSeq, Written
from app.services.treatments import dosing
from app.services.treatments.shared import (
    SESSIONS,
    VITALS,
    canonical_effects,
    require_live_series,
    session_out,
    sessions_table,
)
from app.trends.days import offset_minutes, to_utc

NO_SUCH_SESSION = "No such treatment session in this series."
MOVED = (
    "This session belongs to another treatment series; sessions cannot move between series "
    "(delete it there and create it here under a new id)."
)
_DOSES = ("dose_mg", "dose_mg_per_kg")

LIST = listing.Keyset("sessions", (sessions_table.c.started_at, sessions_table.c.id))


def recorder(actor: Actor) -> dict[str, Any]:
    return {"recorded_by": actor.id, "recorded_by_role": actor.role}


def _effects(effects: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[str] = set()
    for index, item in enumerate(effects):
        if item["effect"] in seen:
            raise ValidationFailed(
                ["body", "adverse_effects", index, "effect"],
                f"{item['effect']!r} is listed twice; give each effect once, with its worst "
                "severity",
            )
        seen.add(item["effect"])
    return canonical_effects(effects)


def _check_vitals(state: Mapping[str, Any]) -> None:
    """Maxima over one session: the highest diastolic is below the highest systolic."""
    systolic, diastolic = state["systolic_max"], state["diastolic_max"]
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        raise ValidationFailed(
            ["body", "vitals", "diastolic_max"], "must be below vitals.systolic_max"
        )


def _check_state(session: Session, state: Mapping[str, Any]) -> None:
    """The rules between a session's fields: vitals, and dose safety (a high dose is a 422
    unless confirmed; a confirmed one is audited as such)."""
    _check_vitals(state)
    confirmed = dosing.check_high_dose(
        state["route"],
        state["duration_minutes"],
        state["dose_mg_per_kg"],
        state["high_dose_confirmed"],
    )
    if confirmed:
        audit.note(session, HIGH_DOSE_AUDIT)


# What the audit trail adds to the resource of a write that stored a confirmed high dose.
HIGH_DOSE_AUDIT = "high_dose_confirmed"
# A PATCH that sends any of these changes the dose or its rate: it must confirm again.
_DOSE_FIGURES = ("dose_mg", "dose_mg_per_kg", "duration_minutes", "route")


def columns(fields: Mapping[str, Any], weight_kg: float | None) -> dict[str, Any]:
    """API fields (all of a PUT body, or the fields a PATCH sent) → column values."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "vitals":
            values.update(dict.fromkeys(VITALS) if value is None else value)
        elif name == "adverse_effects":
            values[name] = _effects(value)
        elif name == "started_at":
            values[name] = to_utc(value)
            values["started_offset_minutes"] = offset_minutes(value)
        elif name not in _DOSES:
            values[name] = value
    if any(name in fields for name in _DOSES):
        # One form sent alone (a PATCH too) stands alone: the other is derived afresh.
        doses = dosing.resolve(fields.get("dose_mg"), fields.get("dose_mg_per_kg"), weight_kg)
        values.update(doses.columns())
    return values


def _body_values(
    session: Session, data: SessionIn, series_id: uuid.UUID, weight_kg: float | None
) -> dict[str, Any]:
    if data.series_id is not None and data.series_id != series_id:
        raise ValidationFailed(["body", "series_id"], "must equal the series id in the path")
    values = columns(data.model_dump(exclude={"id", "series_id"}), weight_kg)
    _check_state(session, values)
    return {**values, "series_id": series_id}


def _find_in_series(
    session: Session, patient_id: uuid.UUID, series_id: uuid.UUID, session_id: uuid.UUID
) -> None:
    row = records.find_live(session, SESSIONS, patient_id, session_id)
    if row["series_id"] != series_id:
        raise NotFound(NO_SUCH_SESSION)


def create_session(
    session: Session,
    patient: Patient,
    series_id: uuid.UUID,
    data: SessionIn,
    *,
    actor: Actor,
    idempotency_key: str | None,
) -> idempotency.Outcome:
    values = _body_values(session, data, series_id, patient.weight_kg)
    route = f"POST series/{series_id}/sessions"
    keyed = idempotency.keyed(actor.id, idempotency_key, route, data)
    return records.create(
        session,
        SESSIONS,
        patient.id,
        values,
        client_id=data.id,
        keyed=keyed,
        stamp=recorder(actor),
        guard=lambda: require_live_series(session, patient.id, series_id),
    )


def put_session(
    session: Session,
    patient: Patient,
    series_id: uuid.UUID,
    session_id: uuid.UUID,
    data: SessionIn,
    *,
    actor: Actor,
    if_match: str | None,
    if_none_match: str | None,
) -> Written:
    if data.id is not None and data.id != session_id:
        raise ValidationFailed(["body", "id"], "must equal the id in the path")
    values = _body_values(session, data, series_id, patient.weight_kg)
    seq = ChangeSeq(session, patient.id)
    require_live_series(session, patient.id, series_id)
    existing = records.find(session, SESSIONS, patient.id, session_id)
    if existing is not None and existing["series_id"] != series_id:
        raise Conflict(MOVED)
    result = records.put(
        session,
        SESSIONS,
        patient.id,
        session_id,
        values,
        seq,
        if_match=if_match,
        if_none_match=if_none_match,
        stamp=recorder(actor),
    )
    records.finish(session, result)
    return result


def patch_session(
    session: Session,
    patient: Patient,
    series_id: uuid.UUID,
    session_id: uuid.UUID,
    data: SessionPatch,
    *,
    actor: Actor,
    if_match: str | None,
) -> Written:
    changes = columns(data.model_dump(exclude_unset=True), patient.weight_kg)
    if "high_dose_confirmed" not in changes and any(f in changes for f in _DOSE_FIGURES):
        changes["high_dose_confirmed"] = False  # a confirmation was of the figures it came with
    seq = ChangeSeq(session, patient.id)
    require_live_series(session, patient.id, series_id)
    _find_in_series(session, patient.id, series_id, session_id)
    result = records.patch(
        session,
        SESSIONS,
        patient.id,
        session_id,
        changes,
        seq,
        if_match=if_match,
        check=lambda state: _check_state(session, state),
        stamp=recorder(actor),
    )
    records.finish(session, result)
    return result


def delete_session(
    session: Session,
    patient: Patient,
    series_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    if_match: str | None,
) -> int:
    seq = ChangeSeq(session, patient.id)
    require_live_series(session, patient.id, series_id)
    _find_in_series(session, patient.id, series_id, session_id)
    row = records.delete(session, SESSIONS, patient.id, session_id, seq, if_match=if_match)
    session.commit()
    version: int = row["version"]
    return version


def get_session(
    session: Session, patient: Patient, series_id: uuid.UUID, session_id: uuid.UUID
) -> SessionOut:
    row = records.find_live(session, SESSIONS, patient.id, session_id)
    # A deleted series has no live sessions (they are deleted with it).
    if row["series_id"] != series_id:
        raise NotFound(NO_SUCH_SESSION)
    return session_out(row)


def list_sessions(
    session: Session, patient: Patient, series_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[SessionOut]:
    """Newest first; incomplete sessions included (they carry the ``incomplete`` flag)."""
    require_live_series(session, patient.id, series_id)
    t = sessions_table
    query = select(t).where(
        t.c.patient_id == patient.id, t.c.series_id == series_id, t.c.deleted_at.is_(None)
    )
    return listing.page(session, query, LIST, limit=limit, cursor=cursor, out=session_out)
