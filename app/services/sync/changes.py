"""The change feed: every create, update and delete of a patient's diary, in commit order.

Why nothing is ever skipped: each write stamps its record with a change position taken under
the patient's row lock (``records.ChangeSeq``), held until commit. So for one patient, a
position is only ever visible after every smaller position that will ever exist is visible:
a reader that has seen up to p can never later find a newly committed change at or below p.
(A plain sequence taken at insert time would not do: transactions commit out of order, and a
reader could pass over a position whose transaction commits a moment later.)

Each record carries only its latest position, so the feed is a union over the record tables
of ``change_seq > since`` - one statement, hence one snapshot, each arm reading the
``(patient_id, change_seq)`` unique index - and an entry is the record's latest state. A record
that changed again between the union and the fetch of its row has moved to a later position
and is sent when the client reaches it.

Tombstones are kept at least ``TOMBSTONE_RETENTION``; the purge records the highest position
it removed as the patient's ``feed_horizon_seq``, and a cursor below it gets 410.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from sqlalchemy import RowMapping, literal_column, select, union_all
from sqlalchemy.orm import Session

from app.errors import Gone, ValidationFailed
from app.models import Patient
from app.schemas.diary import ChangeKind, ChangeOut, ChangesOut
from app.services.diary.assessments import ASSESSMENTS
from app.services.diary.checkins import CHECKINS
from app.services.diary.episodes import EPISODES
from app.services.diary.medications import MEDICATIONS
from app.services.sync import cursors, listing
from app.services.sync.records import RecordKind
from app.services.treatments.shared import SERIES, SESSIONS

# Every kind the feed reports. A new record kind only needs to be listed here. The purge removes
# tombstones in this order: sessions before their series, whose removal would cascade to them.
FEED_KINDS: tuple[RecordKind[Any], ...] = (
    EPISODES,
    CHECKINS,
    MEDICATIONS,
    ASSESSMENTS,
    SESSIONS,
    SERIES,
)
TOMBSTONE_RETENTION = dt.timedelta(days=180)
# Oldest first by change position; every kind's ``change_seq`` stands in for the key's column.
FEED = listing.Keyset(
    "changes", (EPISODES.table.c.change_seq,), newest_first=False, loc=("query", "since")
)
TOO_OLD = (
    "This cursor is older than the deletions the server still keeps; "
    "sync again from the beginning (without since)."
)


def encode_cursor(position: int) -> str:
    return FEED.encode((position,))


def decode_cursor(cursor: str) -> int:
    (position,) = FEED.decode(cursor)
    if position < 0:
        raise ValidationFailed(FEED.loc, cursors.BAD_CURSOR)
    return int(position)


def read_changes(
    session: Session, patient: Patient, *, since: str | None, limit: int
) -> ChangesOut:
    after = decode_cursor(since) if since is not None else 0
    patient_id = patient.id
    if since is not None and after < patient.feed_horizon_seq:
        raise Gone(TOO_OLD)
    positions = _positions(session, patient_id, after, limit + 1)
    has_more = len(positions) > limit
    positions = positions[:limit]
    rows = _rows(session, patient_id, positions)
    if since is not None and len(rows) < len(positions):
        # A row left its position after the union read it: it changed again (sent later) or a
        # purge removed it, in which case the horizon moved and this cursor is now too old.
        horizon = session.scalar(select(Patient.feed_horizon_seq).where(Patient.id == patient_id))
        if horizon is not None and after < horizon:
            raise Gone(TOO_OLD)
    changes = []
    for _, position in positions:
        found = rows.get(position)
        if found is not None:
            changes.append(_entry(*found))
    last = positions[-1][1] if positions else after
    return ChangesOut(changes=changes, next_cursor=encode_cursor(last), has_more=has_more)


def _positions(
    session: Session, patient_id: uuid.UUID, after: int, count: int
) -> list[tuple[int, int]]:
    """(kind index, position) of the next ``count`` changes, in one statement."""
    arms = []
    for index, kind in enumerate(FEED_KINDS):
        # The keyset's bound inside each arm, so each reads its (patient_id, change_seq) index.
        seq = kind.table.c.change_seq
        arm = (
            select(literal_column(str(index)).label("kind"), seq.label("position"))
            .where(kind.table.c.patient_id == patient_id, FEED.beyond((after,), (seq,)))
            .order_by(*FEED.order((seq,)))
            .limit(count)
            .subquery()
        )
        arms.append(select(arm.c.kind, arm.c.position))
    merged = union_all(*arms).subquery()
    query = (
        select(merged.c.kind, merged.c.position)
        .order_by(*FEED.order((merged.c.position,)))
        .limit(count)
    )
    return [(int(k), int(p)) for k, p in session.execute(query).all()]


def _rows(
    session: Session, patient_id: uuid.UUID, positions: list[tuple[int, int]]
) -> dict[int, tuple[RecordKind[Any], RowMapping]]:
    """The current rows at those positions, one query per kind present."""
    wanted: dict[int, list[int]] = {}
    for index, position in positions:
        wanted.setdefault(index, []).append(position)
    found: dict[int, tuple[RecordKind[Any], RowMapping]] = {}
    for index, seqs in wanted.items():
        kind = FEED_KINDS[index]
        t = kind.table
        query = select(t).where(t.c.patient_id == patient_id, t.c.change_seq.in_(seqs))
        for row in session.execute(query).mappings():
            found[row["change_seq"]] = (kind, row)
    return found


def _entry(kind: RecordKind[Any], row: RowMapping) -> ChangeOut:
    deleted = row["deleted_at"] is not None
    return ChangeOut(
        kind=cast(ChangeKind, kind.name),
        id=kind.feed_id(row),
        deleted=deleted,
        version=row["version"],
        data=None if deleted else kind.data(row),
    )
