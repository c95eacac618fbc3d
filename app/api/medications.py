"""Maintenance medications."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, Response

from app.api.conditional import (
    IdempotencyKey,
    IfMatch,
    IfNoneMatch,
    RequiredIfMatch,
    deleted,
    outcome,
    with_etag,
    with_etag_docs,
    written_as,
)
from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import CurrentActor, ReadablePatient, SessionDep, WritablePatient
from app.schemas.common import Limit, Page
from app.schemas.diary import MedicationIn, MedicationOut, MedicationPatch
from app.services.diary import medications
from app.services.diary.medications import LIST as MEDICATION_LIST

router = APIRouter(tags=["medications"])

MEDICATIONS = "/patients/{pid}/medications"
MEDICATION = "/patients/{pid}/medications/{medication_id}"


@router.post(
    MEDICATIONS,
    status_code=201,
    operation_id="createMedication",
    summary="Add a medication (optional client id; honours Idempotency-Key)",
    response_model=MedicationOut,
    responses=with_etag_docs(
        MedicationOut, s201="Created", s200="This client id already holds this same medication"
    )
    | problems(401, 403, 404, 409, 422),
)
def create_medication(
    data: MedicationIn,
    patient: WritablePatient,
    actor: CurrentActor,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """201 with `Location` and `ETag`; its `doses` history is the dose from `started_on`. An
    optional client `id` makes it safe to retry (the same
    medication under that id again: 200; anything else: 409), and so does an `Idempotency-Key`
    (same key and body: the first response again, another body: 422). The patient, and grantees
    with write access (partners need `diary:write`); read-only grantees get 403."""
    result = medications.create_medication(
        session, patient, data, actor_id=actor.id, idempotency_key=idempotency_key
    )
    return outcome(request, result)


@router.put(
    MEDICATION,
    operation_id="putMedication",
    summary="Create (201) or replace (200) a medication under a client-chosen id",
    response_model=MedicationOut,
    responses=with_etag_docs(
        MedicationOut, s200="Replaced, or unchanged (same version)", s201="Created"
    )
    | problems(401, 403, 404, 409, 412, 422),
)
def put_medication(
    medication_id: uuid.UUID,
    data: MedicationIn,
    patient: WritablePatient,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> MedicationOut:
    """Create (201) or replace (200) under a client-chosen id; the same body again changes
    nothing. `If-None-Match: *` makes it create-only, a stale `If-Match` is a 412. A new
    medication's `doses` history is its dose from `started_on`. Changing `dose_mg_per_day` adds
    `{from: dose_changed_on, mg_per_day}` to `doses` (`dose_changed_on` defaults to the
    patient's local today; before `started_on`, after today or after `stopped_on` is a 422),
    replacing the entries from that day on. The patient, and grantees with write access
    (partners need `diary:write`); read-only grantees get 403."""
    result, out = medications.put_medication(
        session, patient, medication_id, data, if_match=if_match, if_none_match=if_none_match
    )
    return written_as(response, result, out)


@router.get(
    MEDICATIONS,
    operation_id="listMedications",
    summary="Medications, most recently started first",
    responses=problems(401, 403, 404, 422),
)
def list_medications(
    patient: ReadablePatient,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Annotated[str | None, cursor_query(MEDICATION_LIST)] = None,
) -> Page[MedicationOut]:
    """Most recently started first, stopped ones included; page with `limit` and `next_cursor`.
    The patient and their grantees (partners need `diary:read`, else 403)."""
    return medications.list_medications(session, patient, limit=limit, cursor=cursor)


@router.get(
    MEDICATION,
    operation_id="getMedication",
    summary="One medication",
    responses=with_etag_docs(s200="The medication") | problems(401, 403, 404, 422),
)
def get_medication(
    medication_id: uuid.UUID, patient: ReadablePatient, session: SessionDep, response: Response
) -> MedicationOut:
    """The medication with its version as `ETag`; unknown or deleted: 404. The patient and their
    grantees (partners need `diary:read`, else 403)."""
    out = medications.get_medication(session, patient, medication_id)
    with_etag(response, out.version)
    return out


@router.patch(
    MEDICATION,
    operation_id="updateMedication",
    summary="Change the dose, stop date or other fields of a medication",
    responses=with_etag_docs(s200="Updated or unchanged") | problems(401, 403, 404, 412, 422),
)
def patch_medication(
    medication_id: uuid.UUID,
    data: MedicationPatch,
    patient: WritablePatient,
    session: SessionDep,
    response: Response,
    if_match: RequiredIfMatch,
) -> MedicationOut:
    """Changes only the fields sent; `stopped_on: null` means it is taken again. A new
    `dose_mg_per_day` is recorded in `doses` from `dose_changed_on` (default: the patient's local
    today; before `started_on`, after today or after `stopped_on` is a 422), replacing the
    entries from that day on; `dose_changed_on` alone re-dates the current dose. A `stopped_on`
    before the last dose change is a 422. A stale `If-Match` is a 412. The patient, and
    grantees with write access (partners need `diary:write`); read-only grantees get 403."""
    result, out = medications.patch_medication(
        session, patient, medication_id, data, if_match=if_match
    )
    return written_as(response, result, out)


@router.delete(
    MEDICATION,
    status_code=204,
    operation_id="deleteMedication",
    summary="Delete a medication (it leaves a tombstone for the change feed)",
    responses=problems(401, 403, 404, 412, 422),
)
def delete_medication(
    medication_id: uuid.UUID,
    patient: WritablePatient,
    session: SessionDep,
    if_match: IfMatch = None,
) -> Response:
    """204 with the tombstone's version as `ETag`; the change feed reports it. A stale `If-Match`
    is a 412. The patient, and grantees with write access (partners need `diary:write`);
    read-only grantees get 403."""
    version = medications.delete_medication(session, patient, medication_id, if_match=if_match)
    return deleted(version)
