"""Daily check-ins, one per local day, addressed by their date.

The date is the record's natural key, so a date deleted and PUT again revives the same row
under a higher version (the change feed then reports it live again).

A check-in and the episodes of its day must agree (API.md, Diary, plausibility): a check-in
saying ``no_attacks: true`` on a local day with a live episode is a 409 (``refuse_no_attacks``);
an episode written on a day whose check-in says ``no_attacks: true`` clears that flag in the
same transaction, under a new version the change feed reports (``clear_no_attacks``, called by
every episode write: PUT, POST, PATCH and the batch). An episode's local day is the date of its
``started_at`` in the offset it was written with.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from app.errors import Conflict, ValidationFailed
from app.models import Checkin, Episode, Patient
from app.schemas.common import Page
from app.schemas.diary import CheckinIn, CheckinOut
from app.services import clock
from app.services.sync import listing, records
from app.services.sync.records import ChangeSeq, RecordKind, Written
from app.services.sync.sql import table_of
from app.trends.days import any_offset_utc_range, local_day_at_offset

_table = table_of(Checkin)
_episodes = table_of(Episode)
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
    seq = ChangeSeq(session, patient.id)  # the lock first: no episode can arrive meanwhile
    if data.no_attacks:
        refuse_no_attacks(session, patient.id, day)
    result = records.put(
        session,
        CHECKINS,
        patient.id,
        day,
        data.model_dump(exclude={"date"}),
        seq,
        if_match=if_match,
        if_none_match=if_none_match,
        revive=True,
    )
    records.finish(session, result)
    return result


# --- check-ins and the episodes of their day ---------------------------------------------------


def episodes_on(session: Session, patient_id: uuid.UUID, day: dt.date) -> int:
    """How many live episodes the patient has on this local day."""
    t = _episodes
    low, high = any_offset_utc_range(day, day)
    rows = session.execute(
        select(t.c.started_at, t.c.started_offset_minutes).where(
            t.c.patient_id == patient_id,
            t.c.deleted_at.is_(None),
            t.c.started_at >= low,
            t.c.started_at < high,
        )
    )
    return sum(1 for at, offset in rows if local_day_at_offset(at, offset) == day)


def no_attacks_conflict(day: dt.date, count: int) -> str:
    attacks = "1 episode" if count == 1 else f"{count} episodes"
    return (
        f"{day.isoformat()} has {attacks} logged, so its check-in cannot say no_attacks: true. "
        "Send no_attacks: false, or delete the episodes of that day first."
    )


def refuse_no_attacks(session: Session, patient_id: uuid.UUID, day: dt.date) -> None:
    """409 when the day has a live episode (call under the patient's lock)."""
    count = episodes_on(session, patient_id, day)
    if count:
        raise Conflict(no_attacks_conflict(day, count))


def clear_no_attacks(session: Session, patient_id: uuid.UUID, days: Iterable[dt.date]) -> None:
    """An episode was written on these local days: a live check-in of one of them that says
    ``no_attacks: true`` no longer does (a new version, reported by the change feed). Call in
    the episode's transaction, under the patient's lock."""
    wanted = set(days)
    if not wanted:
        return
    t = _table
    flagged = (
        session.execute(
            select(t).where(
                t.c.patient_id == patient_id,
                t.c.local_date.in_(wanted),
                t.c.deleted_at.is_(None),
                t.c.no_attacks.is_(True),
            )
        )
        .mappings()
        .all()
    )
    if flagged:
        seq = ChangeSeq(session, patient_id, count=len(flagged))
        for row in flagged:
            records.rewrite(session, CHECKINS, row, {"no_attacks": False}, seq.take())


def episode_day(row: RowMapping) -> dt.date:
    """The local day of a stored episode."""
    return local_day_at_offset(row["started_at"], row["started_offset_minutes"])


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
