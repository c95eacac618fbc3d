"""Exports for partners and clinicians (CSV, FHIR) and the patient's data rights (/me)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from app.api.responses import problems
from app.deps import ContextDep, CurrentActor, ReportablePatient
from app.services.exports import episodes_csv, fhir_bundle
from app.services.exports.fhir_bundle import FHIR_JSON
from app.trends import days

router = APIRouter(tags=["exports"])


def attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def utc_today() -> str:
    return days.utc_today().isoformat()


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
def export_episodes_csv(
    patient: ReportablePatient, actor: CurrentActor, ctx: ContextDep
) -> StreamingResponse:
    """One row per live episode, oldest first, with a header row: `id, started_at_utc,
    started_at_local, local_date, timezone, duration_seconds, attack_count, intensity, side,
    branches, qualities, triggers, rescue_medication, note, version, created_at_utc,
    updated_at_utc`. Lists are joined with `;`. Cells beginning with `=`, `+`, `-`, `@`, a tab
    or a carriage return are prefixed with `'` so spreadsheets show them as text. The patient
    and their grantees; partners need `reports:read` (else 403). Each caller's exports of
    a patient are rate-limited (429 with Retry-After). On the patient's access log as an
    export."""
    return StreamingResponse(
        episodes_csv.export_episodes(ctx, patient, actor),
        media_type="text/csv; charset=utf-8; header=present",
        headers=attachment(f"paindiary-episodes-{utc_today()}.csv"),
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
def export_fhir(
    patient: ReportablePatient, actor: CurrentActor, ctx: ContextDep
) -> StreamingResponse:
    """Patient, Condition (SNOMED CT 31681005, ICD-10 G50.0, laterality and divisions), an
    Observation per episode (LOINC 72514-3, valueInteger = intensity, effectivePeriod, triggers
    and qualities as components), per daily check-in and per questionnaire (PHQ-9 LOINC
    44261-6, GAD-7 LOINC 70274-6), and a MedicationAdministration per treatment session (RxNorm
    6130 ketamine, dose in mg, SNOMED CT route). Deleted records are left out. References use
    the entries' `urn:uuid:` full URLs. Streamed as `application/fhir+json`. The patient and
    their grantees; partners need `reports:read` (else 403). Each caller's exports of
    a patient are rate-limited (429 with Retry-After)."""
    return StreamingResponse(fhir_bundle.export_bundle(ctx, patient, actor), media_type=FHIR_JSON)
