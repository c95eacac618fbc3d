"""Patient records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.conditional import RequiredIfMatch, with_etag
from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import (
    ContextDep,
    CurrentActor,
    ReadablePatient,
    RequestInfoDep,
    SessionDep,
    WritablePatient,
)
from app.schemas.common import Page
from app.schemas.patients import PatientOut, PatientPatch
from app.services.care import patients
from app.services.care.access import PATIENTS

router = APIRouter(tags=["patients"])


@router.get(
    "/patients",
    operation_id="listPatients",
    summary="The patients the caller may see: yourself, or those who granted you access",
    responses=problems(401, 403, 422),
)
def list_patients(
    actor: CurrentActor,
    session: SessionDep,
    ctx: ContextDep,
    info: RequestInfoDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, cursor_query(PATIENTS)] = None,
) -> Page[PatientOut]:
    """A patient gets their own record; clinicians and partners get every patient with an
    active grant to them (read or write), in id order; page with `limit` and `next_cursor`.
    Start here to learn the patient ids. The items are profiles, as `GET /patients/{pid}`
    returns them, so partners need `diary:read` here too (else 403). Listing counts as
    reading each listed patient: it is on their access log."""
    return patients.list_patients(session, ctx.db, actor, info, limit=limit, cursor=cursor)


@router.get(
    "/patients/{pid}",
    operation_id="getPatient",
    summary="One patient record (`me` for your own)",
    responses=problems(401, 403, 404),
)
def get_patient(patient: ReadablePatient, response: Response) -> PatientOut:
    """Profile, time zone and diagnosis, with the version as `ETag`. The patient, and
    grantees (partners need `diary:read`, else 403); anyone else gets 404."""
    with_etag(response, patient.version)
    return patients.patient_out(patient)


@router.patch(
    "/patients/{pid}",
    operation_id="updatePatient",
    summary="Update profile and diagnosis",
    responses=problems(401, 403, 404, 412, 422),
)
def update_patient(
    data: PatientPatch,
    patient: WritablePatient,
    session: SessionDep,
    response: Response,
    if_match: RequiredIfMatch,
) -> PatientOut:
    """Changes only the fields sent (diagnosis members too); answers with the new `ETag`. Send
    `If-Match` with the version you read: a stale one is a 412 and changes nothing. The
    patient, and write grantees (partners need `diary:write`); read-only grantees get 403."""
    out = patients.update_patient(session, patient, data, if_match)
    with_etag(response, out.version)
    return out
