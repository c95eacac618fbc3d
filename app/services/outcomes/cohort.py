"""Series outcomes across every patient a clinician (or partner) may see, JSON or CSV.

The rows are the stored outcomes (services/outcomes/ready.py), brought up to date before each
read: one query finds what changed (the patient's data, record or local day) among the patients
the caller may see, those are recomputed, then a page is one indexed query over
``series_outcomes`` in the table's order with the caller's active grants joined in (an active
grant, checked on this request, as on every patient route). Each patient whose rows are shown
is appended to that patient's audit trail before the page leaves. The summary is computed from
one narrow query over the same rows. An explicit ``as_of`` other than a patient's today is
computed for that day (the page's patients; every patient for the summary).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping, Select, func, select
from sqlalchemy.orm import Session

from app.db import Database
from app.errors import Forbidden, ValidationFailed
from app.schemas.trends import CohortOut, CohortRowOut, CohortSummaryOut
from app.services.care import audit
from app.services.care.access import Scope, require_scope
from app.services.identity.actors import Actor
from app.services.outcomes import ready
from app.services.outcomes.trends import not_before_earliest
from app.services.sync import listing
from app.trends import days
from app.trends.cohort import CohortEntry, cohort_group, group_of
from app.trends.relief import Relief

PAGE = 500
REPORTS_SCOPE: Scope = "reports:read"
# The latest local date anywhere is UTC's date + 1 (UTC+14); a caller may be a day ahead of that.
AS_OF_MAX_AHEAD_OF_UTC = dt.timedelta(days=2)
CSV_COLUMNS = tuple(CohortRowOut.model_fields)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def check_caller(actor: Actor) -> None:
    """Clinicians; partner clients with ``reports:read``. Patients and admins: 403."""
    if actor.is_client:
        require_scope(actor, REPORTS_SCOPE)
    elif actor.role != "clinician":
        raise Forbidden("Cohort outcomes are for clinicians and partner clients.")


def summarise(entries: Sequence[CohortEntry]) -> CohortSummaryOut:
    return CohortSummaryOut.model_validate(
        {
            "first_series": cohort_group(entries, booster=False),
            "boosters": cohort_group(entries, booster=True),
        }
    )


def _check_as_of(as_of: dt.date | None) -> None:
    if as_of is not None:
        not_before_earliest(as_of, "as_of")
        if as_of > days.utc_today() + AS_OF_MAX_AHEAD_OF_UTC:
            raise ValidationFailed(["query", "as_of"], "must not be in the future")


def _rows_query(actor: Actor, at: dt.datetime, modality: str | None) -> Select[Any]:
    """The stored rows of the patients ``actor`` may see (the grant is joined in)."""
    t = ready.SERIES
    query = select(*t.c).where(ready.granted_to(actor, t.c.patient_id, at))
    return query if modality is None else query.where(t.c.modality == modality)


def _stored_row(row: RowMapping) -> CohortRowOut:
    fields = {name: row[name] for name in ROW_COLUMNS}
    fields["start"] = row["start"]
    return CohortRowOut.model_validate(fields)


def _computed_row(values: dict[str, Any]) -> CohortRowOut:
    return CohortRowOut.model_validate({name: values[name] for name in ROW_COLUMNS})


def _rows(
    session: Session, stored: Sequence[RowMapping], at: dt.datetime, as_of: dt.date | None
) -> list[CohortRowOut]:
    """The page's rows; rows stored for another day than an explicit ``as_of`` are computed
    for it (their patients only)."""
    other = {row["patient_id"] for row in stored if as_of is not None and row["as_of"] != as_of}
    computed: dict[uuid.UUID, dict[str, Any]] = {}
    if other:
        states = ready.states_of(session, other)
        for item in ready.compute(session, states, at, as_of):
            computed.update((row["series_id"], row) for row in item.series)
    out = []
    for row in stored:
        values = computed.get(row["series_id"]) if row["patient_id"] in other else None
        out.append(_stored_row(row) if values is None else _computed_row(values))
    return out


ROW_COLUMNS = tuple(CohortRowOut.model_fields)
# The table's order: patient name (casefolded), patient, the patient's series by creation.
ORDER = listing.Keyset(
    "cohort",
    (ready.SERIES.c.sort_name, ready.SERIES.c.patient_id, ready.SERIES.c.ordinal),
    newest_first=False,
)


def series_outcomes(
    session: Session,
    db: Database,
    actor: Actor,
    info: audit.RequestInfo,
    *,
    modality: str | None,
    as_of: dt.date | None,
    limit: int = 50,
    cursor: str | None = None,
    with_summary: bool = True,
) -> CohortOut:
    """One page of rows (one indexed query over the stored outcomes, the caller's grants
    joined in) and, on the first page, the summary over every row. The stored rows are first
    brought up to date (``ready.make_ready``): a response is never built from stale ones."""
    check_caller(actor)
    _check_as_of(as_of)
    at = ready.now()
    ready.make_ready(db, session, actor, at)
    query = _rows_query(actor, at, modality)
    after = ORDER.decode(cursor) if cursor is not None else None
    found = ORDER.fetch(session, query, limit + 1, after)
    next_cursor = ORDER.encode(ORDER.key(found[limit - 1])) if len(found) > limit else None
    rows = _rows(session, found[:limit], at, as_of)
    summary = None
    if with_summary and cursor is None:
        summary = _summary(session, actor, at, modality, as_of)
    # End the read before the audit's write transaction: one pooled connection at a time.
    session.commit()
    shown = list(dict.fromkeys(row.patient_id for row in rows))
    audit.record(db, [audit.event_for(actor, patient_id, info, "success") for patient_id in shown])
    return CohortOut(items=rows, next_cursor=next_cursor, summary=summary)


def every_row(
    session: Session,
    db: Database,
    actor: Actor,
    info: audit.RequestInfo,
    *,
    modality: str | None,
    as_of: dt.date | None,
) -> list[CohortRowOut]:
    """Every row (the CSV export), 500 at a time; each patient read is audited."""
    check_caller(actor)
    _check_as_of(as_of)
    at = ready.now()
    ready.make_ready(db, session, actor, at)
    query = _rows_query(actor, at, modality)
    rows: list[CohortRowOut] = []
    for stored in listing.every_page(session, query, ORDER, size=PAGE, out=lambda row: row):
        rows.extend(_rows(session, stored, at, as_of))
    session.commit()
    shown = list(dict.fromkeys(row.patient_id for row in rows))
    audit.record(db, [audit.event_for(actor, patient_id, info, "success") for patient_id in shown])
    return rows


def _summary(
    session: Session, actor: Actor, at: dt.datetime, modality: str | None, as_of: dt.date | None
) -> CohortSummaryOut:
    """The summary over every row. From the stored rows, the database picks each patient's
    earliest series (start, id) per group and hands over four columns of those only; for an
    explicit ``as_of`` other than some patient's stored day, from ``_entries``."""
    if as_of is not None and _patients_with_other_day(session, actor, at, as_of):
        return summarise(_entries(session, actor, at, modality, as_of))
    groups = _earliest_per_group(session, actor, at, modality)
    return CohortSummaryOut.model_validate(
        {"first_series": group_of(groups[False]), "boosters": group_of(groups[True])}
    )


