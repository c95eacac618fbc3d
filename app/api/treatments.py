"""Treatment series (e.g. a ketamine infusion series) and their sessions."""

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
from app.schemas.treatments import (
    SeriesIn,
    SeriesOut,
    SeriesPatch,
    SessionIn,
    SessionOut,
    SessionPatch,
)
from app.services import series, treatment_sessions
from app.services.records import etag
from app.services.treatments import SERIES, SESSIONS

router = APIRouter(tags=["treatments"])

SERIES_LIST = "/patients/{pid}/series"
ONE_SERIES = "/patients/{pid}/series/{sid}"
SESSION_LIST = "/patients/{pid}/series/{sid}/sessions"
ONE_SESSION = "/patients/{pid}/series/{sid}/sessions/{session_id}"
WRITTEN = with_etag_docs(s200="Replaced, or unchanged (same version)", s201="Created")
CREATED = with_etag_docs(s201="Created", s200="This client id already holds this same record")
DOSE_NOTE = (
    " With the patient's weight known, a missing dose form is derived from the other; both forms "
    "that disagree by more than 5 % are a 422 naming dose_mg_per_kg."
)

# --- series -----------------------------------------------------------------------------------


@router.post(
    SERIES_LIST,
    status_code=201,
    operation_id="createSeries",
    summary="Start a treatment series (optional client id; honours Idempotency-Key)",
    response_model=SeriesOut,
    responses=CREATED | problems(401, 403, 404, 409, 422),
)
def create_series(
    data: SeriesIn,
    patient: WritablePatient,
    actor: CurrentActor,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    result = series.create_series(
        session, patient, data, actor_id=actor.id, idempotency_key=idempotency_key
    )
    return outcome(request, result)


@router.put(
    ONE_SERIES,
    operation_id="putSeries",
    summary="Create (201) or replace (200) a treatment series under a client-chosen id",
    response_model=SeriesOut,
    responses=WRITTEN | problems(401, 403, 404, 409, 412, 422),
)
def put_series(
    sid: uuid.UUID,
    data: SeriesIn,
    patient: WritablePatient,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> SeriesOut:
    result = series.put_series(
        session, patient, sid, data, if_match=if_match, if_none_match=if_none_match
    )
    return written(response, SERIES, result)


@router.get(
    SERIES_LIST,
    operation_id="listSeries",
    summary="Treatment series, most recently created first",
    responses=problems(401, 404, 422),
)
def list_series(
    patient: ReadablePatient, session: SessionDep, limit: Limit = 50, cursor: str | None = None
) -> Page[SeriesOut]:
    return series.list_series(session, patient, limit=limit, cursor=cursor)


@router.get(
    ONE_SERIES,
    operation_id="getSeries",
    summary="One treatment series",
    responses=with_etag_docs(s200="The series") | problems(401, 404, 422),
)
def get_series(
    sid: uuid.UUID, patient: ReadablePatient, session: SessionDep, response: Response
) -> SeriesOut:
    out = series.get_series(session, patient, sid)
    with_etag(response, out.version)
    return out


@router.patch(
    ONE_SERIES,
    operation_id="updateSeries",
    summary="Change some fields of a treatment series",
    responses=with_etag_docs(s200="Updated or unchanged") | problems(401, 403, 404, 412, 422),
)
def patch_series(
    sid: uuid.UUID,
    data: SeriesPatch,
    patient: WritablePatient,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> SeriesOut:
    result = series.patch_series(session, patient, sid, data, if_match=if_match)
    return written(response, SERIES, result)


@router.delete(
    ONE_SERIES,
    status_code=204,
    operation_id="deleteSeries",
    summary="Delete a treatment series and its sessions (tombstones for the change feed)",
    description="Its questionnaires stay, unlinked from it (series_id becomes null).",
    responses=problems(401, 403, 404, 412, 422),
)
def delete_series(
    sid: uuid.UUID, patient: WritablePatient, session: SessionDep, if_match: IfMatch = None
) -> Response:
    version = series.delete_series(session, patient, sid, if_match=if_match)
    return Response(status_code=204, headers={"ETag": etag(version)})


# --- sessions ---------------------------------------------------------------------------------


@router.post(
    SESSION_LIST,
    status_code=201,
    operation_id="createSession",
    summary="Record a session of the series (optional client id; honours Idempotency-Key)",
    description="recorded_by is set to the caller." + DOSE_NOTE,
    response_model=SessionOut,
    responses=CREATED | problems(401, 403, 404, 409, 422),
)
def create_session(
    sid: uuid.UUID,
    data: SessionIn,
    patient: WritablePatient,
    actor: CurrentActor,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    result = treatment_sessions.create_session(
        session, patient, sid, data, actor=actor, idempotency_key=idempotency_key
    )
    return outcome(request, result)


@router.put(
    ONE_SESSION,
    operation_id="putSession",
    summary="Create (201) or replace (200) a session under a client-chosen id",
    description="A session id that belongs to another series is a 409: sessions cannot move "
    "between series. recorded_by is set to the caller." + DOSE_NOTE,
    response_model=SessionOut,
    responses=WRITTEN | problems(401, 403, 404, 409, 412, 422),
)
def put_session(
    sid: uuid.UUID,
    session_id: uuid.UUID,
    data: SessionIn,
    patient: WritablePatient,
    actor: CurrentActor,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> SessionOut:
    result = treatment_sessions.put_session(
        session,
        patient,
        sid,
        session_id,
        data,
        actor=actor,
        if_match=if_match,
        if_none_match=if_none_match,
    )
    return written(response, SESSIONS, result)


@router.get(
    SESSION_LIST,
    operation_id="listSessions",
    summary="Sessions of a series, newest first (incomplete ones included and flagged)",
    responses=problems(401, 404, 422),
)
def list_sessions(
    sid: uuid.UUID,
    patient: ReadablePatient,
    session: SessionDep,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[SessionOut]:
    return treatment_sessions.list_sessions(session, patient, sid, limit=limit, cursor=cursor)


@router.get(
    ONE_SESSION,
    operation_id="getSession",
    summary="One session",
    responses=with_etag_docs(s200="The session") | problems(401, 404, 422),
)
def get_session(
    sid: uuid.UUID,
    session_id: uuid.UUID,
    patient: ReadablePatient,
    session: SessionDep,
    response: Response,
) -> SessionOut:
    out = treatment_sessions.get_session(session, patient, sid, session_id)
    with_etag(response, out.version)
    return out


@router.patch(
    ONE_SESSION,
    operation_id="updateSession",
    summary="Change some fields of a session",
    description="Vitals merge member by member (vitals: null clears them). One dose form sent "
    "alone replaces both: the other is derived afresh, or cleared without a known weight. "
    "recorded_by is set to the caller when something changes." + DOSE_NOTE,
    responses=with_etag_docs(s200="Updated or unchanged") | problems(401, 403, 404, 412, 422),
)
def patch_session(
    sid: uuid.UUID,
    session_id: uuid.UUID,
    data: SessionPatch,
    patient: WritablePatient,
    actor: CurrentActor,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> SessionOut:
    result = treatment_sessions.patch_session(
        session, patient, sid, session_id, data, actor=actor, if_match=if_match
    )
    return written(response, SESSIONS, result)


@router.delete(
    ONE_SESSION,
    status_code=204,
    operation_id="deleteSession",
    summary="Delete a session (it leaves a tombstone for the change feed)",
    responses=problems(401, 403, 404, 412, 422),
)
def delete_session(
    sid: uuid.UUID,
    session_id: uuid.UUID,
    patient: WritablePatient,
    session: SessionDep,
    if_match: IfMatch = None,
) -> Response:
    version = treatment_sessions.delete_session(
        session, patient, sid, session_id, if_match=if_match
    )
    return Response(status_code=204, headers={"ETag": etag(version)})
