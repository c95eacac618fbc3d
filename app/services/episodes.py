"""Episodes (pain attacks): create-or-replace, POST with Idempotency-Key, list, patch, delete."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import RowMapping, Uuid, literal, select, tuple_
from sqlalchemy.orm import Session

from app.db import UTCDateTime
from app.errors import ValidationFailed
from app.models import Episode, Patient
from app.models.diary import BRANCHES, QUALITIES, TRIGGERS
from app.schemas.common import Page
from app.schemas.diary import EpisodeBody, EpisodeIn, EpisodeOut, EpisodePatch, Trigger
from app.services import cursors, idempotency, records
from app.services.records import ChangeSeq, RecordKind, Written
from app.services.sql import table_of

_table = table_of(Episode)
LIST_CURSOR = "episodes"


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
        started_at=row["started_at"],
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
    """API fields → column values (enum lists become bit masks, times UTC)."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _MASKED:
            column, members = _MASKED[name]
            values[column] = to_mask(value, members)
        elif name == "started_at":
            values[name] = value.astimezone(dt.UTC)
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
    values = body_columns(data)
    seq = ChangeSeq(session, patient.id)
    written = records.put(
        session,
        EPISODES,
        patient.id,
        episode_id,
        values,
        seq,
        if_match=if_match,
        if_none_match=if_none_match,
    )
    records.finish(session, written)
    return written


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
        session, EPISODES, patient.id, body_columns(data), client_id=None, keyed=keyed
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
    written = records.patch(
        session, EPISODES, patient.id, episode_id, changes, seq, if_match=if_match
    )
    records.finish(session, written)
    return written


def delete_episode(
    session: Session, patient: Patient, episode_id: uuid.UUID, *, if_match: str | None
) -> int:
    seq = ChangeSeq(session, patient.id)
    row = records.delete(session, EPISODES, patient.id, episode_id, seq, if_match=if_match)
    session.commit()
    version: int = row["version"]
    return version


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
    if cursor is not None:
        started_at, last_id = _parse_cursor(cursor)
        # Typed literals: the bound values must be encoded like the columns on every engine.
        after = tuple_(literal(started_at, UTCDateTime()), literal(last_id, Uuid()))
        query = query.where(tuple_(t.c.started_at, t.c.id) < after)
    query = query.order_by(t.c.started_at.desc(), t.c.id.desc()).limit(limit + 1)
    rows = session.execute(query).mappings().all()
    items = [episode_out(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = cursors.encode(LIST_CURSOR, last["started_at"].isoformat(), str(last["id"]))
    return Page[EpisodeOut](items=items, next_cursor=next_cursor)


def _parse_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    started_at, last_id = cursors.decode(cursor, LIST_CURSOR, 2)
    try:
        moment = dt.datetime.fromisoformat(str(started_at))
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(str(last_id))
    except ValueError as exc:
        raise ValidationFailed(["query", "cursor"], cursors.BAD_CURSOR) from exc
