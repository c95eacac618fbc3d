"""The patients page's one service: who is on it, in which order, a page at a time."""

from __future__ import annotations

import datetime as dt
import uuid

from app.services.context import AppContext
from app.services.identity.actors import Actor
from app.services.outcomes.overview import LatestSeries, PatientRow, ordered, patients_overview
from tests.helpers import Api

AS_OF = dt.date(2026, 12, 6)


def _row(
    name: str,
    *,
    relief: str | None = None,
    ended: dt.date | None = None,
    expected: tuple[dt.date, dt.date] | None = None,
    since: int | None = None,
) -> PatientRow:
    latest = None
    if relief is not None:
        latest = LatestSeries(
            series_id=uuid.uuid4(),
            name="Ketamine",
            start=AS_OF - dt.timedelta(days=100),
            end=AS_OF - dt.timedelta(days=90),
            booster=False,
            responder=True,
            relief_status=relief,  # type: ignore[arg-type]
            relief_onset=AS_OF - dt.timedelta(days=80),
            relief_end=ended,
            relief_days=40,
        )
    return PatientRow(
        patient_id=uuid.uuid4(),
        name=name,
        side="right",
        branches=("V2",),
        as_of=AS_OF,
        latest=latest,
        days_since_last_session=since,
        expected_return=expected,
        expected_return_open=False,
        baseline_flags=(),
    )


def test_ended_relief_then_a_return_within_14_days_come_first() -> None:
    soon = (AS_OF + dt.timedelta(days=10), AS_OF + dt.timedelta(days=40))
    later = (AS_OF + dt.timedelta(days=20), AS_OF + dt.timedelta(days=60))
    rows = [
        _row("Ada", relief="ongoing", expected=later, since=90),
        _row("Ben"),
        _row("Cy", relief="ongoing", expected=soon, since=90),
        _row("Dee", relief="ended", ended=AS_OF - dt.timedelta(days=3), since=90),
        _row("Eve", relief="no_relief", since=30),
        _row("Fay", relief="ended", ended=AS_OF - dt.timedelta(days=30), since=120),
    ]
    by_attention = [row.name for row in ordered(rows, "attention")]
    assert by_attention == ["Fay", "Dee", "Cy", "Ada", "Ben", "Eve"]
    assert [row.name for row in ordered(rows, "name")] == ["Ada", "Ben", "Cy", "Dee", "Eve", "Fay"]
    by_last_session = [row.name for row in ordered(rows, "last_session")]
    assert by_last_session == ["Fay", "Ada", "Cy", "Dee", "Eve", "Ben"]


def test_only_granted_patients_a_page_at_a_time(api: Api, ctx: AppContext) -> None:
    doctor, colleague = api.staff(), api.staff()
    for name in ("Cleo", "Abe", "Bea"):
        patient = api.register(name=name)
        api.grant(patient, to=doctor)
    api.grant(api.register(name="Not yours"), to=colleague)
    actor = Actor(id=doctor.user_id, role="clinician", display_name="Dr")
    with ctx.db.session() as session:
        first = patients_overview(session, actor, sort="name", page=1, page_size=2)
        second = patients_overview(session, actor, sort="name", page=2, page_size=2)
    assert (first.total, first.pages) == (3, 2)
    assert [row.name for row in first.rows] == ["Abe", "Bea"]
    assert [row.name for row in second.rows] == ["Cleo"]
    assert all(row.latest is None and row.days_since_last_session is None for row in first.rows)
