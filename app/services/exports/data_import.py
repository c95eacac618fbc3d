"""POST /me/import: a GET /me/export document into the caller's (new) patient account.

- Only into an empty diary (409 otherwise): merging two diaries would mix records and their
  histories with no way to tell them apart again. Checked (``admit``) before a byte of the
  body is read, with the import's own rate limit, and again in the writing transaction.
- All or nothing: the whole document is validated first (422 naming the bad paths, e.g.
  ``body.sessions.3.series_id``), then written in one transaction.
- Memory stays a small multiple of the document: the body is held once, as bytes, and read
  record by record (``ijson``) - once to validate, once to write in chunks - so the records never
  all exist as objects at the same time (a 32 MiB diary is some 250 MiB of them).
- Every record gets a new id (the old ids still belong to the old account); sessions and
  assessments follow their series to its new id. Versions start again at 1; the timestamps
  (``created_at``, ``updated_at``, ``deleted_at``) are kept, as when something was logged is
  part of the diary; they must be plausible (not in the future, ``deleted_at`` not before
  ``created_at``). Tombstones come along as tombstones.
- Medications bring their dose history (``doses``, checked like the API keeps it); one
  without it gets its dose from ``started_on``. Episodes and sessions keep the offset their
  ``started_at`` was written with (a version 1 document, in UTC, takes the patient's zone).
- The diary's plausibility rules hold as in the API: ``started_at`` from 2000-01-01 on (the
  schemas), a check-in saying ``no_attacks: true`` on a day with a live episode is a 409, and a
  session's high dose needs ``high_dose_confirmed`` (422 naming the figures).
- Attribution is never imported: a document is whatever its uploader wrote, so every session is
  recorded by the importing patient (role ``patient``). A session the document says someone else
  recorded keeps that claim only as unverified text at the end of its notes.
- The profile (name, time zone, birth year, weight, diagnosis) replaces the account's; the
  e-mail and password stay. Grants and the access log are not imported: they belong to the old
  account (grant again from the new one); they are skipped unread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import ijson
from ijson.common import ObjectBuilder
from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, exists, insert, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.models import (
    Assessment,
    Checkin,
    Episode,
    Medication,
    MedicationDose,
    Patient,
    Series,
    TreatmentSession,
)
from app.schemas.diary import EpisodeBody
from app.schemas.exports import (
    AssessmentImport,
    CheckinImport,
    EpisodeImport,
    ImportDocument,
    ImportResult,
    MedicationImport,
    PatientImport,
    SeriesImport,
    SessionImport,
    Stored,
)
from app.security.rate_limit import rate_limit
from app.services import clock
from app.services.care import audit
from app.services.care.access import PATIENT_NOT_FOUND
from app.services.context import AppContext
from app.services.diary import checkins, episodes, medication_doses
from app.services.identity.actors import Actor
from app.services.sync.records import ChangeSeq
from app.services.sync.sql import table_of
from app.services.treatments import dosing
from app.services.treatments.sessions import HIGH_DOSE_AUDIT
from app.trends.days import local_day_at_offset, offset_minutes, to_utc, zone_offset_minutes
from app.vocabulary import INSTRUMENTS, NOTE_MAX

IMPORTED_FROM = "Imported; originally recorded by a {role} (unverified)"
NOT_EMPTY = (
    "This account already has diary records; import into a new, empty account "
    "(merging two diaries would mix their histories)."
)
EPISODE_FIELDS = set(EpisodeBody.model_fields)
VITALS = ("systolic_max", "diastolic_max", "heart_rate_max", "spo2_min")
# A document with hundreds of thousands of bad records gets the first of them, not all.
MAX_ERRORS = 50
CHUNK_ROWS = 500  # records per INSERT: the batch, not the document, is in memory at once

_episodes = table_of(Episode)
_checkins = table_of(Checkin)
_medications = table_of(Medication)
_assessments = table_of(Assessment)
_series = table_of(Series)
_sessions = table_of(TreatmentSession)
_doses = table_of(MedicationDose)
DIARY_TABLES = (_episodes, _checkins, _medications, _assessments, _series, _sessions)

SECTIONS: dict[str, type[Stored]] = {
    "episodes": EpisodeImport,
    "checkins": CheckinImport,
    "medications": MedicationImport,
    "assessments": AssessmentImport,
    "series": SeriesImport,
    "sessions": SessionImport,
}
# Accepted (as any JSON array) but not imported: skipped without being built.
NOT_IMPORTED = frozenset({"grants", "grants_received", "access_log"})
HEAD = frozenset(ImportDocument.model_fields) - set(SECTIONS) - NOT_IMPORTED


def import_key(patient_id: uuid.UUID) -> str:
    return f"import:patient:{patient_id}"


def admit(ctx: AppContext, actor: Actor) -> None:
    """What is decided before the body is read: patients only (403), into an empty diary (409),
    and at most ``import_max_per_patient`` attempts per window (429 with Retry-After)."""
    if actor.patient_id is None:
        raise Forbidden("Only a patient account can import a diary.")
    with ctx.db.session() as session:
        if _has_records(session, actor.patient_id):
            raise Conflict(NOT_EMPTY)
    with ctx.db.session(write=True) as session:
        rate_limit(
            session,
            import_key(actor.patient_id),
            limit=ctx.settings.import_max_per_patient,
            window=ctx.settings.import_window_seconds,
        )
        session.commit()


def import_body(
    ctx: AppContext, actor: Actor, info: audit.RequestInfo, raw: bytes | bytearray
) -> ImportResult:
    """Validate the whole document (422, nothing written), then write it in one transaction."""
    plan = check(raw)
    with ctx.db.session(write=True) as session:
        try:
            return write(session, actor, info, raw, plan)
        except Exception:
            audit.settle(ctx.db, session, failed=True)
            raise


# --- reading the document record by record -----------------------------------------------------


class _Reader:
    """The body as a file for ijson, handed out in chunks (never copied whole)."""

    def __init__(self, data: bytes | bytearray) -> None:
        self._view = memoryview(data)
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else min(self._at + size, len(self._view))
        chunk = bytes(self._view[self._at : end])
        self._at = end
        return chunk


_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})
Events = Iterator[tuple[str, str, Any]]


def _value(events: Events, event: str, value: Any, *, build: bool) -> Any:
    """The JSON value that begins with this event, built (or only skipped past)."""
    if event not in _OPEN:
        return value
    builder = ObjectBuilder() if build else None
    depth = 0
    while True:
        if builder is not None:
            builder.event(event, value)
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                return builder.value if builder is not None else None
        _, event, value = next(events)


class _NotAnObject(Exception):
    pass


def _records(
    raw: bytes | bytearray, wanted: Collection[str], head: dict[str, Any]
) -> Iterator[tuple[str, int, Any]]:
    """Yield (section, index, record) for the records of the ``wanted`` sections, one at a time,
    in document order; collect the other top-level members into ``head``."""
    events: Events = ijson.parse(_Reader(raw), use_float=True)
    _, event, _ = next(events)
    if event != "start_map":
        raise _NotAnObject
    for _, event, key in events:
        if event == "end_map":
            break
        _, event, value = next(events)
        if key in SECTIONS and event == "start_array":
            # Each item's first event comes through here; _value takes the rest of it.
            for index, (_, event, value) in enumerate(events):
                if event == "end_array":
                    break
                record = _value(events, event, value, build=key in wanted)
                if key in wanted:
                    yield key, index, record
        elif key in NOT_IMPORTED and event == "start_array":
            _value(events, event, value, build=False)
            head[key] = []
        elif key in HEAD or key in SECTIONS or key in NOT_IMPORTED:
            head[key] = _value(events, event, value, build=True)  # a wrong type says so below
        else:  # an unknown member: named by the 422, never built (it could be anything)
            _value(events, event, value, build=False)
            head[key] = None
    for _ in events:  # trailing data after the document is an error, as in any JSON parser
        pass


# --- pass 1: validate everything, keep only what the cross-record checks need ------------------


@dataclass
class Plan:
    document: ImportDocument  # the profile and bookkeeping; its record lists stay empty
    counts: dict[str, int]
    series_ids: dict[uuid.UUID, uuid.UUID]  # old → new

    def offset(self, started_at: dt.datetime) -> int:
        return written_offset(self.document, started_at)


def written_offset(document: ImportDocument, started_at: dt.datetime) -> int:
    """The UTC offset ``started_at`` was written with. Version 1 wrote it in UTC, losing that
    offset: the patient's zone at that instant gives it, as for rows stored before the offset
    was kept."""
    if document.version == 1:
        return zone_offset_minutes(started_at, document.patient.timezone)
    return offset_minutes(started_at)


@dataclass
class _Errors:
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_ERRORS

    def add(self, loc: Sequence[str | int], msg: str, type_: str = "value_error") -> None:
        if not self.full:
            self.items.append({"loc": list(loc), "msg": msg, "type": type_})

    def pydantic(self, loc: Sequence[str | int], exc: ValidationError) -> None:
        for error in exc.errors(include_url=False, include_input=False, include_context=False):
            self.add([*loc, *error["loc"]], error["msg"], error["type"])

    def failure(self) -> ValidationFailed | None:
        if not self.items:
            return None
        first = self.items[0]
        path = ".".join(str(part) for part in first["loc"])
        failure = ValidationFailed(first["loc"], f"{path}: {first['msg']}", first["type"])
        failure.errors[:] = self.items  # extra["errors"] is the same list
        return failure


def _validated(model: type[BaseModel], data: Any, loc: Sequence[str | int], errors: _Errors) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors.pydantic(loc, exc)
        return None


def check(raw: bytes | bytearray) -> Plan:
    """Every record against its schema and the rules between records (duplicates, references,
    totals, dates against the patient's today); raises one 422 listing the first problems."""
    errors = _Errors()
    head: dict[str, Any] = {}
    counts = dict.fromkeys(SECTIONS, 0)
    seen: dict[str, set[Any]] = {name: set() for name in SECTIONS}
    references: list[tuple[str, int, uuid.UUID]] = []
    days: list[tuple[list[str | int], dt.date]] = []
    attacks = _AttackDays()
    try:
        for section, index, data in _records(raw, SECTIONS, head):
            counts[section] += 1
            loc: list[str | int] = ["body", section, index]
            record = _validated(SECTIONS[section], data, loc, errors)
            if record is not None:
                _check_record(section, loc, record, seen[section], references, days, errors)
                attacks.note(section, index, record)
            if errors.full:
                break
    except _NotAnObject:
        raise _body_error(
            "must be a JSON object (a GET /me/export document)", "dict_type"
        ) from None
    except ijson.JSONError as exc:
        raise _body_error(f"is not valid JSON ({exc})", "json_invalid") from None
    head_errors = _Errors()
    document = _validated(ImportDocument, head, ["body"], head_errors)
    errors.items[:0] = head_errors.items
    if document is not None:
        for loc, day in days:
            try:
                clock.not_after_today(day, document.patient.timezone, loc)
            except ValidationFailed as exc:
                errors.add(loc, exc.detail)
    for section, index, series_id in references:
        if series_id not in seen["series"]:
            errors.add(
                ["body", section, index, "series_id"],
                "must be the id of a series in the document"
                if section == "sessions"
                else "must be null or the id of a series in the document",
            )
    failure = errors.failure()
    if failure is not None:
        raise failure
    assert document is not None
    attacks.check(document)
    return Plan(document, counts, {old: uuid.uuid4() for old in seen["series"]})


@dataclass
class _AttackDays:
    """The rule between check-ins and episodes (``checkins``), over the document: a live
    check-in saying ``no_attacks: true`` on a local day with a live episode is a 409, as the
    same two writes through the API would be."""

    episodes: list[dt.datetime] = field(default_factory=list)
    no_attacks: dict[dt.date, int] = field(default_factory=dict)  # day → index of the check-in

    def note(self, section: str, index: int, record: Any) -> None:
        if record.deleted_at is not None:
            return
        if section == "episodes":
            self.episodes.append(record.started_at)
        elif section == "checkins" and record.no_attacks:
            self.no_attacks[record.date] = index

    def check(self, document: ImportDocument) -> None:
        if not self.no_attacks:
            return
        count: dict[dt.date, int] = {}
        for started_at in self.episodes:
            day = local_day_at_offset(started_at, written_offset(document, started_at))
            if day in self.no_attacks:
                count[day] = count.get(day, 0) + 1
        if count:
            day = min(count, key=lambda d: self.no_attacks[d])
            raise Conflict(
                f"body.checkins.{self.no_attacks[day]}.no_attacks: "
                + checkins.no_attacks_conflict(day, count[day])
            )


def _body_error(msg: str, type_: str) -> ValidationFailed:
    failure = ValidationFailed(["body"], f"body: {msg}", type_)
    failure.errors[0]["msg"] = msg
    return failure


def _check_record(
    section: str,
    loc: list[str | int],
    record: Any,
    seen: set[Any],
    references: list[tuple[str, int, uuid.UUID]],
    days: list[tuple[list[str | int], dt.date]],
    errors: _Errors,
) -> None:
    index = int(loc[-1])
    key_field = "date" if section == "checkins" else "id"
    key = getattr(record, key_field)
    if key in seen:
        errors.add([*loc, key_field], f"repeats an earlier {key_field}")
    seen.add(key)
    if record.deleted_at is not None and record.deleted_at < record.created_at:
        errors.add([*loc, "deleted_at"], "must not be before created_at")
    if section in ("sessions", "assessments") and record.series_id is not None:
        references.append((section, index, record.series_id))
    if section == "assessments":
        try:
            _check_total(index, record.instrument, record.items, record.total)
        except ValidationFailed as exc:
            errors.items.extend(exc.errors)
    elif section == "sessions":
        try:
            dosing.check_high_dose(
                record.route,
                record.duration_minutes,
                record.dose_mg_per_kg,
                record.high_dose_confirmed,
                loc=loc,
            )
        except ValidationFailed as exc:
            errors.items.extend(exc.errors)
    elif section == "checkins":
        days.append(([*loc, "date"], record.date))
    elif section == "medications":
        days.append(([*loc, "started_on"], record.started_on))
        if record.stopped_on is not None:
            days.append(([*loc, "stopped_on"], record.stopped_on))
            if record.stopped_on < record.started_on:
                errors.add([*loc, "stopped_on"], "stopped_on must not be before started_on")
        for position, entry in enumerate(record.doses):
            days.append(([*loc, "doses", position, "from"], entry.from_))
        try:
            _history(record, loc)
        except ValidationFailed as exc:
            errors.items.extend(exc.errors)


def _history(record: MedicationImport, loc: Sequence[str | int]) -> medication_doses.History:
    return medication_doses.check_imported(
        record.doses,
        dose_mg_per_day=record.dose_mg_per_day,
        started_on=record.started_on,
        stopped_on=record.stopped_on,
        loc=[*loc, "doses"],
    )


def _check_total(index: int, instrument: str, items: Sequence[int], total: int) -> None:
    count, low, high = INSTRUMENTS[instrument]
    loc: list[str | int] = ["body", "assessments", index]
    if len(items) != count:
        raise ValidationFailed(
            [*loc, "items"], f"{instrument} has {count} items; {len(items)} were given"
        )
    for position, value in enumerate(items):
        if not low <= value <= high:
            raise ValidationFailed(
                [*loc, "items", position], f"{instrument} items range from {low} to {high}"
            )
    if total != sum(items):
        raise ValidationFailed([*loc, "total"], "must be the sum of the items")


# --- pass 2: write, chunk by chunk, in one transaction ------------------------------------------


class _Rows:
    """INSERTs of ``CHUNK_ROWS`` rows at a time (one executemany each)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.table: Table | None = None
        self.rows: list[dict[str, Any]] = []

    def add(self, table: Table, row: dict[str, Any]) -> None:
        if table is not self.table:
            self.flush()
            self.table = table
        self.rows.append(row)
        if len(self.rows) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows and self.table is not None:
            self.session.execute(insert(self.table), self.rows)
        self.rows = []


def write(
    session: Session,
    actor: Actor,
    info: audit.RequestInfo,
    raw: bytes | bytearray,
    plan: Plan,
) -> ImportResult:
    assert actor.patient_id is not None
    # The patient's row lock, held to commit: no other write of this diary can interleave.
    seq = ChangeSeq(session, actor.patient_id, max(sum(plan.counts.values()), 1))
    patient = session.get(Patient, actor.patient_id)
    if patient is None:  # pragma: no cover - ChangeSeq found the row a moment ago
        raise NotFound(PATIENT_NOT_FOUND)
    if _has_records(session, patient.id):  # something was written since admit()
        raise Conflict(NOT_EMPTY)
    audit.stage(session, audit.event_for(actor, patient.id, info, "success"))
    _apply_profile(patient, plan.document.patient)
    rows = _Rows(session)

    def stored(record: Stored) -> dict[str, Any]:
        return {
            "patient_id": patient.id,
            "version": 1,
            "change_seq": seq.take(),
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "deleted_at": record.deleted_at,
        }

    def valid(section: str, data: Any) -> Any:
        try:
            return SECTIONS[section].model_validate(data)
        except ValidationError as exc:  # pragma: no cover - validated a moment ago
            raise RuntimeError("a record that passed validation no longer does") from exc

    # The series first: sessions and assessments refer to them wherever they stand.
    for data in ijson.items(_Reader(raw), "series.item", use_float=True):
        record = valid("series", data)
        rows.add(_series, {**stored(record), **_series_row(record, plan.series_ids)})
    rows.flush()
    doses: list[dict[str, Any]] = []  # after their medications (a few per medication)
    for section, index, data in _records(raw, set(SECTIONS) - {"series"}, {}):
        record = valid(section, data)
        table, row = _ROW[section](record, actor, plan)
        rows.add(table, {**stored(record), **row})
        if section == "sessions" and _confirmed_high_dose(record):
            audit.note(session, HIGH_DOSE_AUDIT)
        if section == "medications":
            history = _history(record, ["body", section, index])
            doses.extend(
                {
                    "id": uuid.uuid4(),
                    "patient_id": patient.id,
                    "medication_id": row["id"],
                    "effective_on": day,
                    "dose_mg_per_day": dose,
                    "recorded_at": record.updated_at,
                }
                for day, dose in history
            )
    rows.flush()
    for start in range(0, len(doses), CHUNK_ROWS):
        session.execute(insert(_doses), doses[start : start + CHUNK_ROWS])
    session.commit()
    return ImportResult(**plan.counts)


def _confirmed_high_dose(s: SessionImport) -> bool:
    high = dosing.high_dose(s.route, s.duration_minutes, s.dose_mg_per_kg)
    return s.high_dose_confirmed and high is not None


Row = tuple[Table, dict[str, Any]]
SeriesIds = dict[uuid.UUID, uuid.UUID]


def _series_row(s: SeriesImport, series_ids: SeriesIds) -> dict[str, Any]:
    return {
        "id": series_ids[s.id],
        **s.model_dump(
            include={
                "name",
                "modality",
                "protocol",
                "planned_sessions",
                "planned_start",
                "new_course",
            }
        ),
        "baseline_days": s.baseline_days,
        "follow_up_days": s.follow_up_days,
    }


def _session_row(s: SessionImport, actor: Actor, plan: Plan) -> Row:
    return _sessions, {
        "id": uuid.uuid4(),
        **s.model_dump(
            exclude={
                "id",
                "series_id",
                "vitals",
                "adverse_effects",
                "notes",
                "recorded_by",
                "recorded_by_role",
            }
            | set(Stored.model_fields)
        ),
        "series_id": plan.series_ids[s.series_id],
        "started_at": to_utc(s.started_at),
        "started_offset_minutes": plan.offset(s.started_at),
        **{name: getattr(s.vitals, name) if s.vitals else None for name in VITALS},
        "adverse_effects": [effect.model_dump() for effect in s.adverse_effects],
        # Whoever the document names, the importing patient recorded it (see above).
        "recorded_by": actor.id,
        "recorded_by_role": "patient",
        "notes": imported_notes(s.notes, s.recorded_by_role),
    }


def _episode_row(e: EpisodeImport, _actor: Actor, plan: Plan) -> Row:
    return _episodes, {
        "id": uuid.uuid4(),
        **episodes.columns(e.model_dump(include=EPISODE_FIELDS)),
        "started_offset_minutes": plan.offset(e.started_at),
    }


def _checkin_row(c: CheckinImport, _actor: Actor, _plan: Plan) -> Row:
    return _checkins, {
        **c.model_dump(exclude={"date"} | set(Stored.model_fields)),
        "local_date": c.date,
    }


def _medication_row(m: MedicationImport, _actor: Actor, _plan: Plan) -> Row:
    return _medications, {
        "id": uuid.uuid4(),
        **m.model_dump(exclude={"id", "doses"} | set(Stored.model_fields)),
    }


def _assessment_row(a: AssessmentImport, _actor: Actor, plan: Plan) -> Row:
    return _assessments, {
        "id": uuid.uuid4(),
        "instrument": a.instrument,
        "taken_at": to_utc(a.taken_at),
        "items": list(a.items),
        "total": a.total,
        "series_id": plan.series_ids[a.series_id] if a.series_id is not None else None,
    }


_ROW: dict[str, Any] = {
    "episodes": _episode_row,
    "checkins": _checkin_row,
    "medications": _medication_row,
    "assessments": _assessment_row,
    "sessions": _session_row,
}


def imported_notes(notes: str | None, recorded_by_role: str) -> str | None:
    """A session's notes as imported: a claim that someone other than the patient recorded it
    survives as unverified text at their end. The notes stay within their limit: the original
    text is shortened (marked with …) when the two would not fit."""
    if recorded_by_role == "patient":
        return notes
    marker = IMPORTED_FROM.format(role=recorded_by_role)
    if not notes:
        return marker
    room = NOTE_MAX - len(marker) - 2
    if len(notes) > room:
        notes = notes[: room - 1] + "…"
    return f"{notes}\n\n{marker}"


def _has_records(session: Session, patient_id: uuid.UUID) -> bool:
    """Any record, tombstones included (they still sync to the account's devices)."""
    return any(
        session.scalar(select(exists().where(table.c.patient_id == patient_id)))
        for table in DIARY_TABLES
    )


def _apply_profile(patient: Patient, profile: PatientImport) -> None:
    diagnosis = profile.diagnosis
    values = {
        "display_name": profile.display_name,
        "timezone": profile.timezone,
        "birth_year": profile.birth_year,
        "weight_kg": profile.weight_kg,
        "ichd3_type": diagnosis.ichd3_type,
        "side": diagnosis.side,
        "branches": list(diagnosis.branches),
        "concomitant_continuous_pain": diagnosis.concomitant_continuous_pain,
        "diagnosed_on": diagnosis.diagnosed_on,
    }
    changed = [name for name, value in values.items() if getattr(patient, name) != value]
    for name in changed:
        setattr(patient, name, values[name])
    if changed:
        patient.version += 1
