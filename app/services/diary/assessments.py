"""Validated questionnaires: items checked per instrument, the total computed here."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Assessment, Patient
from app.schemas.assessments import AssessmentIn, AssessmentOut
from app.schemas.common import Page
from app.services.sync import listing, records
from app.services.sync.records import RecordKind, Written
from app.services.sync.sql import table_of
from app.services.treatments.shared import series_is_live
from app.trends.days import to_utc
from app.vocabulary import INSTRUMENTS, Instrument

_table = table_of(Assessment)
LIST = listing.Keyset("assessments", (_table.c.taken_at, _table.c.id))


def assessment_out(row: RowMapping) -> AssessmentOut:
    return AssessmentOut(
        id=row["id"],
        instrument=row["instrument"],
        taken_at=row["taken_at"],
        items=row["items"],
        total=row["total"],
        series_id=row["series_id"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


ASSESSMENTS: RecordKind[AssessmentOut] = RecordKind(
    "assessment", "assessment", _table, "id", assessment_out
)


def total_score(instrument: str, items: Sequence[int]) -> int:
    """The instrument's total, after checking the item count and each item's range (the 422
    names the first bad item by its index)."""
    count, low, high = INSTRUMENTS[instrument]
    if len(items) != count:
        raise ValidationFailed(
            ["body", "items"], f"{instrument} has {count} items; {len(items)} were given"
        )
    for index, value in enumerate(items):
        if not low <= value <= high:
            raise ValidationFailed(
                ["body", "items", index], f"{instrument} items range from {low} to {high}"
            )
    return sum(items)


def put_assessment(
    session: Session,
    patient: Patient,
    assessment_id: uuid.UUID,
    data: AssessmentIn,
    *,
    if_match: str | None,
    if_none_match: str | None,
) -> Written:
    if data.id is not None and data.id != assessment_id:
        raise ValidationFailed(["body", "id"], "must equal the id in the path")
    values = {
        "instrument": data.instrument,
        "taken_at": to_utc(data.taken_at),
        "items": list(data.items),
        "total": total_score(data.instrument, data.items),
        "series_id": data.series_id,
    }
    seq = records.ChangeSeq(session, patient.id)
    # Under the patient's lock: a series being deleted (which unlinks its questionnaires) cannot
    # gain a link meanwhile.
    if data.series_id is not None and not series_is_live(session, patient.id, data.series_id):
        raise ValidationFailed(["body", "series_id"], "no such treatment series")
    result = records.put(
        session,
        ASSESSMENTS,
        patient.id,
        assessment_id,
        values,
        seq,
        if_match=if_match,
        if_none_match=if_none_match,
    )
    records.finish(session, result)
    return result


def get_assessment(session: Session, patient: Patient, assessment_id: uuid.UUID) -> AssessmentOut:
    return assessment_out(records.find_live(session, ASSESSMENTS, patient.id, assessment_id))


def delete_assessment(
    session: Session, patient: Patient, assessment_id: uuid.UUID, *, if_match: str | None
) -> int:
    return records.delete_record(session, ASSESSMENTS, patient.id, assessment_id, if_match=if_match)


def list_assessments(
    session: Session,
    patient: Patient,
    *,
    instrument: Instrument | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[AssessmentOut]:
    """Newest first; ``from`` inclusive and ``to`` exclusive on taken_at, as for episodes."""
    t = _table
    query = select(t).where(t.c.patient_id == patient.id, t.c.deleted_at.is_(None))
    if instrument is not None:
        query = query.where(t.c.instrument == instrument)
    if start is not None:
        query = query.where(t.c.taken_at >= start)
    if end is not None:
        query = query.where(t.c.taken_at < end)
    return listing.page(session, query, LIST, limit=limit, cursor=cursor, out=assessment_out)
