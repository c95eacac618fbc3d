"""Batch upload: many create-or-replace writes in one request, each standing on its own.

Every item is validated by itself (an invalid one is reported, never blocks the rest). The
whole batch takes the patient's lock once and reserves one change position per valid item;
existing records are read in one query, not one per item.

New records (the usual upload) are inserted together, in one savepoint and one round trip: per
item, a savepoint and an INSERT cost three statements, and 500 of them took 30 single PUTs'
time. Should the database refuse that insert (a bug: the schema admits what the CHECKs admit),
its savepoint is rolled back and the same items are written one by one, each in a savepoint of
its own, so the refusal stays with its item. Existing records are rewritten one by one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import RowMapping, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.models import Patient
from app.schemas.diary import BatchEpisode, BatchError, BatchOut, BatchResult, ItemError
from app.services.diary import checkins
from app.services.diary.episodes import EPISODES, body_columns
from app.services.sync import records
from app.services.sync.records import ID_TAKEN, ChangeSeq, RecordKind
from app.services.sync.sql import insert_many_unless_taken

ItemT = TypeVar("ItemT", bound=BaseModel)


def upsert_episodes(session: Session, patient: Patient, items: Sequence[Any]) -> BatchOut:
    """Episodes written clear ``no_attacks`` on the check-ins of their days (as a PUT does)."""

    def written(rows: list[RowMapping]) -> None:
        checkins.clear_no_attacks(session, patient.id, {checkins.episode_day(r) for r in rows})

    return upsert(session, EPISODES, patient.id, items, BatchEpisode, body_columns, written)


def upsert(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    raw_items: Sequence[Any],
    schema: type[ItemT],
    to_columns: Callable[[ItemT], dict[str, Any]],
    written: Callable[[list[RowMapping]], None] | None = None,
) -> BatchOut:
    """``written`` sees the stored rows of the created and updated items before the commit."""
    results: list[BatchResult | None] = [None] * len(raw_items)
    valid: list[tuple[int, uuid.UUID, dict[str, Any]]] = []
    for index, raw in enumerate(raw_items):
        try:
            item = schema.model_validate(raw)
        except ValidationError as exc:
            results[index] = _invalid(raw, exc)
            continue
        valid.append((index, getattr(item, kind.key), to_columns(item)))
    if valid:
        seq = ChangeSeq(session, patient_id, count=len(valid))
        keys = {key for _, key, _ in valid}
        current: dict[uuid.UUID, RowMapping] = {
            row[kind.key]: row
            for row in session.execute(
                select(kind.table).where(
                    kind.table.c.patient_id == patient_id, kind.key_column.in_(keys)
                )
            ).mappings()
        }
        fresh, others = _split(valid, current)
        _insert_fresh(session, kind, patient_id, fresh, seq, current, results)
        for index, key, values in others:  # after the inserts: a repeated id updates its own
            results[index] = _write(session, kind, patient_id, key, values, seq.take, current)
        if written is not None:
            changed = {
                r.id for r in results if r is not None and r.status in ("created", "updated")
            }
            written([current[key] for key in changed if key is not None])
        session.commit()
    return BatchOut(results=[r for r in results if r is not None])


Item = tuple[int, uuid.UUID, dict[str, Any]]


def _split(
    valid: list[Item], current: dict[uuid.UUID, RowMapping]
) -> tuple[list[Item], list[Item]]:
    """Items that create a record (the first of each new id), and all the others."""
    fresh: list[Item] = []
    others: list[Item] = []
    seen: set[uuid.UUID] = set()
    for item in valid:
        key = item[1]
        (others if key in current or key in seen else fresh).append(item)
        seen.add(key)
    return fresh, others


def _insert_fresh(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    fresh: list[Item],
    seq: ChangeSeq,
    current: dict[uuid.UUID, RowMapping],
    results: list[BatchResult | None],
) -> None:
    if not fresh:
        return
    positions = [seq.take() for _ in fresh]
    rows = [
        records.new_row(kind, patient_id, key, values, position)
        for (_, key, values), position in zip(fresh, positions, strict=True)
    ]
    try:
        with session.begin_nested():
            stored = {
                row[kind.key]: row for row in insert_many_unless_taken(session, kind.table, rows)
            }
    except (IntegrityError, DataError):
        for (index, key, values), position in zip(fresh, positions, strict=True):
            results[index] = _write(session, kind, patient_id, key, values, _at(position), current)
        return
    for index, key, _ in fresh:
        row = stored.get(key)
        if row is None:  # the id is another patient's record
            results[index] = _conflict(key, ID_TAKEN)
        else:
            current[key] = row
            results[index] = BatchResult(id=key, status="created", version=row["version"])


def _at(position: int) -> Callable[[], int]:
    return lambda: position


def _write(
    session: Session,
    kind: RecordKind[Any],
    patient_id: uuid.UUID,
    key: uuid.UUID,
    values: dict[str, Any],
    take: Callable[[], int],
    current: dict[uuid.UUID, RowMapping],
) -> BatchResult:
    row = current.get(key)
    if row is not None and row["deleted_at"] is not None:
        return _conflict(key, f"This {kind.noun} was deleted; its id cannot be used again.")
    if row is not None and records.same(row, values):
        return BatchResult(id=key, status="unchanged", version=row["version"])
    try:
        with session.begin_nested():
            if row is None:
                stored = records.insert(session, kind, patient_id, key, values, take())
            else:
                stored = records.rewrite(session, kind, row, values, take())
    except (IntegrityError, DataError):
        # The schema admits what the CHECK constraints admit, so this means a bug; the
        # savepoint keeps it to this one item.
        return BatchResult(
            id=key, status="invalid", error=BatchError(detail="The database refused this item.")
        )
    if stored is None:
        return _conflict(key, ID_TAKEN)
    current[key] = stored
    if row is None:
        return BatchResult(id=key, status="created", version=stored["version"])
    return BatchResult(id=key, status="updated", version=stored["version"])


def _conflict(key: uuid.UUID, detail: str) -> BatchResult:
    return BatchResult(id=key, status="conflict", error=BatchError(detail=detail))


def _invalid(raw: Any, exc: ValidationError) -> BatchResult:
    errors = [
        ItemError(
            loc=[p if isinstance(p, int) else str(p) for p in err["loc"]],
            msg=err["msg"],
            type=err["type"],
        )
        for err in exc.errors(include_url=False)
    ]
    first = errors[0]
    detail = f"{'.'.join(str(p) for p in first.loc)}: {first.msg}" if first.loc else first.msg
    return BatchResult(
        id=_raw_id(raw), status="invalid", error=BatchError(detail=detail, errors=errors)
    )


def _raw_id(raw: Any) -> uuid.UUID | None:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        try:
            return uuid.UUID(raw["id"])
        except ValueError:
            return None
    return None
