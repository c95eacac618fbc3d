"""Treatment series (e.g. a ketamine infusion series) and their sessions."""

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
    written,
)
from app.api.paging import cursor_query
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
from app.services.treatments import series
from app.services.treatments import sessions as treatment_sessions
from app.services.treatments.series import LIST as SERIES_KEYSET
from app.services.treatments.sessions import LIST as SESSION_KEYSET
from app.services.treatments.shared import SERIES, SESSIONS

router = APIRouter(tags=["treatments"])

SERIES_LIST = "/patients/{pid}/series"
ONE_SERIES = "/patients/{pid}/series/{sid}"
SESSION_LIST = "/patients/{pid}/series/{sid}/sessions"
ONE_SESSION = "/patients/{pid}/series/{sid}/sessions/{session_id}"
SERIES_WRITTEN = with_etag_docs(
    SeriesOut, s200="Replaced, or unchanged (same version)", s201="Created"
)
SERIES_CREATED = with_etag_docs(
    SeriesOut, s201="Created", s200="This client id already holds this same record"
)
SESSION_WRITTEN = with_etag_docs(
    SessionOut, s200="Replaced, or unchanged (same version)", s201="Created"
)
SESSION_CREATED = with_etag_docs(
    SessionOut, s201="Created", s200="This client id already holds this same record"
)
# Shared by the session writes, whose descriptions are composed rather than docstrings.
DOSE_NOTE = (
    " With the patient's weight known, a missing dose form is derived from the other; both forms "
    "that disagree by more than 5 % are a 422 naming dose_mg_per_kg."
)
WRITERS = (
    " The patient, and grantees with write access (partners need `diary:write`); read-only "
    "grantees get 403."
)

# --- series -----------------------------------------------------------------------------------


