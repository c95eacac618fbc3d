"""Outcomes kept ready: per-patient and per-series figures stored, brought up to date on read.

The cohort table and the clinicians' patients page would otherwise analyse every series of
every patient on every view (2-3 ms a patient). Instead ``patient_outcomes`` and
``series_outcomes`` (app/models/outcomes.py) hold what ``app.trends.analyse`` says as of each
patient's local today, with what that was computed from: the patient's ``change_seq`` (every
write of the patient's records bumps it: services/sync/records.py), the patient record's
``version`` (a change of time zone or name bumps it) and ``valid_until``, the instant the
patient's today moves on.

A change of either number, and every new patient, leaves a mark in ``outcome_changes`` (database
triggers on ``patients``, migration 0016o1: no write path needs to know, the bulk ones and
those still to come included). Before a reader answers it runs ``make_ready``: one query finds
the patients it may see with a mark or whose stored day is over (two small indexed reads, never
a pass over every patient), and those are recomputed in chunks and stored before the page is
read. The state is read before the diary, and a mark is removed only up to the ``change_seq``
and ``version`` the rows were computed from, so a write that lands in between leaves its mark
and is recomputed on the next read: a stale row is never served.

Concurrent refreshers of the same patient serialise on the ``patient_outcomes`` row (the upsert
comes first in the write transaction, in patient-id order), then replace the series rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    delete,
    insert,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import Database
from app.models import Grant, OutcomeChange, Patient, PatientOutcome, SeriesOutcome
from app.services.care import audit
from app.services.identity.actors import Actor
from app.services.outcomes.courses import analyses_of
from app.services.sync import listing
from app.services.sync.sql import table_of
from app.trends import SeriesAnalysis, days, outlook
from app.trends import load as loader
from app.trends.days import CLOCK_SKEW, ONE_DAY, local_today, utcnow
from app.trends.metrics import as_float

PATIENTS = table_of(PatientOutcome)
SERIES = table_of(SeriesOutcome)
# Patients recomputed per read transaction and per write transaction.
CHUNK = 200
# Ids per IN list (SQLite allows 32 766 bound parameters; PostgreSQL 65 535).
IN_BATCH = 5000
# "Expected return within 14 days" on the patients page.
RETURN_SOON = dt.timedelta(days=14)


def now() -> dt.datetime:
    """The clock this module reads (tests move it to change the patients' today)."""
    return utcnow()


@dataclass(frozen=True)
class PatientState:
    """What a patient's figures are computed from, read before the diary."""

    id: uuid.UUID
    change_seq: int
    version: int
    timezone: str
    display_name: str


def sort_name(display_name: str) -> str:
    return display_name.casefold()[:200]


def granted_to(actor: Actor, patient_id: Any, at: dt.datetime) -> ColumnElement[bool]:
    """The rows of patients with an active grant to ``actor`` at ``at``: a correlated EXISTS,
    so that the query walks its own index in the order asked for (or its few marked rows)
    and looks each patient's grant up, never the other way round (a clinician's every grant,
    then a sort)."""
    grantee = Grant.client_id if actor.is_client else Grant.grantee_user_id
    return (
        select(Grant.id)
        .where(
            Grant.patient_id == patient_id,
            grantee == actor.id,
            Grant.revoked_at.is_(None),
            or_(Grant.expires_at.is_(None), Grant.expires_at > at),
        )
        .exists()
    )


def valid_until(timezone: str, as_of: dt.date) -> dt.datetime:
    """The first instant at which ``local_today(timezone)`` is after ``as_of``."""
    instant = days.at_local(as_of + ONE_DAY, dt.time(), timezone) - CLOCK_SKEW
    step = dt.timedelta(minutes=1)
    # A DST change at midnight can move local midnight; step to where the day really turns.
    while local_today(timezone, instant) <= as_of:
        instant += step
    while local_today(timezone, instant - step) > as_of:
        instant -= step
    return instant


# --- computing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    """One patient's rows, ready to store (or to serve for an explicit as_of)."""

    patient: dict[str, Any]
    series: list[dict[str, Any]]


def _series_values(
    state: PatientState,
    ordinal: int,
    series: loader.SeriesDetail,
    as_of: dt.date,
    analysis: SeriesAnalysis | None,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "series_id": series.id,
        "patient_id": state.id,
        "ordinal": ordinal,
        "sort_name": sort_name(state.display_name),
        "patient_name": state.display_name,
        "series_name": series.name,
        "modality": series.modality,
        "as_of": as_of,
        **dict.fromkeys(
            (
                "start",
                "end_day",
                "course_id",
                "booster",
                "baseline_attacks_per_day",
                "follow_up_1_attacks_per_day",
                "change_pct",
                "category",
                "responder",
                "relief_status",
                "relief_days",
                "relief_onset",
                "relief_end",
                "censor_reason",
                "baseline_flags",
                "expected_return_from",
                "expected_return_to",
            )
        ),
    }
    if analysis is None:
        return values
    plan, found, comparison = analysis.plan, analysis.relief, analysis.follow_up_1
    values.update(
        start=plan.start,
        end_day=plan.end,
        course_id=plan.place.course_id,
        booster=plan.place.booster,
        baseline_attacks_per_day=as_float(analysis.baseline_rate),
        follow_up_1_attacks_per_day=None if comparison is None else comparison.value,
        change_pct=None if comparison is None else comparison.change_pct,
        category=None if comparison is None else comparison.category,
        responder=analysis.responder,
        baseline_flags=list(analysis.flags),
    )
    if found is not None:
        values.update(
            relief_status=found.status,
            relief_days=found.duration_days,
            relief_onset=found.onset_day,
            relief_end=found.end_day,
            censor_reason=found.censor_reason,
        )
    return values


def _patient_values(
    state: PatientState,
    as_of: dt.date,
    latest: dict[str, Any] | None,
    return_open: bool = False,
) -> dict[str, Any]:
    pick = latest or {}
    last_end: dt.date | None = pick.get("end_day")
    status = pick.get("relief_status")
    ended_on: dt.date | None = pick.get("relief_end")
    ended = status == "ended" and ended_on is not None
    back: dt.date | None = pick.get("expected_return_from")
    soon_key = None
    relief_over = status in ("ended", "no_relief")
    if back is not None and not relief_over and back <= as_of + RETURN_SOON:
        soon_key = back.toordinal()
    return {
        "patient_id": state.id,
        "change_seq": state.change_seq,
        "patient_version": state.version,
        "as_of": as_of,
        "valid_until": valid_until(state.timezone, as_of),
        "sort_name": sort_name(state.display_name),
        "series_id": pick.get("series_id"),
        "series_name": pick.get("series_name"),
        "modality": pick.get("modality"),
        "start": pick.get("start"),
        "end_day": pick.get("end_day"),
        "responder": pick.get("responder"),
        "relief_status": status,
        "relief_days": pick.get("relief_days"),
        "relief_onset": pick.get("relief_onset"),
        "relief_end": pick.get("relief_end"),
        "censor_reason": pick.get("censor_reason"),
        "expected_return_from": back,
        "expected_return_to": pick.get("expected_return_to"),
        "expected_return_open": return_open and back is not None,
        "ended_rank": 0 if ended else 1,
        "ended_key": -ended_on.toordinal() if ended and ended_on is not None else 0,
        "return_rank": 1 if soon_key is None else 0,
        "return_key": soon_key or 0,
        "session_rank": 1 if last_end is None else 0,
        "session_key": 0 if last_end is None else -(as_of - last_end).days,
    }


def compute(
    session: Session,
    states: Sequence[PatientState],
    at: dt.datetime,
    as_of: dt.date | None = None,
) -> list[Computed]:
    """The rows of these patients as of ``as_of`` (default: each one's local today at
    ``at``): a query for their series, then per patient one for its sessions and a few for
    its diary over the days its series' numbers use (``courses.analyses_of``)."""
    all_series = loader.load_patients_series(session, [state.id for state in states])
    found: list[Computed] = []
    for state in states:
        day = as_of or local_today(state.timezone, at)
        patient_series = all_series.get(state.id, [])
        analyses: dict[uuid.UUID, SeriesAnalysis] = {}
        if patient_series:
            sessions = loader.load_sessions(
                session, state.id, [s.id for s in patient_series], state.timezone
            )
            treatments = loader.Treatments(tuple(patient_series), sessions)
            analyses = analyses_of(session, state.id, state.timezone, treatments, day)
        rows = {
            series.id: _series_values(state, ordinal, series, day, analyses.get(series.id))
            for ordinal, series in enumerate(patient_series)
        }
        open_ended = _add_outlooks(analyses, rows)
        latest: dict[str, Any] | None = None
        if analyses:
            latest = rows[next(reversed(analyses))]
        elif patient_series:
            latest = rows[patient_series[-1].id]
        return_open = latest is not None and open_ended.get(latest["series_id"], False)
        found.append(
            Computed(_patient_values(state, day, latest, return_open), list(rows.values()))
        )
    return found


def _add_outlooks(
    analyses: dict[uuid.UUID, SeriesAnalysis], rows: dict[uuid.UUID, dict[str, Any]]
) -> dict[uuid.UUID, bool]:
    """The course outlook's expected return on each course's latest series (as /courses);
    returns, by those series, whether the outlook's longest relief is still running (the
    expected return's latest day a lower bound)."""
    open_ended: dict[uuid.UUID, bool] = {}
    reliefs = [analysis.relief for analysis in analyses.values()]
    latest_of: dict[uuid.UUID, SeriesAnalysis] = {}
    for analysis in analyses.values():  # course order: the last one seen is the latest
        latest_of[analysis.plan.place.course_id] = analysis
    for latest in latest_of.values():
        plan = latest.plan
        found = outlook(reliefs, plan.series.id, latest.relief, plan.end)
        if found is not None:
            rows[plan.series.id].update(
                expected_return_from=found.expected_return[0],
                expected_return_to=found.expected_return[1],
            )
            open_ended[plan.series.id] = found.longest_censored
    return open_ended


# --- storing -----------------------------------------------------------------------------------


def _upsert(session: Session, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Insert or replace the patients' rows, unless the stored one was computed from a later
    state (a refresher that read later committed first): the patients whose row was written.

    A state is later when its (version, change_seq, as_of) is: both numbers only grow, so
    two readings of one patient are always ordered this way."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(PATIENTS)
    changed = {c.name: stmt.excluded[c.name] for c in PATIENTS.c if c.name != "patient_id"}
    old = tuple_(PATIENTS.c.patient_version, PATIENTS.c.change_seq, PATIENTS.c.as_of)
    new = tuple_(stmt.excluded.patient_version, stmt.excluded.change_seq, stmt.excluded.as_of)
    upsert = stmt.on_conflict_do_update(
        index_elements=["patient_id"], set_=changed, where=old <= new
    )
    written = session.execute(upsert.returning(PATIENTS.c.patient_id), rows)
    return set(written.scalars())


_MARKS = table_of(OutcomeChange)
_UNMARK = (
    delete(_MARKS)
    .where(_MARKS.c.patient_id == bindparam("pid"))
    .where(_MARKS.c.change_seq <= bindparam("seq"))
    .where(_MARKS.c.patient_version <= bindparam("version"))
)


def store(db: Database, computed: Sequence[Computed]) -> None:
    """Replace these patients' rows in one write transaction (patients in id order), and
    remove their change marks up to the positions they were computed from: a write that
    came later has left a later mark, which stays."""
    if not computed:
        return
    ordered = sorted(computed, key=lambda item: item.patient["patient_id"])
    ids = [item.patient["patient_id"] for item in ordered]
    with db.session(write=True) as session:
        # Patients erased meanwhile are left out: their rows would break the foreign key.
        alive = set(session.scalars(select(Patient.id).where(Patient.id.in_(ids))))
        ordered = [item for item in ordered if item.patient["patient_id"] in alive]
        if ordered:
            written = _upsert(session, [item.patient for item in ordered])
            ordered = [item for item in ordered if item.patient["patient_id"] in written]
        if ordered:
            session.execute(delete(SERIES).where(SERIES.c.patient_id.in_(list(written))))
            series_rows = [row for item in ordered for row in item.series]
            if series_rows:
                session.execute(insert(SERIES), series_rows)
            marks = [
                {
                    "pid": item.patient["patient_id"],
                    "seq": item.patient["change_seq"],
                    "version": item.patient["patient_version"],
                }
                for item in ordered
            ]
            session.connection().execute(_UNMARK, marks)
        session.commit()


def _chunks(items: Sequence[PatientState], size: int) -> Iterator[Sequence[PatientState]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


def stale_patients(session: Session, actor: Actor | None, at: dt.datetime) -> list[PatientState]:
    """The patients (those ``actor`` may see; all without one) with a change mark, or whose
    stored day is over. Two small reads first - the marks, and the ``valid_until`` index up to
    ``at`` - which are empty on most requests; only the ids they name are then joined to the
    patient and the caller's active grant. So the cost follows what changed, never the number
    of patients, whatever the planner's statistics say."""
    marked = set(session.scalars(select(OutcomeChange.patient_id)))
    ended = set(
        session.scalars(select(PatientOutcome.patient_id).where(PatientOutcome.valid_until <= at))
    )
    ids = sorted(marked | ended)
    if not ids:
        return []
    p = Patient
    found: list[PatientState] = []
    for first in range(0, len(ids), IN_BATCH):
        query = select(p.id, p.change_seq, p.version, p.timezone, p.display_name).where(
            p.id.in_(ids[first : first + IN_BATCH])
        )
        if actor is not None:
            query = query.where(granted_to(actor, p.id, at))
        found.extend(PatientState(*row) for row in session.execute(query))
    return sorted(found, key=lambda state: state.id)


def refresh(db: Database, session: Session, states: Sequence[PatientState], at: dt.datetime) -> int:
    """Recompute and store these patients' rows, ``CHUNK`` at a time; each chunk's read ends
    before its write transaction (one pooled connection at a time)."""
    for chunk in _chunks(states, CHUNK):
        computed = compute(session, chunk, at)
        session.commit()
        store(db, computed)
    return len(states)


def make_ready(db: Database, session: Session, actor: Actor, at: dt.datetime) -> int:
    """Bring every row ``actor`` may read up to date; returns how many patients it redid."""
    stale = stale_patients(session, actor, at)
    if stale:
        refresh(db, session, stale, at)
    return len(stale)


def refresh_all(db: Database, at: dt.datetime | None = None) -> int:
    """Every patient whose rows are out of date (the CLI, e.g. just after midnight)."""
    moment = at or now()
    with db.session() as session:
        stale = stale_patients(session, None, moment)
        session.commit()
        return refresh(db, session, stale, moment)


def states_of(session: Session, patient_ids: Iterable[uuid.UUID]) -> list[PatientState]:
    p = Patient
    query = select(p.id, p.change_seq, p.version, p.timezone, p.display_name).where(
        p.id.in_(list(patient_ids))
    )
    return sorted((PatientState(*row) for row in session.execute(query)), key=lambda s: s.id)


# --- the clinicians' patients page -------------------------------------------------------------

PatientSort = Literal["name", "relief_ended", "return_soon"]
_O = PATIENTS.c
SORTS: dict[str, listing.Keyset] = {
    # By name (casefolded), then patient.
    "name": listing.Keyset("patients-name", (_O.sort_name, _O.patient_id), newest_first=False),
    # Patients whose latest series' relief has ended first, the latest end first; then by name.
    "relief_ended": listing.Keyset(
        "patients-ended",
        (_O.ended_rank, _O.ended_key, _O.sort_name, _O.patient_id),
        newest_first=False,
    ),
    # Patients whose pain may return within 14 days (the course outlook's expected return
    # begins by then, the relief not over) first, the soonest first; then by name.
    "return_soon": listing.Keyset(
        "patients-return",
        (_O.return_rank, _O.return_key, _O.sort_name, _O.patient_id),
        newest_first=False,
    ),
}


@dataclass(frozen=True)
class PatientOutcomeRow:
    """A patient on the patients page: the latest series (null fields: no series, or no
    completed session yet) with its relief and the course outlook's expected return."""

    patient_id: uuid.UUID
    patient_name: str
    timezone: str
    as_of: dt.date
    series_id: uuid.UUID | None
    series_name: str | None
    modality: str | None
    start: dt.date | None
    end: dt.date | None
    responder: bool | None
    relief_status: str | None
    relief_days: int | None
    relief_onset: dt.date | None
    relief_end: dt.date | None
    censor_reason: str | None
    expected_return_from: dt.date | None
    expected_return_to: dt.date | None
    relief_ended: bool
    return_within_14_days: bool


@dataclass(frozen=True)
class PatientOutcomePage:
    items: list[PatientOutcomeRow]
    next_cursor: str | None  # for a cursor (or first) page
    next_offset: int | None  # for an offset page


def _patient_row(values: Any, name: str, timezone: str) -> PatientOutcomeRow:
    return PatientOutcomeRow(
        patient_id=values["patient_id"],
        patient_name=name,
        timezone=timezone,
        as_of=values["as_of"],
        series_id=values["series_id"],
        series_name=values["series_name"],
        modality=values["modality"],
        start=values["start"],
        end=values["end_day"],
        responder=values["responder"],
        relief_status=values["relief_status"],
        relief_days=values["relief_days"],
        relief_onset=values["relief_onset"],
        relief_end=values["relief_end"],
        censor_reason=values["censor_reason"],
        expected_return_from=values["expected_return_from"],
        expected_return_to=values["expected_return_to"],
        relief_ended=values["ended_rank"] == 0,
        return_within_14_days=values["return_rank"] == 0,
    )


def patient_outcome_rows(
    session: Session,
    actor: Actor,
    *,
    db: Database,
    sort: PatientSort,
    limit: int,
    offset_or_cursor: int | str | None,
    as_of: dt.date | None,
    info: audit.RequestInfo | None = None,
) -> PatientOutcomePage:
    """One page of the patients ``actor`` may see (active grants, joined in), each with its
    latest series' outcome, sorted in the database by ``sort``. ``offset_or_cursor``: an int
    is an offset, a string a cursor from ``next_cursor``, None the first page.

    The stored rows are brought up to date first (``make_ready``), then the page is one
    indexed query. With an explicit ``as_of`` other than a patient's today, every visible
    patient is computed for that day and sorted here (no stored rows serve that day). With
    ``info`` each listed patient's read is appended to their audit trail. The read session
    is committed before that (one pooled connection at a time), as the cohort does.
    """
    at = now()
    make_ready(db, session, actor, at)
    keyset = SORTS[sort]
    o = PATIENTS
    query = (
        select(*o.c, Patient.display_name, Patient.timezone)
        .join(Patient, Patient.id == o.c.patient_id)
        .where(granted_to(actor, o.c.patient_id, at))
    )
    if as_of is not None and session.scalar(
        select(o.c.patient_id).select_from(query.subquery()).where(o.c.as_of != as_of).limit(1)
    ):
        page = _computed_page(session, actor, keyset, at, as_of, limit, offset_or_cursor)
    else:
        page = _stored_page(session, query, keyset, limit, offset_or_cursor)
    session.commit()
    if info is not None:
        audit.record(
            db, [audit.event_for(actor, row.patient_id, info, "success") for row in page.items]
        )
    return page


def _stored_page(
    session: Session,
    query: Select[Any],
    keyset: listing.Keyset,
    limit: int,
    offset_or_cursor: int | str | None,
) -> PatientOutcomePage:
    def out(row: Any) -> PatientOutcomeRow:
        return _patient_row(row, row["display_name"], row["timezone"])

    if isinstance(offset_or_cursor, int):
        rows = (
            session.execute(
                query.order_by(*keyset.order()).offset(offset_or_cursor).limit(limit + 1)
            )
            .mappings()
            .all()
        )
        more = len(rows) > limit
        return PatientOutcomePage(
            [out(row) for row in rows[:limit]], None, offset_or_cursor + limit if more else None
        )
    after = keyset.decode(offset_or_cursor) if offset_or_cursor is not None else None
    rows = keyset.fetch(session, query, limit + 1, after)
    cursor = keyset.encode(keyset.key(rows[limit - 1])) if len(rows) > limit else None
    return PatientOutcomePage([out(row) for row in rows[:limit]], cursor, None)


def _computed_page(
    session: Session,
    actor: Actor,
    keyset: listing.Keyset,
    at: dt.datetime,
    as_of: dt.date,
    limit: int,
    offset_or_cursor: int | str | None,
) -> PatientOutcomePage:
    query = select(Patient.id).where(granted_to(actor, Patient.id, at))
    states = states_of(session, session.scalars(query))
    names = {state.id: (state.display_name, state.timezone) for state in states}
    values = [
        item.patient
        for first in range(0, len(states), CHUNK)
        for item in compute(session, states[first : first + CHUNK], at, as_of)
    ]
    names_of = [str(col.key) for col in keyset.columns]
    values.sort(key=lambda row: tuple(row[name] for name in names_of))
    first = 0
    if isinstance(offset_or_cursor, int):
        first = offset_or_cursor
    elif offset_or_cursor is not None:
        after = keyset.decode(offset_or_cursor)
        first = sum(1 for row in values if tuple(row[name] for name in names_of) <= after)
    chosen = values[first : first + limit]
    more = len(values) > first + limit
    items = [_patient_row(row, *names[row["patient_id"]]) for row in chosen]
    if isinstance(offset_or_cursor, int):
        return PatientOutcomePage(items, None, first + limit if more else None)
    cursor = keyset.encode(keyset.key(chosen[-1])) if more and chosen else None  # type: ignore[arg-type]
    return PatientOutcomePage(items, cursor, None)
