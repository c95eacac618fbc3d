"""Daily check-ins, one per local day, addressed by their date.

The date is the record's natural key, so a date deleted and PUT again revives the same row
under a higher version (the change feed then reports it live again).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models import Checkin, Patient
from app.schemas.common import Page
from app.schemas.diary import CheckinIn, CheckinOut
from app.services import clock
from app.services.sync import listing, records
from app.services.sync.records import RecordKind, Written
from app.services.sync.sql import table_of

_table = table_of(Checkin)
LIST = listing.Keyset("checkins", (_table.c.local_date,))


def checkin_out(row: RowMapping) -> CheckinOut:
    return CheckinOut(
        date=row["local_date"],
        no_attacks=row["no_attacks"],
        background_pain=row["background_pain"],
        bni=row["bni"],
        mood=row["mood"],
        sleep_hours=row["sleep_hours"],
        note=row["note"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


CHECKINS: RecordKind[CheckinOut] = RecordKind(
    "checkin", "check-in", _table, "local_date", checkin_out
)


def put_checkin(
    session: Session,
    patient: Patient,
    day: dt.date,
    data: CheckinIn,
    *,
    if_match: str | None,
    if_none_match: str | None,
) -> Written:
    if data.date is not None and data.date != day:
        raise ValidationFailed(["body", "date"], "must equal the date in the path")
    clock.not_after_today(day, patient.timezone, ["path", "date"])
    return records.put_record(
        session,
        CHECKINS,
        patient.id,
        day,
        data.model_dump(exclude={"date"}),
        if_match=if_match,
        if_none_match=if_none_match,
        revive=True,
    )


def get_checkin(session: Session, patient: Patient, day: dt.date) -> CheckinOut:
    return checkin_out(records.find_live(session, CHECKINS, patient.id, day))


def delete_checkin(
    session: Session, patient: Patient, day: dt.date, *, if_match: str | None
) -> int:
    return records.delete_record(session, CHECKINS, patient.id, day, if_match=if_match)


def list_checkins(
    session: Session,
    patient: Patient,
    *,
    start: dt.date | None,
    end: dt.date | None,
    limit: int,
    cursor: str | None,
) -> Page[CheckinOut]:
    """Newest first; ``from`` and ``to`` are both inclusive, like any range of calendar days."""
    t = _table
    query = select(t).where(t.c.patient_id == patient.id, t.c.deleted_at.is_(None))
    if start is not None:
        query = query.where(t.c.local_date >= start)
    if end is not None:
        query = query.where(t.c.local_date <= end)
    return listing.page(session, query, LIST, limit=limit, cursor=cursor, out=checkin_out)
