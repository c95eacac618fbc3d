"""Episodes (pain attacks) and their batch upload."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

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
    written_json,
)
from app.api.openapi import document_model
from app.api.paging import cursor_query
from app.api.responses import problems
from app.deps import (
    CurrentActor,
    PatientWriteDep,
    ReadablePatient,
    SessionDep,
    WritablePatient,
)
from app.schemas.common import Limit, Page
from app.schemas.diary import (
    BatchEpisode,
    BatchIn,
    BatchOut,
    EpisodeBody,
    EpisodeIn,
    EpisodeOut,
    EpisodePatch,
    IntensityQuery,
)
from app.services.diary import episodes
from app.services.diary.episodes import LIST as EPISODE_LIST
from app.services.sync import batch
from app.vocabulary import Trigger

router = APIRouter(tags=["episodes"])

EPISODES = "/patients/{pid}/episodes"
# The uuid convertor: "/episodes/batch" can never be taken for an episode id (OPTIONS or a
# wrong method there is about the batch route, not about /episodes/{episode_id}).
EPISODE = "/patients/{pid}/episodes/{episode_id:uuid}"
document_model(BatchEpisode)  # what BatchIn's items refer to
WRITTEN = with_etag_docs(EpisodeOut, s200="Replaced, or unchanged (same version)", s201="Created")


@router.put(
    EPISODE,
    operation_id="putEpisode",
    summary="Create (201) or replace (200) an episode under a client-chosen id",
    response_model=EpisodeOut,
    responses={**WRITTEN, **problems(401, 403, 404, 409, 412, 422)},
)
def put_episode(
    episode_id: uuid.UUID,
    data: EpisodeIn,
    write: PatientWriteDep,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The offline app's write: the client picks the id. 201 when new, 200 when replaced; the same
    body again changes nothing (200, same version). `ETag` carries the version. `If-None-Match:
    *` makes it create-only and `If-Match` guards against lost updates (412 when stale). An id
    that was deleted, or belongs to another patient's record, is a 409. The patient, and
    grantees with write access (partners need `diary:write`); read-only grantees get 403."""
    patient, seq = write.begin()  # sign-in and access checks, in this thread hop
    result = episodes.put_episode(
        write.session,
        patient,
        episode_id,
        data,
        if_match=if_match,
        if_none_match=if_none_match,
        seq=seq,
    )
    return written_json(episodes.EPISODES, result)


@router.post(
    EPISODES,
    status_code=201,
    operation_id="createEpisode",
    summary="Create an episode with a server-chosen id (honours Idempotency-Key)",
    response_model=EpisodeOut,
    responses=with_etag_docs(s201="Created") | problems(401, 403, 404, 422),
)
def create_episode(
    data: EpisodeBody,
    patient: WritablePatient,
    actor: CurrentActor,
    session: SessionDep,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """201 with a server-chosen id, `Location` and `ETag`. Send an `Idempotency-Key` to retry
    safely: the same key and body replay the first response (`Idempotent-Replayed: true`), the
    same key with another body is a 422. The patient, and grantees with write access (partners
    need `diary:write`); read-only grantees get 403."""
    result = episodes.create_episode(
        session, patient, data, actor_id=actor.id, idempotency_key=idempotency_key
    )
    return outcome(request, result)


@router.post(
    EPISODES + "/batch",
    operation_id="uploadEpisodes",
    summary="Create or replace up to 500 episodes; each item succeeds or fails on its own",
    responses=problems(401, 403, 404, 413, 422),
)
def upload_episodes(data: BatchIn, patient: WritablePatient, session: SessionDep) -> BatchOut:
    """Up to 500 episodes, each with its own client id, created or replaced like a PUT; every item
    gets its own result (`created`, `updated`, `unchanged`, `invalid`, `conflict`) in request
    order, so one bad item never fails the others. Bodies up to 8 MiB (413 beyond). The
    patient, and grantees with write access (partners need `diary:write`); read-only grantees
    get 403."""
    return batch.upsert_episodes(session, patient, data.items)


@router.get(
    EPISODES,
    operation_id="listEpisodes",
    summary="Episodes, newest first",
    responses=problems(401, 403, 404, 422),
)
def list_episodes(
    patient: ReadablePatient,
    session: SessionDep,
    start: Annotated[
        AwareDatetime | None, Query(alias="from", description="started_at ≥ this (inclusive)")
    ] = None,
    end: Annotated[
        AwareDatetime | None, Query(alias="to", description="started_at < this (exclusive)")
    ] = None,
    trigger: Annotated[Trigger | None, Query(description="Episodes with this trigger")] = None,
    min_intensity: Annotated[IntensityQuery | None, Query()] = None,
    limit: Limit = 50,
    cursor: Annotated[str | None, cursor_query(EPISODE_LIST)] = None,
) -> Page[EpisodeOut]:
    """Newest first; filter by `from`/`to` (on `started_at`), `trigger` and `min_intensity`; page
    with `limit` and `next_cursor`. Deleted episodes are left out (the change feed reports
    them). The patient and their grantees (partners need `diary:read`, else 403)."""
    return episodes.list_episodes(
        session,
        patient,
        start=start,
        end=end,
        trigger=trigger,
        min_intensity=min_intensity,
        limit=limit,
        cursor=cursor,
    )


@router.get(
    EPISODE,
    operation_id="getEpisode",
    summary="One episode",
    responses=with_etag_docs(s200="The episode") | problems(401, 403, 404, 422),
)
def get_episode(
    episode_id: uuid.UUID, patient: ReadablePatient, session: SessionDep, response: Response
) -> EpisodeOut:
    """The episode with its version as `ETag` (send it back as `If-Match` when changing it).
    Deleted or unknown: 404. The patient and their grantees (partners need `diary:read`, else
    403)."""
    out = episodes.get_episode(session, patient, episode_id)
    with_etag(response, out.version)
    return out


@router.patch(
    EPISODE,
    operation_id="updateEpisode",
    summary="Change some fields of an episode",
    responses=with_etag_docs(s200="Updated or unchanged") | problems(401, 403, 404, 412, 422),
)
def patch_episode(
    episode_id: uuid.UUID,
    data: EpisodePatch,
    patient: WritablePatient,
    session: SessionDep,
    response: Response,
    if_match: RequiredIfMatch,
) -> EpisodeOut:
    """Changes only the fields sent (null clears the optional ones: side, rescue_medication,
    note); answers with the new `ETag`. A stale `If-Match` is a 412 and changes nothing. The
    patient, and grantees with write access (partners need `diary:write`); read-only grantees
    get 403."""
    result = episodes.patch_episode(session, patient, episode_id, data, if_match=if_match)
    return written(response, episodes.EPISODES, result)


@router.delete(
    EPISODE,
    status_code=204,
    operation_id="deleteEpisode",
    summary="Delete an episode (it leaves a tombstone for the change feed)",
    responses=problems(401, 403, 404, 412, 422),
)
def delete_episode(
    episode_id: uuid.UUID,
    patient: WritablePatient,
    session: SessionDep,
    if_match: IfMatch = None,
) -> Response:
    """204 with the tombstone's version as `ETag`; the change feed reports the deletion and the id
    cannot be used again. `If-Match` guards against deleting a newer version (412). The
    patient, and grantees with write access (partners need `diary:write`); read-only grantees
    get 403."""
    version = episodes.delete_episode(session, patient, episode_id, if_match=if_match)
    return deleted(version)
