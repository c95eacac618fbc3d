"""Patient records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from app.api.responses import problems
from app.deps import CurrentActor, ReadablePatient, SessionDep, WritablePatient
from app.schemas.common import Page
from app.schemas.patients import PatientOut, PatientPatch
from app.services import patients

router = APIRouter(tags=["patients"])


@router.get(
    "/patients",
    operation_id="listPatients",
    summary="The patients the caller may see",
    responses=problems(401),
)
def list_patients(actor: CurrentActor, session: SessionDep) -> Page[PatientOut]:
    return Page[PatientOut](items=patients.list_patients(session, actor))


@router.get(
    "/patients/{pid}",
    operation_id="getPatient",
    summary="One patient record (`me` for your own)",
    responses=problems(401, 404),
)
def get_patient(patient: ReadablePatient, response: Response) -> PatientOut:
    response.headers["ETag"] = f'"{patient.version}"'
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
    if_match: Annotated[str | None, Header()] = None,
) -> PatientOut:
    out = patients.update_patient(session, patient, data, if_match)
    response.headers["ETag"] = f'"{out.version}"'
    return out
