"""The write rules every synced record kind shares (episodes, check-ins, medications,
assessments; treatment series and sessions next).

- **Per-patient serialisation.** Every write transaction first runs
  ``UPDATE patients SET change_seq = change_seq + n … RETURNING change_seq`` (``ChangeSeq``).
  That row lock (PostgreSQL; on SQLite the writer's BEGIN IMMEDIATE) is held until commit, so the
  change positions a patient's writes stamp on their records increase in commit order, and a
  feed reader that has seen position p can never later find a new commit below p. Writers of
  different patients never wait on each other. Reading the record only after taking the lock
  also makes If-Match checks race-free.
- **Versions and ETags.** ``version`` starts at 1 and grows by one per real change; an identical
  write changes nothing (and is rolled back, so it costs no disk write). ETags and the
  If-Match / If-None-Match checks: ``preconditions``.
- **Tombstones.** DELETE keeps the row with ``deleted_at`` set and a new version and position,
  so the change feed reports it; GET then 404s. Re-using a deleted id is 409, except for kinds
  keyed by a natural key (a check-in's date), where PUT revives the row.
- **Global ids.** Record ids are unique across patients; an id taken by another patient's record
  is a 409 found through the primary key (``insert_unless_taken``) without reading that record.
- **Stamps.** Server-set columns such as who recorded a treatment session (``stamp``) are written
  with every real change but are not part of the state a write compares: the same content sent
  again by another user is still "unchanged".

These helpers never commit: the calling use case does, with ``finish`` (``create`` excepted, as it
is a whole use case of its own).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    RowMapping,
    Select,
    Table,
    Update,
    Uuid,
    bindparam,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound, PreconditionFailed
from app.services.care.access import PATIENT_NOT_FOUND
from app.services.sync import idempotency
from app.services.sync.preconditions import check_if_match, check_if_none_match
from app.services.sync.sql import insert_unless_taken
from app.trends.days import utcnow

OutT = TypeVar("OutT", bound=BaseModel)
Key = uuid.UUID | dt.date
Status = Literal["created", "updated", "unchanged"]

ID_TAKEN = "This id is already in use; create the record with a new id."

_BUMP = sql_text(
    "UPDATE patients SET change_seq = change_seq + :count WHERE id = :pid RETURNING change_seq"
).bindparams(bindparam("pid", type_=Uuid()), bindparam("count", type_=BigInteger()))


@dataclass(frozen=True)
class RecordKind(Generic[OutT]):
    """What the shared machinery and the change feed need to know about one record kind."""

    name: str  # the change feed's ``kind``
    noun: str  # for messages
    table: Table
    key: str  # the column naming the record within its patient: "id", or "local_date"
    out: Callable[[RowMapping], OutT]
    # Kinds whose representation needs more than their own row (a medication's dose history)
    # build it for many rows at once here; everything that has a session calls ``outs``.
    render: Callable[[Session, Sequence[RowMapping]], list[OutT]] | None = None

    def outs(self, session: Session, rows: Sequence[RowMapping]) -> list[OutT]:
        if self.render is None:
            return [self.out(row) for row in rows]
        return self.render(session, rows)

    @property
    def key_column(self) -> ColumnElement[Any]:
        return self.table.c[self.key]

    def feed_id(self, row: RowMapping) -> str:
        value = row[self.key]
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    def data(self, session: Session, row: RowMapping) -> dict[str, Any]:
        return self.outs(session, [row])[0].model_dump(mode="json")


@dataclass(frozen=True)
class Written:
    status: Status
    row: RowMapping


class ChangeSeq:
    """Change positions reserved under the patient's row lock, which the transaction now holds.

    Take the lock before reading anything the write depends on. Unused positions are gaps,
    which the feed does not mind: it only needs positions to grow in commit order. With
    ``count=0`` it only takes the lock (to count what a write will touch before reserving).
    """

    def __init__(self, session: Session, patient_id: uuid.UUID, count: int = 1) -> None:
        last = session.execute(_BUMP, {"pid": patient_id, "count": count}).scalar_one_or_none()
        if last is None:
            raise NotFound(PATIENT_NOT_FOUND)
        self._next = int(last) - count + 1
        self._last = int(last)

    @classmethod
    def reserved(cls, last: int, count: int = 1) -> ChangeSeq:
        """Positions a statement of the caller's already reserved under the row lock (the
        patient's own write: services/care/own_write.py), ``last`` being the new change_seq."""
        seq = cls.__new__(cls)
        seq._next, seq._last = last - count + 1, last
        return seq

    def peek(self) -> int:
        """The position ``take`` hands out next."""
        if self._next > self._last:
            raise RuntimeError("more writes than reserved change positions")
        return self._next

    def take(self) -> int:
        position = self.peek()
        self._next += 1
        return position


