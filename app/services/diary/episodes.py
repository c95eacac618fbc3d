"""Episodes (pain attacks): create-or-replace, POST with Idempotency-Key, list, patch, delete.

Every write that creates or changes an episode clears ``no_attacks`` on the check-in of its
local day, in the same transaction (``checkins.clear_no_attacks``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Episode, Patient
from app.schemas.common import Page
from app.schemas.diary import EpisodeBody, EpisodeIn, EpisodeOut, EpisodePatch
from app.services.diary import checkins
from app.services.sync import idempotency, listing, records
from app.services.sync.records import ChangeSeq, RecordKind, Written
from app.services.sync.sql import table_of
from app.trends.days import at_offset, offset_minutes, to_utc
from app.vocabulary import BRANCHES, QUALITIES, TRIGGERS, Trigger

_table = table_of(Episode)
LIST = listing.Keyset("episodes", (_table.c.started_at, _table.c.id))


def to_mask(values: Sequence[str], members: tuple[str, ...]) -> int:
    mask = 0
    for value in values:
        mask |= 1 << members.index(value)
    return mask


def from_mask(mask: int, members: tuple[str, ...]) -> list[str]:
    return [member for bit, member in enumerate(members) if mask & (1 << bit)]


def episode_out(row: RowMapping) -> EpisodeOut:
    return EpisodeOut(
        id=row["id"],
        started_at=at_offset(row["started_at"], row["started_offset_minutes"]),
        duration_seconds=row["duration_seconds"],
        attack_count=row["attack_count"],
        intensity=row["intensity"],
        side=row["side"],
        branches=cast(Any, from_mask(row["branch_mask"], BRANCHES)),
        qualities=cast(Any, from_mask(row["quality_mask"], QUALITIES)),
        triggers=cast(Any, from_mask(row["trigger_mask"], TRIGGERS)),
        rescue_medication=row["rescue_medication"],
        note=row["note"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


EPISODES: RecordKind[EpisodeOut] = RecordKind("episode", "episode", _table, "id", episode_out)

_MASKED: dict[str, tuple[str, tuple[str, ...]]] = {
    "branches": ("branch_mask", BRANCHES),
    "qualities": ("quality_mask", QUALITIES),
    "triggers": ("trigger_mask", TRIGGERS),
}


def columns(fields: dict[str, Any]) -> dict[str, Any]:
    """API fields → column values (enum lists become bit masks, times UTC with the offset they
    were written with beside them)."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _MASKED:
            column, members = _MASKED[name]
            values[column] = to_mask(value, members)
        elif name == "started_at":
            values[name] = to_utc(value)
            values["started_offset_minutes"] = offset_minutes(value)
        else:
            values[name] = value
    return values


def body_columns(data: EpisodeBody) -> dict[str, Any]:
    return columns(data.model_dump(exclude={"id"}))


def put_episode(
    session: Session,
    patient: Patient,
    episode_id: uuid.UUID,
    data: EpisodeIn,
    *,
    if_match: str | None,
    if_none_match: str | None,
) -> Written:
    if data.id is not None and data.id != episode_id:
        raise ValidationFailed(["body", "id"], "must equal the id in the path")
    seq = ChangeSeq(session, patient.id)
    result = records.put(
        session,
        EPISODES,
        patient.id,
        episode_id,
        body_columns(data),
        seq,
        if_match=if_match,
        if_none_match=if_none_match,
    )
    _after_write(session, patient.id, result)
    records.finish(session, result)
    return result


def _after_write(session: Session, patient_id: uuid.UUID, result: Written) -> None:
    """After an episode write: the check-in of its day no longer says no_attacks."""
    if result.status != "unchanged":
        checkins.clear_no_attacks(session, patient_id, [checkins.episode_day(result.row)])


def create_episode(
    session: Session,
    patient: Patient,
    data: EpisodeBody,
    *,
    actor_id: uuid.UUID,
    idempotency_key: str | None,
) -> idempotency.Outcome:
    keyed = idempotency.keyed(actor_id, idempotency_key, "POST episodes", data)
    return records.create(
        session,
        EPISODES,
        patient.id,
        body_columns(data),
        client_id=None,
        keyed=keyed,
        created=lambda row: checkins.clear_no_attacks(
            session, patient.id, [checkins.episode_day(row)]
        ),
    )


def get_episode(session: Session, patient: Patient, episode_id: uuid.UUID) -> EpisodeOut:
    return episode_out(records.find_live(session, EPISODES, patient.id, episode_id))


def patch_episode(
    session: Session,
    patient: Patient,
    episode_id: uuid.UUID,
    data: EpisodePatch,
    *,
    if_match: str | None,
) -> Written:
    changes = columns(data.model_dump(exclude_unset=True))
    seq = ChangeSeq(session, patient.id)
    result = records.patch(
        session, EPISODES, patient.id, episode_id, changes, seq, if_match=if_match
    )
    _after_write(session, patient.id, result)
    records.finish(session, result)
    return result


def delete_episode(
    session: Session, patient: Patient, episode_id: uuid.UUID, *, if_match: str | None
) -> int:
    return records.delete_record(session, EPISODES, patient.id, episode_id, if_match=if_match)


def list_episodes(
    session: Session,
    patient: Patient,
    *,
    start: dt.datetime | None,
    end: dt.datetime | None,
    trigger: Trigger | None,
    min_intensity: int | None,
    limit: int,
    cursor: str | None,
) -> Page[EpisodeOut]:
    """Newest first, keyset-paginated on (started_at, id)."""
    t = _table
    query = select(t).where(t.c.patient_id == patient.id, t.c.deleted_at.is_(None))
    if start is not None:
        query = query.where(t.c.started_at >= start)
    if end is not None:
        query = query.where(t.c.started_at < end)
    if trigger is not None:
        query = query.where(t.c.trigger_mask.bitwise_and(to_mask([trigger], TRIGGERS)) != 0)
    if min_intensity is not None:
        query = query.where(t.c.intensity >= min_intensity)
    return listing.page(session, query, LIST, limit=limit, cursor=cursor, out=episode_out)
