"""Series outcomes across every patient a clinician (or partner) may see, JSON or CSV.

Who is in the table is decided by the same grant rules as every patient route
(``access.visible_patients``: an active grant, checked on this request). Each patient read is
appended to that patient's audit trail before the table leaves. Cost: one query per page of 500
patients (their series), then per patient one for its sessions and a few for its diary over the
days its series' numbers use (never per day, never its whole history); the maths is
``app.trends.analyse``, the same as the trend's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator, Sequence

from sqlalchemy.orm import Session

from app.db import Database
from app.errors import Forbidden, ValidationFailed
from app.models import Patient
from app.schemas.trends import CohortOut, CohortRowOut, CohortSummaryOut
from app.services.care import audit
from app.services.care.access import PATIENTS, Scope, require_scope, visible_patients
from app.services.identity.actors import Actor
from app.services.outcomes.courses import patient_analyses
from app.services.outcomes.trends import not_before_earliest
from app.services.sync import listing
from app.trends import SeriesAnalysis, days
from app.trends import load as loader
from app.trends.cohort import CohortEntry, cohort_group
from app.trends.metrics import as_float

PAGE = 500
REPORTS_SCOPE: Scope = "reports:read"
# The latest local date anywhere is UTC's date + 1 (UTC+14); a caller may be a day ahead of that.
AS_OF_MAX_AHEAD_OF_UTC = dt.timedelta(days=2)
CSV_COLUMNS = tuple(CohortRowOut.model_fields)
# The row fields that are null while the series has no completed session.
OUTCOME_FIELDS = (
    "start",
    "course_id",
    "booster",
    "baseline_attacks_per_day",
    "follow_up_1_attacks_per_day",
    "change_pct",
    "category",
    "responder",
    "relief_status",
    "relief_days",
    "censor_reason",
    "baseline_flags",
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
    patient: Patient,
    series: loader.SeriesDetail,
    as_of: dt.date,
    analysis: SeriesAnalysis | None,
) -> CohortRowOut:
    fields: dict[str, object] = {
        "patient_id": patient.id,
        "patient_name": patient.display_name,
        "series_id": series.id,
        "series_name": series.name,
        "modality": series.modality,
        "as_of": as_of,
    }
    if analysis is None:
        return CohortRowOut.model_validate({**fields, **dict.fromkeys(OUTCOME_FIELDS)})
    plan, relief, comparison = analysis.plan, analysis.relief, analysis.follow_up_1
    return CohortRowOut.model_validate(
        {
            **fields,
            "start": plan.start,
            "course_id": plan.place.course_id,
            "booster": plan.place.booster,
            "baseline_attacks_per_day": as_float(analysis.baseline_rate),
            "follow_up_1_attacks_per_day": None if comparison is None else comparison.value,
            "change_pct": None if comparison is None else comparison.change_pct,
            "category": None if comparison is None else comparison.category,
            "responder": analysis.responder,
            "relief_status": None if relief is None else relief.status,
            "relief_days": None if relief is None else relief.duration_days,
            "censor_reason": None if relief is None else relief.censor_reason,
            "baseline_flags": analysis.flags,
        }
    )


def summarise(entries: Sequence[CohortEntry]) -> CohortSummaryOut:
    return CohortSummaryOut.model_validate(
        {
            "first_series": cohort_group(entries, booster=False),
            "boosters": cohort_group(entries, booster=True),
        }
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
    entries: list[CohortEntry] = []
    read: list[uuid.UUID] = []
    for patients in _visible(session, actor):
        all_series = loader.load_patients_series(session, [p.id for p in patients])
        for patient in patients:
            read.append(patient.id)
            patient_series = all_series.get(patient.id, [])
            shown = [s for s in patient_series if modality is None or s.modality == modality]
            if not shown:
                continue
            day = as_of or days.local_today(patient.timezone)
            sessions = loader.load_sessions(
                session, patient.id, [s.id for s in patient_series], patient.timezone
            )
            treatments = loader.Treatments(tuple(patient_series), sessions)
            analyses = patient_analyses(
                session, patient, treatments, day, only={s.id for s in shown}
            )
            for series in shown:
                analysis = analyses.get(series.id)
                rows.append(_row(patient, series, day, analysis))
                if analysis is not None:
                    entries.append(
                        CohortEntry(
                            patient.id,
                            series.id,
                            analysis.plan.start,
                            analysis.plan.place.booster,
                            analysis.responder,
                            analysis.relief,
                        )
                    )
    # End the read before the audit's write transaction: one pooled connection at a time.
    session.commit()
    audit.record(db, [audit.event_for(actor, patient_id, info, "success") for patient_id in read])
    rows.sort(key=lambda row: (row.patient_name.casefold(), str(row.patient_id)))
    return CohortOut(items=rows, summary=summarise(entries))


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


def to_csv(result: CohortOut) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.items:
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
