"""Validated questionnaires (PHQ-9, GAD-7, Penn-FPS-R, PGIC, CADSS-6)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import AwareDatetime

from app.api.conditional import IfMatch, IfNoneMatch, deleted, with_etag, with_etag_docs, written
from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import ReadablePatient, SessionDep, WritablePatient
from app.schemas.assessments import AssessmentIn, AssessmentOut
from app.schemas.common import Limit, Page
from app.services.diary import assessments
from app.services.diary.assessments import LIST as ASSESSMENTS
from app.vocabulary import Instrument

router = APIRouter(tags=["assessments"])

ASSESSMENT = "/patients/{pid}/assessments/{assessment_id}"


@router.put(
    ASSESSMENT,
    operation_id="putAssessment",
    summary="Create (201) or replace (200) a questionnaire result; the total is computed",
    response_model=AssessmentOut,
    responses=with_etag_docs(
        AssessmentOut, s200="Replaced, or unchanged (same version)", s201="Created"
    )
    | problems(401, 403, 404, 409, 412, 422),
)
def put_assessment(
    assessment_id: uuid.UUID,
    data: AssessmentIn,
    patient: WritablePatient,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> AssessmentOut:
    """Create (201) or replace (200) a questionnaire result (PHQ-9, GAD-7, Penn-FPS-R, PGIC,
    CADSS-6) under a client-chosen id; the server checks the item count and ranges of the
    instrument (422) and computes the total. Optionally linked to a treatment series.
    `If-None-Match: *` / `If-Match` as for episodes (412). The patient, and grantees with write
    access (partners need `diary:write`); read-only grantees get 403."""
    result = assessments.put_assessment(
        session, patient, assessment_id, data, if_match=if_match, if_none_match=if_none_match
    )
    return written(response, assessments.ASSESSMENTS, result)


@router.get(
    "/patients/{pid}/assessments",
    operation_id="listAssessments",
    summary="Questionnaire results, newest first",
    responses=problems(401, 403, 404, 422),
)
def list_assessments(
    patient: ReadablePatient,
    session: SessionDep,
    instrument: Instrument | None = None,
    start: Annotated[
        AwareDatetime | None, Query(alias="from", description="taken_at ≥ this (inclusive)")
    ] = None,
    end: Annotated[
        AwareDatetime | None, Query(alias="to", description="taken_at < this (exclusive)")
    ] = None,
    limit: Limit = 50,
    cursor: Annotated[str | None, cursor_query(ASSESSMENTS)] = None,
) -> Page[AssessmentOut]:
    """Newest first; filter by `instrument` and `from`/`to` (on `taken_at`); page with `limit` and
    `next_cursor`. The patient and their grantees (partners need `diary:read`, else 403)."""
    return assessments.list_assessments(
        session,
        patient,
        instrument=instrument,
        start=start,
        end=end,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    ASSESSMENT,
    operation_id="getAssessment",
    summary="One questionnaire result",
    responses=with_etag_docs(s200="The assessment") | problems(401, 403, 404, 422),
)
def get_assessment(
    assessment_id: uuid.UUID, patient: ReadablePatient, session: SessionDep, response: Response
) -> AssessmentOut:
    """The result with its total and its version as `ETag`; unknown or deleted: 404. The patient
    and their grantees (partners need `diary:read`, else 403)."""
    out = assessments.get_assessment(session, patient, assessment_id)
    with_etag(response, out.version)
    return out


@router.delete(
    ASSESSMENT,
    status_code=204,
    operation_id="deleteAssessment",
    summary="Delete a questionnaire result (it leaves a tombstone for the change feed)",
    responses=problems(401, 403, 404, 412, 422),
)
def delete_assessment(
    assessment_id: uuid.UUID,
    patient: WritablePatient,
    session: SessionDep,
    if_match: IfMatch = None,
) -> Response:
    """204 with the tombstone's version as `ETag`; the change feed reports it. A stale `If-Match`
    is a 412. The patient, and grantees with write access (partners need `diary:write`);
    read-only grantees get 403."""
    version = assessments.delete_assessment(session, patient, assessment_id, if_match=if_match)
    return deleted(version)