def _earliest_per_group(
    session: Session, actor: Actor, at: dt.datetime, modality: str | None
) -> dict[bool, list[tuple[bool | None, str | None, int | None]]]:
    """(responder, relief status, relief days) of each patient's earliest series (start, id) in
    the group first series (False) / boosters (True), picked by the database from the stored
    rows: what the summary and the Kaplan-Meier curve count."""
    t = ready.SERIES
    rank = (
        func.row_number()
        .over(partition_by=(t.c.patient_id, t.c.booster), order_by=(t.c.start, t.c.series_id))
        .label("rank")
    )
    ranked = (
        select(t.c.booster, t.c.responder, t.c.relief_status, t.c.relief_days, rank)
        .where(t.c.start.is_not(None))
        .where(ready.granted_to(actor, t.c.patient_id, at))
    )
    if modality is not None:
        ranked = ranked.where(t.c.modality == modality)
    chosen = ranked.subquery()
    groups: dict[bool, list[tuple[bool | None, str | None, int | None]]] = {False: [], True: []}
    for booster, responder, status, length in session.execute(
        select(
            chosen.c.booster, chosen.c.responder, chosen.c.relief_status, chosen.c.relief_days
        ).where(chosen.c.rank == 1)
    ):
        groups[bool(booster)].append((responder, status, length))
    return groups


