"""The patients page's one service: who is on it, in which order, a page at a time.

Without an explicit day it reads the stored outcome rows (services/outcomes/ready.py); with one
it computes every patient's courses for that day. Both must show the same page. The
outcomes' clock (``ready.now``) is day 175 of tests.trend_data at noon UTC.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from app.services.context import AppContext
from app.services.identity.actors import Actor
from app.services.outcomes import ready
from app.services.outcomes.overview import (
    LatestSeries,
    PatientRow,
    PatientsOverview,
    Sort,
    computed_overview,
    ordered,
    patients_overview,
)
from tests.helpers import Account, Api
from tests.trend_data import day, induction_and_booster, trend_patient

AS_OF = dt.date(2026, 12, 6)
NOON_UTC_DAY_175 = dt.datetime.combine(day(175), dt.time(12), dt.UTC)


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
        _row("Eve", relief="no_relief", expected=soon, since=30),
        _row("Fay", relief="ended", ended=AS_OF - dt.timedelta(days=30), since=120),
    ]
    by_attention = [row.name for row in ordered(rows, "attention")]
    # The latest end first; no relief is never "return expected soon".
    assert by_attention == ["Dee", "Fay", "Cy", "Ada", "Ben", "Eve"]
    assert [row.name for row in ordered(rows, "name")] == ["Ada", "Ben", "Cy", "Dee", "Eve", "Fay"]
    by_last_session = [row.name for row in ordered(rows, "last_session")]
    assert by_last_session == ["Fay", "Ada", "Cy", "Dee", "Eve", "Ben"]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.timedelta], None]:
    moment = [NOON_UTC_DAY_175]
    monkeypatch.setattr(ready, "now", lambda: moment[0])

    def advance(by: dt.timedelta) -> None:
        moment[0] += by

    return advance


def _actor(account: Account) -> Actor:
    return Actor(id=account.user_id, role="clinician", display_name="Dr")


def _read(
    ctx: AppContext, doctor: Account, sort: Sort, page: int = 1, page_size: int = 25
) -> PatientsOverview:
    with ctx.db.session() as session:
        return patients_overview(
            session, _actor(doctor), db=ctx.db, sort=sort, page=page, page_size=page_size
        )


def _computed(ctx: AppContext, doctor: Account, sort: Sort, as_of: dt.date) -> PatientsOverview:
    with ctx.db.session() as session:
        return computed_overview(
            session, _actor(doctor), sort=sort, page=1, page_size=25, as_of=as_of
        )


def _names(overview: PatientsOverview) -> list[str]:
    return [row.name for row in overview.rows]


def _world(api: Api) -> dict[str, Any]:
    """Anna: induction and booster, the booster's relief ended on day 154; Bob: no series;
    Carl: one session on day 0, no relief; Dora: one session on day 100 after a baseline of low
    coverage, relief since; Fern: two ended reliefs (37 and 39 days) and a third running for
    50 days, so her pain may return from day 162. All granted to the doctor; Eve granted to a
    colleague only."""
    doctor, colleague = api.staff(), api.staff()
    anna = induction_and_booster(api, name="Anna")
    bob = trend_patient(api, name="Bob")
    carl = trend_patient(api, name="Carl")
    carl.daily(range(-28, 61), 4)
    carl.sessions(carl.series(), [0])
    dora = trend_patient(api, name="Dora")
    dora.daily(range(87, 100), 6)  # 13 of the baseline's 28 days, no check-ins between
    dora.daily(range(101, 176), 1)
    dora.sessions(dora.series(), [100])
    fern = trend_patient(api, name="Fern")  # two ended reliefs, the third still running
    fern.daily(range(-28, 0), 6)
    fern.daily(range(5, 41), 1)
    fern.daily(range(41, 61), 5)
    fern.daily(range(63, 101), 1)
    fern.daily(range(101, 121), 5)
    fern.daily(range(123, 176), 1)
    for offsets in ((0, 2, 4), (61, 62), (121, 122)):
        fern.sessions(fern.series(), offsets)
    for patient in (anna.patient, bob, carl, dora, fern):
        api.grant(patient.account, to=doctor)
    api.grant(api.register(name="Eve"), to=colleague)
    return {"doctor": doctor, "dora": dora}


@pytest.mark.usefixtures("clock")
def test_each_order_from_the_stored_rows_is_the_computed_one(api: Api, ctx: AppContext) -> None:
    w = _world(api)
    doctor = w["doctor"]
    stored = {sort: _read(ctx, doctor, sort) for sort in ("attention", "name", "last_session")}
    assert _names(stored["name"]) == ["Anna", "Bob", "Carl", "Dora", "Fern"]
    # Anna's relief ended; Fern's pain may return within 14 days; then the rest by name.
    assert _names(stored["attention"]) == ["Anna", "Fern", "Bob", "Carl", "Dora"]
    # The last sessions: Carl's on day 0, Anna's 91, Dora's 100, Fern's 122; Bob has none.
    assert _names(stored["last_session"]) == ["Carl", "Anna", "Dora", "Fern", "Bob"]
    assert [row.days_since_last_session for row in stored["last_session"].rows] == [
        175, 84, 75, 53, None,
    ]  # fmt: skip
    fern = stored["attention"].rows[1]
    assert fern.return_soon
    assert fern.expected_return_open  # her running relief is already the longest
    dora = stored["name"].rows[3]
    assert dora.baseline_flags == ("low_coverage", "selective_logging")
    anna = stored["name"].rows[0]
    assert anna.latest is not None
    assert anna.latest.booster
    assert (anna.latest.relief_status, anna.latest.relief_end) == ("ended", day(154))
    assert anna.relief_ended
    assert anna.as_of == day(175)
    for sort, page in stored.items():
        computed = _computed(ctx, doctor, sort, day(175))  # type: ignore[arg-type]
        assert page.total == computed.total == 5
        for mine, theirs in zip(page.rows, computed.rows, strict=True):
            # Boosters' flags are the series' own (the course's reference ones and those
            # about the time since): the computed page shows the course's reference flags.
            assert set(theirs.baseline_flags) <= set(mine.baseline_flags)
            assert {**vars(mine), "baseline_flags": ()} == {**vars(theirs), "baseline_flags": ()}


@pytest.mark.usefixtures("clock")
def test_a_diary_change_shows_in_the_very_next_page(api: Api, ctx: AppContext) -> None:
    w = _world(api)
    doctor, dora = w["doctor"], w["dora"]
    assert _names(_read(ctx, doctor, "attention")) == ["Anna", "Fern", "Bob", "Carl", "Dora"]
    dora.daily(range(150, 176), 5)  # five attacks a day again from day 150: relief ended
    page = _read(ctx, doctor, "attention")
    assert _names(page) == ["Anna", "Dora", "Fern", "Bob", "Carl"]
    (mine,) = (row for row in page.rows if row.name == "Dora")
    assert mine.relief_ended
    assert page.rows == _computed(ctx, doctor, "attention", day(175)).rows


@pytest.mark.usefixtures("clock")
def test_only_granted_patients_a_page_at_a_time(api: Api, ctx: AppContext) -> None:
    doctor, colleague = api.staff(), api.staff()
    grants: dict[str, str] = {}
    patients: dict[str, Account] = {}
    for name in ("Cleo", "Abe", "Bea"):
        patients[name] = api.register(name=name)
        grants[name] = api.grant(patients[name], to=doctor)["id"]
    api.grant(api.register(name="Not yours"), to=colleague)
    first = _read(ctx, doctor, "name", page=1, page_size=2)
    second = _read(ctx, doctor, "name", page=2, page_size=2)
    assert (first.total, first.pages, second.total) == (3, 2, 3)
    assert _names(first) == ["Abe", "Bea"]
    assert _names(second) == ["Cleo"]
    assert _names(_read(ctx, doctor, "name", page=3, page_size=2)) == []
    assert all(row.latest is None and row.days_since_last_session is None for row in first.rows)
    for sort in ("attention", "last_session"):
        assert _names(_read(ctx, doctor, sort)) == ["Abe", "Bea", "Cleo"]
    # A revoked grant takes the patient off the very next page.
    r = api.client.delete(
        f"/api/v1/patients/me/grants/{grants['Bea']}", headers=patients["Bea"].headers
    )
    assert r.status_code == 204, r.text
    page = _read(ctx, doctor, "name")
    assert (_names(page), page.total) == (["Abe", "Cleo"], 2)