@router.post(
    SERIES_LIST,
    status_code=201,
    operation_id="createSeries",
    summary="Start a treatment series (optional client id; honours Idempotency-Key)",
    response_model=SeriesOut,
    responses=SERIES_CREATED | problems(401, 403, 404, 409, 422),
)
def create_series(
    data: SeriesIn,
    patient: WritablePatient,
    actor: CurrentActor,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """201 with `Location` and `ETag`. An optional client `id` makes it safe to retry (the same
    series under that id again: 200; anything else: 409), and so does an `Idempotency-Key`.
    `baseline_days` and `follow_up_days` set the trend's windows. The patient, and grantees
    with write access (partners need `diary:write`); read-only grantees get 403."""
    result = series.create_series(
        session, patient, data, actor_id=actor.id, idempotency_key=idempotency_key
    )
    return outcome(request, result)


@router.put(
    ONE_SERIES,
    operation_id="putSeries",
    summary="Create (201) or replace (200) a treatment series under a client-chosen id",
    response_model=SeriesOut,
    responses=SERIES_WRITTEN | problems(401, 403, 404, 409, 412, 422),
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
    """Create (201) or replace (200) under a client-chosen id; the same body again changes
    nothing. `If-None-Match: *` makes it create-only, a stale `If-Match` is a 412; a deleted id
    is a 409. The patient, and grantees with write access (partners need `diary:write`);
    read-only grantees get 403."""
    result = series.put_series(
        session, patient, sid, data, if_match=if_match, if_none_match=if_none_match
    )
    return written(response, SERIES, result)


@router.get(
    SERIES_LIST,
    operation_id="listSeries",
    summary="Treatment series, most recently created first",
    responses=problems(401, 403, 404, 422),
)
def list_series(
    patient: ReadablePatient,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Annotated[str | None, cursor_query(SERIES_KEYSET)] = None,
) -> Page[SeriesOut]:
    """Most recently created first; page with `limit` and `next_cursor`. Partners reading trends
    find the series ids here. The patient and their grantees (partners need `diary:read`, else
    403)."""
    return series.list_series(session, patient, limit=limit, cursor=cursor)


@router.get(
    ONE_SERIES,
    operation_id="getSeries",
    summary="One treatment series",
    responses=with_etag_docs(s200="The series") | problems(401, 403, 404, 422),
)
def get_series(
    sid: uuid.UUID, patient: ReadablePatient, session: SessionDep, response: Response
) -> SeriesOut:
    """The series with its version as `ETag`; unknown or deleted: 404. The patient and their
    grantees (partners need `diary:read`, else 403)."""
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
    if_match: RequiredIfMatch,
) -> SeriesOut:
    """Changes only the fields sent (null clears protocol and planned_sessions). A stale
    `If-Match` is a 412. The patient, and grantees with write access (partners need
    `diary:write`); read-only grantees get 403."""
    result = series.patch_series(session, patient, sid, data, if_match=if_match)
    return written(response, SERIES, result)


@router.delete(
    ONE_SERIES,
    status_code=204,
    operation_id="deleteSeries",
    summary="Delete a treatment series and its sessions (tombstones for the change feed)",
    responses=problems(401, 403, 404, 412, 422),
)
def delete_series(
    sid: uuid.UUID, patient: WritablePatient, session: SessionDep, if_match: IfMatch = None
) -> Response:
    """204 with the tombstone's version as `ETag`. Its sessions are deleted with it, each reported
    by the change feed; its questionnaires stay, unlinked (series_id becomes null). A stale
    `If-Match` is a 412. The patient, and grantees with write access (partners need
    `diary:write`); read-only grantees get 403."""
    version = series.delete_series(session, patient, sid, if_match=if_match)
    return deleted(version)


# --- sessions ---------------------------------------------------------------------------------


@router.post(
    SESSION_LIST,
    status_code=201,
    operation_id="createSession",
    summary="Record a session of the series (optional client id; honours Idempotency-Key)",
    description="201 with `Location` and `ETag`; an optional client `id` or an "
    "`Idempotency-Key` makes retries safe (as for medications). recorded_by is set to the "
    "caller." + DOSE_NOTE + WRITERS,
    response_model=SessionOut,
    responses=SESSION_CREATED | problems(401, 403, 404, 409, 422),
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
    "between series. `If-None-Match: *` makes it create-only, a stale `If-Match` is a 412. "
    "recorded_by is set to the caller." + DOSE_NOTE + WRITERS,
    response_model=SessionOut,
    responses=SESSION_WRITTEN | problems(401, 403, 404, 409, 412, 422),
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
    responses=problems(401, 403, 404, 422),
)
def list_sessions(
    sid: uuid.UUID,
    patient: ReadablePatient,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Annotated[str | None, cursor_query(SESSION_KEYSET)] = None,
) -> Page[SessionOut]:
    """Newest first, incomplete ones included and flagged (`flags`: incomplete, dose_unverified,
    hypertension_reading); page with `limit` and `next_cursor`. The patient and their grantees
    (partners need `diary:read`, else 403)."""
    return treatment_sessions.list_sessions(session, patient, sid, limit=limit, cursor=cursor)


@router.get(
    ONE_SESSION,
    operation_id="getSession",
    summary="One session",
    responses=with_etag_docs(s200="The session") | problems(401, 403, 404, 422),
)
def get_session(
    sid: uuid.UUID,
    session_id: uuid.UUID,
    patient: ReadablePatient,
    session: SessionDep,
    response: Response,
) -> SessionOut:
    """The session with its computed flags and its version as `ETag`; unknown, deleted or of
    another series: 404. The patient and their grantees (partners need `diary:read`, else 403)."""
    out = treatment_sessions.get_session(session, patient, sid, session_id)
    with_etag(response, out.version)
    return out


@router.patch(
    ONE_SESSION,
    operation_id="updateSession",
    summary="Change some fields of a session",
    description="Vitals merge member by member (vitals: null clears them). One dose form sent "
    "alone replaces both: the other is derived afresh, or cleared without a known weight. "
    "recorded_by is set to the caller when something changes. A stale `If-Match` is a 412."
    + DOSE_NOTE
    + WRITERS,
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
    if_match: RequiredIfMatch,
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
    """204 with the tombstone's version as `ETag`; the change feed reports it and the trend no
    longer counts it. A stale `If-Match` is a 412. The patient, and grantees with write access
    (partners need `diary:write`); read-only grantees get 403."""
    version = treatment_sessions.delete_session(
        session, patient, sid, session_id, if_match=if_match
    )
    return deleted(version)
