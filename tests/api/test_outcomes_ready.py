"""Stored outcomes (services/outcomes/ready.py) are never stale: every change a clinician could
notice shows up in the very next cohort read, and the stored figures are the trend's.

The patients' "today" is the module's clock (``ready.now``), set here to day 175 of
tests.trend_data (2026-08-24) at noon UTC, so the rows are computed without an explicit as_of.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import cli
from app.services.context import AppContext
from app.services.identity.actors import Actor
from app.services.outcomes import ready
from app.services.outcomes.ready import patient_outcome_rows
from app.settings import get_settings
from tests.helpers import Account, Api
from tests.trend_data import API, TrendPatient, day, induction_and_booster, iso, trend_patient

COHORT = f"{API}/cohort/series-outcomes"
NOON_UTC_DAY_175 = datetime.combine(day(175), time(12), UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Sets the outcomes' clock to day 175 at noon UTC; call it to move it on."""
    moment = [NOON_UTC_DAY_175]
    monkeypatch.setattr(ready, "now", lambda: moment[0])

    def advance(by: timedelta) -> None:
        moment[0] += by

    return advance


def world(api: Api) -> dict[str, Any]:
    doctor = api.staff_named("clinician", "Dr. Ready")
    course = induction_and_booster(api, name="Anna")
    api.grant(course.patient.account, to=doctor)
    carl = trend_patient(api, name="Carl")
    carl.daily(range(-28, 61), 4)
    carl_series = carl.series()
    carl.sessions(carl_series, [0])
    api.grant(carl.account, to=doctor)
    dora = trend_patient(api, name="Dora")
    dora.daily(range(72, 100), 6)
    dora.daily(range(101, 176), 1)
    dora_series = dora.series()
    dora.sessions(dora_series, [100])
    dora_grant = api.grant(dora.account, to=doctor)
    return {
        "doctor": doctor,
        "course": course,
        "carl": carl,
        "carl_series": carl_series,
        "dora": dora,
        "dora_series": dora_series,
        "dora_grant": dora_grant,
    }