@cache
def _find_statement(kind: RecordKind[Any]) -> Select[Any]:
    t = kind.table
    return select(t).where(
        t.c.patient_id == bindparam("where_patient"), kind.key_column == bindparam("where_key")
    )


@cache
def _rewrite_statement(kind: RecordKind[Any]) -> Update:
    # No .values(): the SET clause follows the keys of each call's parameters.
    t = kind.table
    return (
        sql_update(t)
        .where(
            t.c.patient_id == bindparam("where_patient"),
            kind.key_column == bindparam("where_key"),
        )
        .returning(*t.c)
    )


def find(
    session: Session, kind: RecordKind[Any], patient_id: uuid.UUID, key: Key
) -> RowMapping | None:
    """The record, tombstone included."""
    params = {"where_patient": patient_id, "where_key": key}
    return session.execute(_find_statement(kind), params).mappings().first()


def find_live(
    session: Session, kind: RecordKind[Any], patient_id: uuid.UUID, key: Key
) -> RowMapping:
    row = find(session, kind, patient_id, key)
    if row is None or row["deleted_at"] is not None:
        raise NotFound(f"No such {kind.noun}.")
    return row


def same(row: Mapping[Any, Any], values: Mapping[str, Any]) -> bool:
    return all(row[name] == value for name, value in values.items())


def new_row(
    kind: RecordKind[Any], patient_id: uuid.UUID, key: Key, values: Mapping[str, Any], position: int
) -> dict[str, Any]:
    """The columns of a new record at version 1."""
    now = utcnow()
    return {
        **values,
        kind.key: key,
        "patient_id": patient_id,
        "version": 1,
        "change_seq": position,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
    }


def insert(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    key: Key,
    values: Mapping[str, Any],
    position: int,
) -> RowMapping | None:
    """A new record at version 1, or None when its id belongs to another patient's record."""
    return insert_unless_taken(
        session, kind.table, new_row(kind, patient_id, key, values, position)
    )


def rewrite(
    session: Session,
    kind: RecordKind[Any],
    row: RowMapping,
    values: Mapping[str, Any],
    position: int,
) -> RowMapping:
    """Store a new state of an existing record under the next version."""
    params = {
        **values,
        "version": row["version"] + 1,
        "change_seq": position,
        "updated_at": values.get("deleted_at") or utcnow(),
        "where_patient": row["patient_id"],
        "where_key": row[kind.key],
    }
    return session.execute(_rewrite_statement(kind), params).mappings().one()


def put(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    key: Key,
    values: Mapping[str, Any],
    seq: ChangeSeq,
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    revive: bool = False,
    stamp: Mapping[str, Any] | None = None,
) -> Written:
    """Create-or-replace by key: created, updated or unchanged (same state, same version)."""
    stamped = {**values, **(stamp or {})}
    if if_match is None:
        # Most PUTs create (the app uploads new attacks under fresh ids): insert first, and
        # read only when the id is taken - one statement instead of two in the common case.
        row = insert(session, kind, patient_id, key, stamped, seq.peek())
        if row is not None:
            seq.take()
            return Written("created", row)
    existing = find(session, kind, patient_id, key)
    if existing is None:
        if if_match is not None:
            raise PreconditionFailed(f"There is no such {kind.noun} (If-Match).")
        raise Conflict(ID_TAKEN)  # the insert met another patient's record under this id
    if existing["deleted_at"] is not None:
        if not revive:
            raise Conflict(f"This {kind.noun} was deleted; its id cannot be used again.")
        if if_match is not None:
            raise PreconditionFailed(f"The {kind.noun} was deleted (If-Match).")
        now = utcnow()
        revived = {**stamped, "deleted_at": None, "created_at": now}
        return Written("created", rewrite(session, kind, existing, revived, seq.take()))
    check_if_none_match(if_none_match, existing["version"])
    check_if_match(if_match, existing["version"])
    if same(existing, values):
        return Written("unchanged", existing)
    return Written("updated", rewrite(session, kind, existing, stamped, seq.take()))


