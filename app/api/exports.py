"""Exports for partners and clinicians (CSV, FHIR) and the patient's data rights (/me)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Response
from fastapi.responses import StreamingResponse

from app.api.responses import problems
from app.deps import ContextDep, CurrentActor, ReportablePatient, RequestInfoDep, SessionDep
from app.schemas.exports import EraseIn, ExportDocument, ImportDocument, ImportResult
from app.security.rate_limit import export_key, rate_limit
from app.services.care import audit
from app.services.context import AppContext
from app.services.exports import data_export, data_import
from app.services.exports.episodes_csv import episodes_csv
from app.services.exports.fhir_bundle import FHIR_JSON, fhir_bundle
from app.services.identity import erasure

router = APIRouter(tags=["exports"])


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _count_export(ctx: AppContext, owner: uuid.UUID) -> None:
    """Exports are heavy and carry the whole record: at most ``export_max_per_patient`` per
    window, whoever asks (429 with Retry-After beyond). Counted in a short transaction of its
    own, committed before anything streams."""
    with ctx.db.session(write=True) as session:
        rate_limit(
            session,
            export_key(owner),
            limit=ctx.settings.export_max_per_patient,
            window=ctx.settings.export_window_seconds,
        )
        session.commit()


@router.get(
    "/patients/{pid}/export/episodes.csv",
    operation_id="exportEpisodesCsv",
    summary="The patient's episodes as CSV (streamed, spreadsheet-safe)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The CSV file",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problems(401, 403, 404, 429),
    },
)
def export_episodes_csv(patient: ReportablePatient, ctx: ContextDep) -> StreamingResponse:
    """One row per live episode, oldest first, with a header row: `id, started_at_utc,
    started_at_local, local_date, timezone, duration_seconds, attack_count, intensity, side,
    branches, qualities, triggers, rescue_medication, note, version, created_at_utc,
    updated_at_utc`. Lists are joined with `;`. Cells beginning with `=`, `+`, `-`, `@`, a tab
    or a carriage return are prefixed with `'` so spreadsheets show them as text. The patient
    and their grantees; partners need `reports:read` (else 403). Exports per patient are
    rate-limited, whoever asks (429 with Retry-After). On the patient's access log as an
    export."""
    _count_export(ctx, patient.id)
    return StreamingResponse(
        episodes_csv(ctx.db, patient.id, patient.timezone),
        media_type="text/csv; charset=utf-8; header=present",
        headers=_attachment(f"paindiary-episodes-{_today()}.csv"),
    )


@router.get(
    "/patients/{pid}/export/fhir",
    operation_id="exportFhirBundle",
    summary="The patient's record as a FHIR R4 Bundle (collection)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A FHIR R4 Bundle of type collection",
            "content": {FHIR_JSON: {"schema": {"type": "object"}}},
        },
        **problems(401, 403, 404, 429),
    },
)
def export_fhir(patient: ReportablePatient, ctx: ContextDep) -> StreamingResponse:
    """Patient, Condition (SNOMED CT 31681005, ICD-10 G50.0, laterality and divisions), an
    Observation per episode (LOINC 72514-3, valueInteger = intensity, effectivePeriod, triggers
    and qualities as components), per daily check-in and per questionnaire (PHQ-9 LOINC
    44261-6, GAD-7 LOINC 70274-6), and a MedicationAdministration per treatment session (RxNorm
    6130 ketamine, dose in mg, SNOMED CT route). Deleted records are left out. References use
    the entries' `urn:uuid:` full URLs. Streamed as `application/fhir+json`. The patient and
    their grantees; partners need `reports:read` (else 403). Exports per patient are
    rate-limited, whoever asks (429 with Retry-After)."""
    _count_export(ctx, patient.id)
    return StreamingResponse(fhir_bundle(ctx.db, patient.id), media_type=FHIR_JSON)


@router.get(
    "/me/export",
    operation_id="exportMyData",
    summary="Everything we hold about you, as one JSON document",
    tags=["me"],
    response_model=ExportDocument,
    responses=problems(401, 403, 429),
)
def export_my_data(
    actor: CurrentActor, session: SessionDep, ctx: ContextDep, info: RequestInfoDep
) -> Response:
    """Patients: the account, profile and diagnosis, every diary and treatment record (deleted
    ones the server still keeps are included with `deleted_at`), the grants you gave and your
    access log. Clinicians and admins: the account and the grants patients gave you. The
    document can be imported into a new account (`POST /me/import`). Streamed; it is on your
    access log as an export. People only (partner tokens: 403). Exports per patient are
    rate-limited, whoever asks (429 with Retry-After)."""
    _count_export(ctx, actor.patient_id or actor.id)
    body = data_export.export_me(ctx.db, session, actor)
    session.commit()  # end the read: the document is read from a snapshot of its own
    if actor.patient_id is not None:
        audit.record(ctx.db, [audit.event_for(actor, actor.patient_id, info, "success")])
    return StreamingResponse(
        body,
        media_type="application/json",
        headers=_attachment(f"paindiary-export-{_today()}.json"),
    )


@router.post(
    "/me/import",
    operation_id="importMyData",
    summary="Import a /me/export document into your new, empty account",
    tags=["me"],
    responses=problems(401, 403, 409, 413, 415, 422),
)
def import_my_data(
    data: ImportDocument,
    actor: CurrentActor,
    session: SessionDep,
    ctx: ContextDep,
    info: RequestInfoDep,
) -> ImportResult:
    """Patients only (others 403). Every record gets a new id; sessions and assessments follow
    their series. Versions start at 1, timestamps are kept, and the profile and diagnosis
    replace the account's (the e-mail and password stay). Grants and the access log are
    accepted but not imported. All or nothing: a document with any error is a 422 naming its
    path, and nothing is written. An account that already has diary records gets 409. Bodies up
    to 32 MiB (413 beyond); `grants` and `access_log` may be left out to save space."""
    try:
        return data_import.import_document(session, actor, info, data)
    except Exception:
        audit.settle(ctx.db, session, failed=True)
        raise


@router.delete(
    "/me",
    status_code=204,
    operation_id="deleteMyAccount",
    summary="Erase your account and all your data for good",
    tags=["me"],
    responses=problems(401, 403, 422),
)
def delete_my_account(
    data: EraseIn, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> Response:
    """Needs your password: a wrong one is a 401 and deletes nothing. Patients: the account,
    profile, diary, treatments, grants and sign-ins are deleted in one go and cannot be
    restored; every token stops working. The access audit trail of your record stays (it holds
    who accessed it, no health data) and ends with a pseudonymous `erase` entry. Answers 204.
    People only (partner tokens: 403)."""
    erasure.erase_me(session, ctx, actor, data.password)
    return Response(status_code=204)
