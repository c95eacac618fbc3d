"""Treatment series: create (optional client id, Idempotency-Key), create-or-replace, list, get,
patch and delete, with the diary's versioning and change-feed rules (``records``).

Deleting a series deletes its sessions with it, in the same transaction: each live session gets
a tombstone and its own change position, so a replica learns of every one from the feed instead
of being left with sessions of a series that no longer exists. Questionnaires linked to the series
are unlinked (``series_id`` → null, a new version) for the same reason.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Patient
from app.schemas.common import Page
from app.schemas.treatments import SeriesIn, SeriesOut, SeriesPatch
from app.services.diary.assessments import ASSESSMENTS
from app.services.sync import idempotency, listing, records
from app.services.sync.preconditions import check_if_match
from app.services.sync.records import ChangeSeq, Written
from app.services.treatments.shared import (
    SERIES,
    SESSIONS,
    series_out,
    series_table,
    sessions_table,
)
from app.trends.days import utcnow

LIST = listing.Keyset("series", (series_table.c.created_at, series_table.c.id))


def _values(data: SeriesIn) -> dict[str, Any]:
    return data.model_dump(exclude={"id"})


def create_series(
    session: Session,
    patient: Patient,
    data: SeriesIn,
    *,
    actor_id: uuid.UUID,
    idempotency_key: str | None,
) -> idempotency.Outcome:
    keyed = idempotency.keyed(actor_id, idempotency_key, "POST series", data)
    return records.create(
        session, SERIES, patient.id, _values(data), client_id=data.id, keyed=keyed
    )


def put_series(
    session: Session,
    patient: Patient,
    series_id: uuid.UUID,
    data: SeriesIn,
    *,
    if_match: str | None,
    if_none_match: str | None,
) -> Written:
    if data.id is not None and data.id != series_id:
        raise ValidationFailed(["body", "id"], "must equal the id in the path")
    return records.put_record(
        session,
        SERIES,
        patient.id,
        series_id,
        _values(data),
        if_match=if_match,
        if_none_match=if_none_match,
    )


def patch_series(
    session: Session,
    patient: Patient,
    series_id: uuid.UUID,
    data: SeriesPatch,
    *,
    if_match: str | None,
) -> Written:
    changes = data.model_dump(exclude_unset=True)
    return records.patch_record(session, SERIES, patient.id, series_id, changes, if_match=if_match)


def get_series(session: Session, patient: Patient, series_id: uuid.UUID) -> SeriesOut:
    return series_out(records.find_live(session, SERIES, patient.id, series_id))


def list_series(
    session: Session, patient: Patient, *, limit: int, cursor: str | None
) -> Page[SeriesOut]:
    """Most recently created first."""
    t = series_table
    query = select(t).where(t.c.patient_id == patient.id, t.c.deleted_at.is_(None))
    return listing.page(session, query, LIST, limit=limit, cursor=cursor, out=series_out)


def delete_series(
    session: Session, patient: Patient, series_id: uuid.UUID, *, if_match: str | None
) -> int:
    """Tombstone the series and its live sessions, unlink its questionnaires; returns the
    series' new version (the DELETE response's ETag)."""
    ChangeSeq(session, patient.id, count=0)  # the patient's lock first: nothing can be added
    series = records.find_live(session, SERIES, patient.id, series_id)
    check_if_match(if_match, series["version"])
    s = sessions_table
    children = (
        session.execute(
            select(s)
            .where(s.c.patient_id == patient.id, s.c.series_id == series_id)
            .where(s.c.deleted_at.is_(None))
            .order_by(s.c.started_at, s.c.id)
        )
        .mappings()
        .all()
    )
    a = ASSESSMENTS.table
    linked = (
        session.execute(
            select(a)
            .where(a.c.patient_id == patient.id, a.c.series_id == series_id)
            .where(a.c.deleted_at.is_(None))
            .order_by(a.c.taken_at, a.c.id)
        )
        .mappings()
        .all()
    )
    seq = ChangeSeq(session, patient.id, count=len(children) + len(linked) + 1)
    now = utcnow()
    # Sessions before their series: a replica applying the feed in order never holds a session
    # whose series it has already dropped.
    for row in children:
        records.rewrite(session, SESSIONS, row, {"deleted_at": now}, seq.take())
    for row in linked:
        records.rewrite(session, ASSESSMENTS, row, {"series_id": None}, seq.take())
    tombstone = records.rewrite(session, SERIES, series, {"deleted_at": now}, seq.take())
    session.commit()
    version: int = tombstone["version"]
    return version