def patch(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    key: Key,
    changes: Mapping[str, Any],
    seq: ChangeSeq,
    *,
    if_match: str | None,
    check: Callable[[Mapping[str, Any]], None] | None = None,
    stamp: Mapping[str, Any] | None = None,
) -> Written:
    """Apply the given columns to a live record; ``check`` sees the merged state first."""
    existing = find_live(session, kind, patient_id, key)
    check_if_match(if_match, existing["version"])
    if check is not None:
        check({**existing, **changes})
    if same(existing, changes):
        return Written("unchanged", existing)
    stamped = {**changes, **(stamp or {})}
    return Written("updated", rewrite(session, kind, existing, stamped, seq.take()))


def delete(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    key: Key,
    seq: ChangeSeq,
    *,
    if_match: str | None,
) -> RowMapping:
    """Leave a tombstone: the feed reports the deletion, GET answers 404."""
    existing = find_live(session, kind, patient_id, key)
    check_if_match(if_match, existing["version"])
    return rewrite(session, kind, existing, {"deleted_at": utcnow()}, seq.take())


def finish(session: Session, written: Written) -> None:
    """Commit a change; an unchanged write is rolled back, giving back the lock without a
    disk write."""
    if written.status == "unchanged":
        session.rollback()
    else:
        session.commit()


def create(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    values: Mapping[str, Any],
    *,
    client_id: uuid.UUID | None,
    keyed: idempotency.Keyed | None,
    stamp: Mapping[str, Any] | None = None,
    guard: Callable[[], None] | None = None,
    created: Callable[[RowMapping], None] | None = None,
) -> idempotency.Outcome:
    """POST: a new record (201), honouring Idempotency-Key; commits.

    With a client-chosen id, a blind retry that finds its own identical record gets it back
    (200) instead of a 409; any other record under that id is a 409. ``guard`` runs under the
    patient's lock before anything new is written (a replayed response skips it: the first
    request passed it); ``created`` runs in the same transaction right after the new record is
    inserted (a medication's first dose history entry).
    """
    seq = ChangeSeq(session, patient_id)
    if keyed is not None:
        replay = idempotency.lookup(session, patient_id, keyed)
        if replay is not None:
            session.rollback()
            return replay
    if guard is not None:
        guard()
    key = client_id or uuid.uuid4()
    existing = find(session, kind, patient_id, key) if client_id else None
    if existing is not None:
        if existing["deleted_at"] is not None or not same(existing, values):
            raise Conflict(ID_TAKEN)
        outcome = idempotency.Outcome(200, kind.data(session, existing))
    else:
        row = insert(session, kind, patient_id, key, {**values, **(stamp or {})}, seq.take())
        if row is None:
            raise Conflict(ID_TAKEN)
        if created is not None:
            created(row)
        outcome = idempotency.Outcome(201, kind.data(session, row))
    if keyed is not None and not idempotency.remember(session, patient_id, keyed, outcome):
        # Another request with this key committed first (only possible if it bypassed the
        # patient lock): drop our record and answer as that request did.
        session.rollback()
        replay = idempotency.lookup(session, patient_id, keyed)
        if replay is None:  # pragma: no cover - the key row cannot vanish within 30 days
            raise Conflict("A request with this Idempotency-Key is in progress; retry.")
        session.rollback()
        return replay
    if outcome.status_code == 201 or keyed is not None:
        session.commit()
    else:
        session.rollback()  # nothing was written: give the lock back without a disk write
    return outcome


# --- whole use cases: lock, write, commit --------------------------------------------------------


def put_record(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    key: Key,
    values: Mapping[str, Any],
    *,
    if_match: str | None,
    if_none_match: str | None,
    revive: bool = False,
    seq: ChangeSeq | None = None,
) -> Written:
    """``seq``: a position the caller already holds (else this takes the lock for one)."""
    seq = seq or ChangeSeq(session, patient_id)
    result = put(
        session,
        kind,
        patient_id,
        key,
        values,
        seq,
        if_match=if_match,
        if_none_match=if_none_match,
        revive=revive,
    )
    finish(session, result)
    return result


def patch_record(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    key: Key,
    changes: Mapping[str, Any],
    *,
    if_match: str | None,
    check: Callable[[Mapping[str, Any]], None] | None = None,
) -> Written:
    seq = ChangeSeq(session, patient_id)
    result = patch(session, kind, patient_id, key, changes, seq, if_match=if_match, check=check)
    finish(session, result)
    return result


def delete_record(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    key: Key,
    *,
    if_match: str | None,
) -> int:
    """Tombstone the record; returns its new version (the DELETE response's ETag)."""
    seq = ChangeSeq(session, patient_id)
    row = delete(session, kind, patient_id, key, seq, if_match=if_match)
    session.commit()
    version: int = row["version"]
    return version