def read(client: TestClient, doctor: Account, **params: Any) -> dict[str, Any]:
    r = client.get(COHORT, params=params, headers=doctor.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def row_of(body: dict[str, Any], series_id: uuid.UUID) -> dict[str, Any]:
    (row,) = (row for row in body["items"] if row["series_id"] == str(series_id))
    found: dict[str, Any] = row
    return found


def trend(client: TestClient, patient: TrendPatient, series_id: str, as_of: str) -> Any:
    r = client.get(
        f"{API}/patients/me/series/{series_id}/trend",
        params={"as_of": as_of},
        headers=patient.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def as_the_trend_says(row: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """The cohort row's figures, taken from the trend of the same series and day."""
    reference = "reference_baseline" if found["booster"] else "baseline"
    (window,) = (w for w in found["windows"] if w["name"] == reference)
    follow_up = [
        c
        for c in found["comparisons"]
        if c["window"] == "follow_up_1" and c["metric"] == "attacks_per_day"
    ]
    relief = found["relief"] or {}
    return {
        **row,
        "start": found["start"],
        "course_id": found["course_id"],
        "booster": found["booster"],
        "baseline_attacks_per_day": window["attacks_per_day"],
        "follow_up_1_attacks_per_day": follow_up[0]["value"] if follow_up else None,
        "change_pct": follow_up[0]["change_pct"] if follow_up else None,
        "category": follow_up[0]["category"] if follow_up else None,
        "responder": found["responder"],
        "relief_status": relief.get("status"),
        "relief_days": relief.get("duration_days"),
        "censor_reason": relief.get("censor_reason"),
        "baseline_flags": found["baseline_flags"],
    }


def test_stored_rows_are_the_trends_figures(
    api: Api, client: TestClient, clock: Callable[[timedelta], None]
) -> None:
    w = world(api)
    body = read(client, w["doctor"])
    assert [row["patient_name"] for row in body["items"]] == ["Anna", "Anna", "Carl", "Dora"]
    owners = {
        str(w["course"].patient.pid): w["course"].patient,
        str(w["carl"].pid): w["carl"],
        str(w["dora"].pid): w["dora"],
    }
    for row in body["items"]:
        assert row["as_of"] == iso(175)
        found = trend(client, owners[row["patient_id"]], row["series_id"], row["as_of"])
        assert row == as_the_trend_says(row, found)
    dora = row_of(body, w["dora_series"])
    assert (dora["relief_status"], dora["relief_days"], dora["censor_reason"]) == (
        "ongoing",
        75,
        "as_of",
    )
    # Read again: the same rows, nothing recomputed.
    assert read(client, w["doctor"]) == body


def test_a_diary_change_shows_in_the_very_next_read(
    api: Api, client: TestClient, clock: Callable[[timedelta], None]
) -> None:
    w = world(api)
    dora: TrendPatient = w["dora"]
    assert row_of(read(client, w["doctor"]), w["dora_series"])["relief_status"] == "ongoing"
    dora.daily(range(150, 176), 5)  # six attacks a day again from day 150
    row = row_of(read(client, w["doctor"]), w["dora_series"])
    found = trend(client, dora, row["series_id"], iso(175))
    assert found["relief"]["status"] == "ended"
    assert row == as_the_trend_says(row, found)


def test_a_session_deleted_and_a_series_deleted_show_at_once(
    api: Api, client: TestClient, clock: Callable[[timedelta], None]
) -> None:
    w = world(api)
    carl: TrendPatient = w["carl"]
    assert row_of(read(client, w["doctor"]), w["carl_series"])["start"] == iso(0)
    r = client.get(
        f"{API}/patients/me/series/{w['carl_series']}/sessions", headers=carl.headers
    ).json()
    carl.delete_session(w["carl_series"], uuid.UUID(r["items"][0]["id"]))
    row = row_of(read(client, w["doctor"]), w["carl_series"])
    assert (row["start"], row["responder"], row["relief_status"]) == (None, None, None)
    r = client.delete(f"{API}/patients/me/series/{w['carl_series']}", headers=carl.headers)
    assert r.status_code == 204, r.text
    body = read(client, w["doctor"])
    assert [row["patient_name"] for row in body["items"]] == ["Anna", "Anna", "Dora"]


def test_a_grant_change_shows_in_the_very_next_read(
    api: Api, client: TestClient, clock: Callable[[timedelta], None]
) -> None:
    w = world(api)
    dora: TrendPatient = w["dora"]
    assert "Dora" in {row["patient_name"] for row in read(client, w["doctor"])["items"]}
    grant_id = w["dora_grant"]["id"]
    r = client.delete(f"{API}/patients/me/grants/{grant_id}", headers=dora.headers)
    assert r.status_code == 204
    body = read(client, w["doctor"])
    assert [row["patient_name"] for row in body["items"]] == ["Anna", "Anna", "Carl"]
    assert body["summary"]["first_series"]["n"] == 2  # Dora's series no longer counts
    api.grant(dora.account, to=w["doctor"])
    assert "Dora" in {row["patient_name"] for row in read(client, w["doctor"])["items"]}


def test_a_new_local_day_shows_in_the_very_next_read(
    api: Api, client: TestClient, clock: Callable[[timedelta], None]
) -> None:
    """Dora (Europe/Berlin) at 12:00 UTC is on day 175 until 21:50 UTC (midnight in Berlin,
    less the ten minutes of clock skew every "today" allows)."""
    w = world(api)
    row = row_of(read(client, w["doctor"]), w["dora_series"])
    assert (row["as_of"], row["relief_days"]) == (iso(175), 75)
    clock(timedelta(hours=9, minutes=49))
    row = row_of(read(client, w["doctor"]), w["dora_series"])
    assert (row["as_of"], row["relief_days"]) == (iso(175), 75)
    clock(timedelta(minutes=1))
    row = row_of(read(client, w["doctor"]), w["dora_series"])
    assert (row["as_of"], row["relief_status"], row["relief_days"]) == (iso(176), "ongoing", 76)
    found = trend(client, w["dora"], row["series_id"], iso(176))
    assert row == as_the_trend_says(row, found)


def test_a_time_zone_or_name_change_shows_in_the_very_next_read(
    api: Api, client: TestClient, clock: Callable[[timedelta], None]
) -> None:
    w = world(api)
    carl: TrendPatient = w["carl"]
    me = client.get(f"{API}/patients/me", headers=carl.headers)
    etag = me.headers["etag"]
    r = client.patch(
        f"{API}/patients/me",
        json={"timezone": "Pacific/Kiritimati", "display_name": "Aaron"},
        headers={**carl.headers, "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    body = read(client, w["doctor"])
    assert [row["patient_name"] for row in body["items"]] == ["Aaron", "Anna", "Anna", "Dora"]
    # 12:00 UTC is already 02:00 of the next day at UTC+14.
    assert row_of(body, w["carl_series"])["as_of"] == iso(176)


def test_rows_come_in_pages(
    api: Api, client: TestClient, clock: Callable[[timedelta], None]
) -> None:
    w = world(api)
    whole = read(client, w["doctor"])
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1}
    while True:
        page = read(client, w["doctor"], **params)
        assert len(page["items"]) == 1
        if items:
            assert page["summary"] is None  # the summary comes with the first page only
        items += page["items"]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert items == whole["items"]
    assert read(client, w["doctor"], summary="false")["summary"] is None
    r = client.get(COHORT, params={"cursor": "junk"}, headers=w["doctor"].headers)
    assert r.status_code == 422


def test_the_patients_page_query(
    api: Api, client: TestClient, ctx: AppContext, clock: Callable[[timedelta], None]
) -> None:
    """Latest series per patient; 'relief ended' and 'return expected soon' sort first."""
    w = world(api)
    bob = trend_patient(api, name="Bob")  # no series at all
    api.grant(bob.account, to=w["doctor"])
    doctor: Account = w["doctor"]
    actor = Actor(id=doctor.user_id, role="clinician", display_name="Dr. Ready", patient_id=None)
    courses = client.get(
        f"{API}/patients/me/courses",
        params={"as_of": iso(175)},
        headers=w["course"].patient.headers,
    ).json()["courses"]

    def names(sort: str, limit: int = 10, page: int | str | None = None) -> Any:
        with ctx.db.session() as session:
            return patient_outcome_rows(
                session,
                actor,
                db=ctx.db,
                sort=sort,  # type: ignore[arg-type]
                limit=limit,
                offset_or_cursor=page,
                as_of=None,
            )

    by_name = names("name")
    assert [row.patient_name for row in by_name.items] == ["Anna", "Bob", "Carl", "Dora"]
    anna = by_name.items[0]
    assert (anna.series_id, anna.relief_status, anna.relief_days) == (
        w["course"].booster,
        "ended",
        62,
    )
    outlook = courses[-1]["outlook"]
    expected = outlook["expected_return"] if outlook else [None, None]
    assert [anna.expected_return_from, anna.expected_return_to] == [
        None if d is None else datetime.fromisoformat(d).date() for d in expected
    ]
    assert by_name.items[1].series_id is None
    ended = names("relief_ended")
    assert [row.patient_name for row in ended.items][:1] == ["Anna"]
    first, second = names("name", limit=2), None
    assert first.next_cursor is not None
    second = names("name", limit=2, page=first.next_cursor)
    assert [row.patient_name for row in first.items + second.items] == [
        "Anna", "Bob", "Carl", "Dora",
    ]  # fmt: skip
    assert [row.patient_name for row in names("name", limit=2, page=2).items] == ["Carl", "Dora"]


def test_a_write_while_outcomes_are_computed_is_not_lost(
    api: Api, client: TestClient, ctx: AppContext, clock: Callable[[timedelta], None]
) -> None:
    """Rows computed from data read before a write are stored, but the write's mark stays:
    the next read recomputes them. Reads themselves (and their audit entries) mark nothing."""
    w = world(api)
    doctor: Account = w["doctor"]
    actor = Actor(id=doctor.user_id, role="clinician", display_name="Dr. Ready")
    at = ready.now()
    with ctx.db.session() as session:
        stale = ready.stale_patients(session, actor, at)
        assert {state.id for state in stale} == {
            w["course"].patient.pid,
            w["carl"].pid,
            w["dora"].pid,
        }
        computed = ready.compute(session, stale, at)
        session.commit()
    dora: TrendPatient = w["dora"]
    dora.daily(range(150, 176), 5)  # lands after the diary was read
    ready.store(ctx.db, computed)
    with ctx.db.session() as session:
        assert [state.id for state in ready.stale_patients(session, actor, at)] == [dora.pid]
        assert ready.make_ready(ctx.db, session, actor, at) == 1
        assert ready.make_ready(ctx.db, session, actor, at) == 0
    row = row_of(read(client, doctor), w["dora_series"])
    assert row["relief_status"] == "ended"
    with ctx.db.session() as session:
        assert ready.make_ready(ctx.db, session, actor, at) == 0  # the read marked nothing


def test_rows_from_an_earlier_reading_never_replace_later_ones(
    api: Api, client: TestClient, ctx: AppContext, clock: Callable[[timedelta], None]
) -> None:
    """Two readers refresh the same patient; the one that read first commits last: its rows
    are not stored over the later ones (which have already cleared the change mark)."""
    w = world(api)
    doctor: Account = w["doctor"]
    dora: TrendPatient = w["dora"]
    actor = Actor(id=doctor.user_id, role="clinician", display_name="Dr. Ready")
    at = ready.now()
    with ctx.db.session() as session:
        earlier = ready.compute(session, ready.states_of(session, [dora.pid]), at)
        session.commit()
    dora.daily(range(150, 176), 5)
    with ctx.db.session() as session:
        later = ready.compute(session, ready.states_of(session, [dora.pid]), at)
        session.commit()
    ready.store(ctx.db, later)
    ready.store(ctx.db, earlier)
    with ctx.db.session() as session:
        assert dora.pid not in {s.id for s in ready.stale_patients(session, actor, at)}
    assert row_of(read(client, doctor), w["dora_series"])["relief_status"] == "ended"


def test_refresh_outcomes_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`paindiary refresh-outcomes` brings every changed patient up to date (a new patient
    counts as changed), and then has nothing left to do."""
    monkeypatch.setenv("PAINDIARY_DATABASE_URL", f"sqlite:///{tmp_path / 'refresh.db'}")
    monkeypatch.setenv("PAINDIARY_SECRET_KEY", "s" * 40)
    get_settings.cache_clear()
    try:
        assert cli.main(["migrate"]) == 0
        monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
        assert (
            cli.main(["create-user", "p@example.org", "--role", "patient", "--password-stdin"]) == 0
        )
        capsys.readouterr()
        assert cli.main(["refresh-outcomes"]) == 0
        assert "outcomes of 1 patient up to date" in capsys.readouterr().out
        assert cli.main(["refresh-outcomes"]) == 0
        assert "outcomes of 0 patients up to date" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
