"""What the trend loader reads: only the window range, live rows, and the dose history."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from app.models import MedicationDose
from app.schemas.trends import (
    CohortGroupOut,
    OutlookOut,
    ReadinessOut,
    ReliefSurvivalOut,
    TrendOut,
)
from app.services.context import AppContext
from app.trends import Outlook, Readiness, ReliefSurvival, TrendResult
from app.trends.cohort import CohortGroup
from app.trends.days import local_today
from tests.helpers import Api, patch_current
from tests.trend_data import API, berlin, episode, series_url, trend_patient


@contextmanager
def statements(ctx: AppContext) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the app runs meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)


def rows_read(ctx: AppContext, statement: str, parameters: Any) -> int:
    """Run a captured statement again and count the rows it returned."""
    connection = ctx.db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(statement, parameters)
        count = len(cursor.fetchall())
        cursor.close()
        return count
    finally:
        connection.close()


def test_only_the_window_range_is_read(api: Api, ctx: AppContext) -> None:
    scenario = berlin(api)
    # Years of diary before the baseline: 600 episodes the trend must never read.
    old = [
        episode(f"20{23 + n // 300}-0{1 + n % 9}-1{n % 10}T1{n % 10}:00:00+01:00", 5)
        for n in range(600)
    ]
    scenario.patient.upload(old)
    with statements(ctx) as seen:
        trend = scenario.trend("2026-05-10")
    assert trend["windows"][0]["attacks"] == 24
    episode_reads = [(s, p) for s, p in seen if "FROM episodes" in s]
    assert len(episode_reads) == 1
    statement, parameters = episode_reads[0]
    # Every live episode from 03-25 to 05-10 (Berlin): 7 + 1 + 14, not the old ones; and one
    # of the evening before (03-24 23:30 +01:00), which the bounds widened by the ±14 h an
    # offset can reach read too and the loader leaves out by its local day.
    assert rows_read(ctx, statement, parameters) == 23
    # A handful of statements, whatever the diary's length (auth and audit included).
    assert len(seen) <= 20
    if ctx.db.is_sqlite:
        with ctx.db.engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
        assert "ix_episodes_patient_started" in plan


def test_a_dose_patched_during_the_series(api: Api, client: TestClient, ctx: AppContext) -> None:
    """PATCH changes the dose in place; the trend still sees the change and warns."""
    patient = trend_patient(api)
    today = local_today("Europe/Berlin")
    first_session = today - timedelta(days=20)
    baseline = [
        episode(f"{first_session - timedelta(days=n)}T09:00:00+01:00", 4, 7) for n in range(1, 8)
    ]
    patient.upload(baseline)
    sid = patient.series(baseline_days=7, follow_up_days=28)
    patient.session(sid, f"{first_session}T10:00:00+01:00")
    meds = f"{API}/patients/me/medications"
    r = client.post(
        meds,
        json={"name": "Carbamazepine", "dose_mg_per_day": 600, "started_on": "2025-01-01"},
        headers=patient.headers,
    )
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    rename = {"name": "carbamazepine"}
    unchanged = patch_current(client, f"{meds}/{mid}", json=rename, headers=patient.headers)
    assert unchanged.status_code == 200
    assert doses(ctx) == 1  # the history: the dose from started_on
    assert patient.trend(sid)["medication_changes"] == []

    r = patch_current(
        client, f"{meds}/{mid}", json={"dose_mg_per_day": 800}, headers=patient.headers
    )
    assert r.status_code == 200, r.text
    assert doses(ctx) == 2  # the new dose from today (no dose_changed_on: the default)
    trend = patient.trend(sid)
    assert trend["medication_changes"] == [
        {
            "date": today.isoformat(),
            "kind": "dose",
            "medication_id": mid,
            "name": "carbamazepine",
            "window": "follow_up_1",
            "mg_per_day": 800.0,
            "previous_mg_per_day": 600.0,
        }
    ]
    assert "medication_changed_during_series" in [w["code"] for w in trend["warnings"]]

    # PUT replaces the row: a changed dose is recorded the same way.
    body = {"name": "carbamazepine", "dose_mg_per_day": 800, "started_on": "2025-01-01"}
    assert client.put(f"{meds}/{mid}", json=body, headers=patient.headers).status_code == 200
    assert doses(ctx) == 2  # same dose: nothing new
    body["dose_mg_per_day"] = 1000
    assert client.put(f"{meds}/{mid}", json=body, headers=patient.headers).status_code == 200
    assert doses(ctx) == 2  # today's entry replaced: one dose per day
    changes = patient.trend(sid)["medication_changes"]
    # Two changes today: the day's last dose counts against the day before.
    assert [(c["kind"], c["mg_per_day"], c["previous_mg_per_day"]) for c in changes] == [
        ("dose", 1000.0, 600.0)
    ]
    # A deleted medication takes its changes out of the report.
    assert client.delete(f"{meds}/{mid}", headers=patient.headers).status_code == 204
    assert patient.trend(sid)["medication_changes"] == []


def doses(ctx: AppContext) -> int:
    with ctx.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(MedicationDose)) or 0)


def test_a_move_to_another_zone_moves_no_recorded_day(api: Api, client: TestClient) -> None:
    """Each episode and session keeps the local day of the offset it was written with; a later
    change of the patient's zone re-buckets nothing. (Until issue 10 all history was re-read in
    the current zone: 01:30 in Berlin became 19:30 the evening before in New York.)"""
    patient = trend_patient(api)
    # 23:30 in Berlin is 17:30 in New York: the same day in both zones.
    # 01:30 in Berlin is 19:30 the evening before in New York: it stays on 02-04.
    patient.upload(
        [
            episode("2026-02-02T23:30:00+01:00", 2),
            episode("2026-02-04T01:30:00+01:00", 3),
        ],
    )
    sid = patient.series(baseline_days=7, follow_up_days=28)
    patient.session(sid, "2026-02-06T15:00:00+01:00")
    before = patient.trend(sid, "2026-02-20")["windows"][0]
    assert (before["observed_days"], before["attacks"]) == (2, 5)
    r = patch_current(
        client, f"{API}/patients/me", json={"timezone": "America/New_York"}, headers=patient.headers
    )
    assert r.status_code == 200, r.text
    after = patient.trend(sid, "2026-02-20")
    assert after["timezone"] == "America/New_York"
    baseline = after["windows"][0]
    assert (baseline["start"], baseline["end"]) == ("2026-01-30", "2026-02-05")
    assert baseline == before
    timeseries = client.get(
        f"{API}/patients/me/timeseries",
        params={"from": "2026-02-02", "to": "2026-02-04"},
        headers=patient.headers,
    ).json()["items"]
    assert [item["attacks"] for item in timeseries] == [2, 0, 3]


def test_the_response_model_mirrors_the_pure_result() -> None:
    """TrendOut and its parts have exactly the fields of the dataclasses they serialise."""
    pairs: list[tuple[type[Any], type[Any]]] = [
        (TrendResult, TrendOut),
        (Readiness, ReadinessOut),
        (Outlook, OutlookOut),
        (ReliefSurvival, ReliefSurvivalOut),
        (CohortGroup, CohortGroupOut),
    ]
    checked = 0
    while pairs:
        result_type, schema = pairs.pop()
        names = [field.name for field in dataclasses.fields(result_type)]
        assert names == list(schema.model_fields), schema.__name__
        hints = {f.name: str(f.type) for f in dataclasses.fields(result_type)}
        for name, info in schema.model_fields.items():
            nested = _nested_schema(info.annotation)
            if nested is not None:
                pairs.append((_dataclass_of(result_type, hints[name]), nested))
        checked += 1
    assert checked == 16


def _nested_schema(annotation: Any) -> type[Any] | None:
    from pydantic import BaseModel

    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        for inner in (candidate, *getattr(candidate, "__args__", ())):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _dataclass_of(owner: type[Any], hint: str) -> type[Any]:
    import sys

    module = sys.modules[owner.__module__]
    name = hint.replace("tuple[", "").replace(", ...]", "").replace(" | None", "")
    found: type[Any] = getattr(module, name)
    return found


def test_chart_and_report_share_the_loader(api: Api, client: TestClient, ctx: AppContext) -> None:
    scenario = berlin(api)
    with statements(ctx) as seen:
        r = client.get(
            series_url("me", scenario.series_id, "report"),
            params={"as_of": "2026-05-10"},
            headers=scenario.patient.headers,
        )
    assert r.status_code == 200
    assert len([s for s, _ in seen if "FROM episodes" in s]) == 1


def test_an_hour_read_before_a_dst_midnight_is_not_counted(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    """In Santiago DST starts at midnight (2026-09-06 00:00 -> 01:00): the UTC bounds of the
    baseline's first day start an hour early, at 23:00 on 09-05; that hour stays outside."""
    patient = trend_patient(api, zone="America/Santiago")
    patient.upload(
        [
            episode("2026-09-05T23:30:00-04:00", 9),  # 03:30 UTC on 09-06, local 09-05
            episode("2026-09-06T01:30:00-03:00", 2),  # the first minutes of 09-06
        ],
    )
    sid = patient.series(baseline_days=7, follow_up_days=28)
    patient.session(sid, "2026-09-13T10:00:00-03:00")
    with statements(ctx) as seen:
        baseline = patient.trend(sid, "2026-09-20")["windows"][0]
    assert (baseline["start"], baseline["observed_days"], baseline["attacks"]) == (
        "2026-09-06",
        1,
        2,
    )
    statement, parameters = next((s, p) for s, p in seen if "FROM episodes" in s)
    assert rows_read(ctx, statement, parameters) == 2  # read, then left out by its local day
