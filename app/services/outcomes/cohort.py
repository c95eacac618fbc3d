"""Series outcomes across every patient a clinician (or partner) may see, JSON or CSV.

Who is in the table is decided by the same grant rules as every patient route
(``access.visible_patients``: an active grant, checked on this request). Each patient read is
appended to that patient's audit trail before the table leaves. Cost: two queries per
page of 500 patients (series, then per patient its sessions) and two per series (its diary over
its window range), never per day; the maths is ``series_outcome`` (no bootstrap, no p-values).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence

from sqlalchemy.orm import Session

from app.db import Database
from app.errors import Forbidden, ValidationFailed
from app.models import Patient
from app.schemas.trends import CohortOut, CohortRowOut, CohortSummaryOut
from app.services.care import audit
from app.services.care.access import PATIENTS, Scope, require_scope, visible_patients
from app.services.identity.actors import Actor
from app.services.outcomes.trends import not_before_earliest
from app.services.sync import listing
from app.trends import NoCompletedSession, days
from app.trends import load as loader
from app.trends.outcome import series_outcome

PAGE = 500
REPORTS_SCOPE: Scope = "reports:read"
# The latest local date anywhere is UTC's date + 1 (UTC+14); a caller may be a day ahead of that.
AS_OF_MAX_AHEAD_OF_UTC = dt.timedelta(days=2)
CSV_COLUMNS = tuple(CohortRowOut.model_fields)
# The row fields that come from ``SeriesOutcome`` (null while no session is completed).
OUTCOME_FIELDS = (
    "first_session_date",
    "last_session_date",
    "baseline_attacks_per_day",
    "follow_up_1_attacks_per_day",
    "change_pct",
    "category",
    "responder",
    "relief_duration_days",
    "relief_ongoing",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def check_caller(actor: Actor) -> None:
    """Clinicians; partner clients with ``reports:read``. Patients and admins: 403."""
    if actor.is_client:
        require_scope(actor, REPORTS_SCOPE)
    elif actor.role != "clinician":
        raise Forbidden("Cohort outcomes are for clinicians and partner clients.")


def _visible(session: Session, actor: Actor) -> Iterator[list[Patient]]:
    return listing.every_page(
        session, visible_patients(actor), PATIENTS, size=PAGE, out=lambda row: row["Patient"]
    )


def _row(
    session: Session,
    patient: Patient,
    series: loader.SeriesDetail,
    sessions: Sequence[loader.SessionDetail],
    as_of: dt.date,
) -> CohortRowOut:
    fields: dict[str, object] = {
        "patient_id": patient.id,
        "patient_name": patient.display_name,
        "series_id": series.id,
        "series_name": series.name,
        "modality": series.modality,
        "as_of": as_of,
    }
    try:
        inputs = loader.load_outcome_inputs(
            session, patient.id, patient.timezone, series, sessions, as_of
        )
    except NoCompletedSession:
        empty = dict.fromkeys(OUTCOME_FIELDS)
        return CohortRowOut.model_validate({**fields, "status": "no_completed_session", **empty})
    outcome = series_outcome(inputs)
    status = "follow_up_1_complete" if outcome.follow_up_1_complete else "follow_up_1_pending"
    values = {name: getattr(outcome, name) for name in OUTCOME_FIELDS}
    return CohortRowOut.model_validate({**fields, "status": status, **values})


def summarise(rows: Sequence[CohortRowOut]) -> CohortSummaryOut:
    verdicts = [row.responder for row in rows if row.responder is not None]
    relief = [row.relief_duration_days for row in rows if row.relief_duration_days is not None]
    responders = sum(verdicts)
    return CohortSummaryOut(
        n=len(rows),
        assessed=len(verdicts),
        responders=responders,
        responder_rate=responders / len(verdicts) if verdicts else None,
        median_relief_days=float(statistics.median(relief)) if relief else None,
    )


def series_outcomes(
    session: Session,
    db: Database,
    actor: Actor,
    info: audit.RequestInfo,
    *,
    modality: str | None,
    as_of: dt.date | None,
) -> CohortOut:
    check_caller(actor)
    if as_of is not None:
        not_before_earliest(as_of, "as_of")
        if as_of > days.utc_today() + AS_OF_MAX_AHEAD_OF_UTC:
            raise ValidationFailed(["query", "as_of"], "must not be in the future")
    rows: list[CohortRowOut] = []
    read: list[uuid.UUID] = []
    for patients in _visible(session, actor):
        by_patient: defaultdict[uuid.UUID, list[loader.SeriesDetail]] = defaultdict(list)
        for series in loader.load_patients_series(session, [p.id for p in patients], modality):
            by_patient[series.patient_id].append(series)
        for patient in patients:
            read.append(patient.id)
            patient_series = by_patient.get(patient.id, [])
            if not patient_series:
                continue
            day = as_of or days.local_today(patient.timezone)
            sessions = loader.load_sessions(
                session, patient.id, [s.id for s in patient_series], patient.timezone
            )
            rows.extend(
                _row(session, patient, series, sessions.get(series.id, []), day)
                for series in patient_series
            )
    # End the read before the audit's write transaction: one pooled connection at a time.
    session.commit()
    audit.record(db, [audit.event_for(actor, patient_id, info, "success") for patient_id in read])
    rows.sort(key=lambda row: (row.patient_name.casefold(), str(row.patient_id)))
    return CohortOut(items=rows, summary=summarise(rows))


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
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(result: CohortOut) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.items:
        writer.writerow(_cell(getattr(row, name)) for name in CSV_COLUMNS)
    return buffer.getvalue()
