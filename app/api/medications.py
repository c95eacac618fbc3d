"""Maintenance medications."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from app.api.conditional import (
    IdempotencyKey,
    IfMatch,
    IfNoneMatch,
    outcome,
    with_etag,
    with_etag_docs,
    written,
)
from app.api.responses import problems
from app.deps import CurrentActor, ReadablePatient, SessionDep, WritablePatient
from app.schemas.common import Limit, Page
from app.schemas.diary import MedicationIn, MedicationOut, MedicationPatch
from app.services import medications
from app.services.records import etag

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
        s201="Created", s200="This client id already holds this same medication"
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
    result = medications.create_medication(
        session, patient, data, actor_id=actor.id, idempotency_key=idempotency_key
    )
    return outcome(request, result)


@router.put(
    MEDICATION,
    operation_id="putMedication",
    summary="Create (201) or replace (200) a medication under a client-chosen id",
    response_model=MedicationOut,
    responses=with_etag_docs(s200="Replaced, or unchanged (same version)", s201="Created")
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
    result = medications.put_medication(
        session, patient, medication_id, data, if_match=if_match, if_none_match=if_none_match
    )
    return written(response, medications.MEDICATIONS, result)


@router.get(
    MEDICATIONS,
    operation_id="listMedications",
    summary="Medications, most recently started first",
    responses=problems(401, 404, 422),
)
def list_medications(
    patient: ReadablePatient, session: SessionDep, limit: Limit = 50, cursor: str | None = None
) -> Page[MedicationOut]:
    return medications.list_medications(session, patient, limit=limit, cursor=cursor)


@router.get(
    MEDICATION,
    operation_id="getMedication",
    summary="One medication",
    responses=with_etag_docs(s200="The medication") | problems(401, 404, 422),
)
def get_medication(
    medication_id: uuid.UUID, patient: ReadablePatient, session: SessionDep, response: Response
) -> MedicationOut:
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
    if_match: IfMatch = None,
) -> MedicationOut:
    result = medications.patch_medication(session, patient, medication_id, data, if_match=if_match)
    return written(response, medications.MEDICATIONS, result)


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
    version = medications.delete_medication(session, patient, medication_id, if_match=if_match)
    return Response(status_code=204, headers={"ETag": etag(version)})