def relief_curves(
    session: Session, actor: Actor, *, modality: str | None = None
) -> tuple[list[tuple[int, bool]], list[tuple[int, bool]]]:
    """The ``(duration_days, ended)`` pairs of first series and of boosters over the caller's
    whole cohort (every page), as the summary counts them, from the stored rows (call after
    ``series_outcomes``, which brings them up to date): the Kaplan-Meier curve's input."""
    groups = _earliest_per_group(session, actor, ready.now(), modality)
    session.commit()

    def pairs(group: list[tuple[bool | None, str | None, int | None]]) -> list[tuple[int, bool]]:
        return [(days, status == "ended") for _, status, days in group if days is not None]

    return pairs(groups[False]), pairs(groups[True])


def _entries(
    session: Session, actor: Actor, at: dt.datetime, modality: str | None, as_of: dt.date | None
) -> list[CohortEntry]:
    """What the summary counts: one narrow query over the stored rows with a start; for an
    explicit ``as_of`` other than a row's day, its patient's series are computed for it."""
    t = ready.SERIES
    query = (
        select(
            t.c.patient_id,
            t.c.series_id,
            t.c.start,
            t.c.booster,
            t.c.responder,
            t.c.relief_status,
            t.c.relief_days,
            t.c.as_of,
        )
        .where(ready.granted_to(actor, t.c.patient_id, at))
        .where(t.c.start.is_not(None))
    )
    if modality is not None:
        query = query.where(t.c.modality == modality)
    entries: list[CohortEntry] = []
    other: set[uuid.UUID] = set()
    for row in session.execute(query):
        if as_of is not None and row.as_of != as_of:
            other.add(row.patient_id)
            continue
        entries.append(
            CohortEntry(
                row.patient_id,
                row.series_id,
                row.start,
                row.booster,
                row.responder,
                None
                if row.relief_status is None
                else Relief(row.relief_status, None, row.relief_days),
            )
        )
    if as_of is not None:
        # Patients whose stored day differs: computed for as_of (a series without a start
        # today may have one by then, or the other way round).
        other |= _patients_with_other_day(session, actor, at, as_of)
        states = ready.states_of(session, other)
        for chunk_first in range(0, len(states), PAGE):
            chunk = states[chunk_first : chunk_first + PAGE]
            for item in ready.compute(session, chunk, at, as_of):
                entries.extend(
                    CohortEntry(
                        row["patient_id"],
                        row["series_id"],
                        row["start"],
                        row["booster"],
                        row["responder"],
                        None
                        if row["relief_status"] is None
                        else Relief(row["relief_status"], None, row["relief_days"]),
                    )
                    for row in item.series
                    if row["start"] is not None
                    and (modality is None or row["modality"] == modality)
                )
    return entries


def _patients_with_other_day(
    session: Session, actor: Actor, at: dt.datetime, as_of: dt.date
) -> set[uuid.UUID]:
    t = ready.SERIES
    query = (
        select(t.c.patient_id)
        .distinct()
        .where(ready.granted_to(actor, t.c.patient_id, at))
        .where(t.c.as_of != as_of)
    )
    return set(session.scalars(query))


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is prefixed with ``'``.

    Numbers are written as numbers (a negative change stays ``-62.5``): they come from us.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):  # baseline flags: fixed words of ours
        return ";".join(str(item) for item in value)
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(rows: Sequence[CohortRowOut]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(_cell(getattr(row, name)) for name in CSV_COLUMNS)
    return buffer.getvalue()


def relief_pairs(result: CohortOut, *, booster: bool) -> list[tuple[int, bool]]:
    """The ``(duration_days, ended)`` pairs the summary's relief of the group ``booster``
    counts (one series per patient, the earliest by start and id, as ``cohort_group``): the
    input of the Kaplan-Meier curve (``app.reports.km.render_relief_km``)."""
    earliest: dict[uuid.UUID, CohortRowOut] = {}
    for row in sorted(
        (row for row in result.items if row.start is not None and row.booster is booster),
        key=lambda row: (row.start or dt.date.min, row.series_id),
    ):
        earliest.setdefault(row.patient_id, row)
    return [
        (row.relief_days, row.relief_status == "ended")
        for row in earliest.values()
        if row.relief_status is not None and row.relief_days is not None
    ]
