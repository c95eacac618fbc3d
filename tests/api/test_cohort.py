"""GET /cohort/series-outcomes: rows per series of every patient a clinician may see."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.services.context import AppContext
from app.services.outcomes import cohort
from tests.helpers import Account, Api, assert_problem
from tests.trend_data import API, add_series, add_session
from tests.trend_scenarios import berlin_scenario

COHORT = f"{API}/cohort/series-outcomes"
AS_OF = {"as_of": "2026-05-10"}
EVIL_NAME = '=HYPERLINK("http://evil.example","click")'


def build(api: Api, client: TestClient, ctx: AppContext) -> dict[str, Any]:
    doctor = api.staff_named("clinician", "Dr. Cohort")
    responder = berlin_scenario(api, client, ctx, name=EVIL_NAME)
    api.grant(responder.patient, to=doctor)
    bob = api.register(name="Bob")
    assert bob.patient_id is not None
    pending = add_series(ctx, bob.patient_id, name="Booster", modality="esketamine_nasal")
    add_session(ctx, bob.patient_id, pending, "2026-05-01T10:00:00+02:00")
    not_started = add_series(ctx, bob.patient_id, name="-2+3 planned")
    add_session(ctx, bob.patient_id, not_started, "2026-05-02T10:00:00+02:00", completed=False)
    api.grant(bob, to=doctor)
    stranger = api.register(name="Stranger")  # no grant
    assert stranger.patient_id is not None
    add_series(ctx, stranger.patient_id)
    revoked = api.register(name="Revoked")
    assert revoked.patient_id is not None
    add_series(ctx, revoked.patient_id)
    grant = api.grant(revoked, to=doctor)
    r = client.delete(f"{API}/patients/me/grants/{grant['id']}", headers=revoked.headers)
    assert r.status_code == 204
    return {
        "doctor": doctor,
        "responder": responder,
        "bob": bob,
        "stranger": stranger,
        "pending": pending,
        "not_started": not_started,
    }


def test_rows_and_summary(api: Api, client: TestClient, ctx: AppContext) -> None:
    world = build(api, client, ctx)
    doctor: Account = world["doctor"]
    r = client.get(COHORT, params=AS_OF, headers=doctor.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    rows = {row["series_name"]: row for row in body["items"]}
    assert [row["patient_name"] for row in body["items"]] == [EVIL_NAME, "Bob", "Bob"]
    responder = world["responder"]
    assert rows["Ketamine IV series"] == {
        "patient_id": str(responder.patient.patient_id),
        "patient_name": EVIL_NAME,
        "series_id": str(responder.series_id),
        "series_name": "Ketamine IV series",
        "modality": "ketamine_iv",
        "as_of": "2026-05-10",
        "status": "follow_up_1_complete",
        "first_session_date": "2026-04-01",
        "last_session_date": "2026-04-03",
        "baseline_attacks_per_day": 4.0,
        "follow_up_1_attacks_per_day": 1.5,
        "change_pct": -62.5,
        "category": "substantial",
        "responder": True,
        "relief_duration_days": 18,
        "relief_ongoing": False,
    }
    booster = rows["Booster"]
    assert (booster["status"], booster["modality"]) == ("follow_up_1_pending", "esketamine_nasal")
    assert (booster["first_session_date"], booster["baseline_attacks_per_day"]) == (
        "2026-05-01",
        None,
    )
    assert (booster["responder"], booster["relief_duration_days"]) == (None, None)
    not_started = rows["-2+3 planned"]
    assert not_started["status"] == "no_completed_session"
    assert {k: v for k, v in not_started.items() if v is not None} == {
        "patient_id": str(world["bob"].patient_id),
        "patient_name": "Bob",
        "series_id": str(world["not_started"]),
        "series_name": "-2+3 planned",
        "modality": "ketamine_iv",
        "as_of": "2026-05-10",
        "status": "no_completed_session",
    }
    assert body["summary"] == {
        "n": 3,
        "assessed": 1,
        "responders": 1,
        "responder_rate": 1.0,
        "median_relief_days": 18.0,
    }


def test_each_patient_read_is_on_their_access_log(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    world = build(api, client, ctx)
    assert client.get(COHORT, params=AS_OF, headers=world["doctor"].headers).status_code == 200

    def cohort_reads(account: Account) -> list[dict[str, Any]]:
        r = client.get(f"{API}/patients/me/access-log?limit=500", headers=account.headers)
        return [e for e in r.json()["items"] if e["resource"] == "/cohort/series-outcomes"]

    for account in (world["responder"].patient, world["bob"]):
        (entry,) = cohort_reads(account)
        assert (entry["actor_name"], entry["action"], entry["outcome"]) == (
            "Dr. Cohort",
            "read",
            "success",
        )
    assert cohort_reads(world["stranger"]) == []


def test_csv_neutralises_formulas(api: Api, client: TestClient, ctx: AppContext) -> None:
    world = build(api, client, ctx)
    headers = {**world["doctor"].headers, "Accept": "text/csv"}
    r = client.get(COHORT, params=AS_OF, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["cache-control"] == "no-store"
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert list(table[0]) == [
        "patient_id",
        "patient_name",
        "series_id",
        "series_name",
        "modality",
        "as_of",
        "status",
        "first_session_date",
        "last_session_date",
        "baseline_attacks_per_day",
        "follow_up_1_attacks_per_day",
        "change_pct",
        "category",
        "responder",
        "relief_duration_days",
        "relief_ongoing",
    ]
    first, booster, planned = table
    assert first["patient_name"] == "'" + EVIL_NAME
    # Our own numbers stay numbers; a name starting with "-" is neutralised.
    assert (first["change_pct"], first["responder"], first["relief_duration_days"]) == (
        "-62.5",
        "true",
        "18",
    )
    assert planned["series_name"] == "'-2+3 planned"
    assert (booster["responder"], booster["baseline_attacks_per_day"]) == ("", "")


def test_modality_filter_and_who_may_ask(api: Api, client: TestClient, ctx: AppContext) -> None:
    world = build(api, client, ctx)
    r = client.get(
        COHORT, params={**AS_OF, "modality": "esketamine_nasal"}, headers=world["doctor"].headers
    )
    assert [row["series_name"] for row in r.json()["items"]] == ["Booster"]
    assert r.json()["summary"]["n"] == 1
    assert r.json()["summary"]["responder_rate"] is None
    assert r.json()["summary"]["median_relief_days"] is None
    assert_problem(client.get(COHORT, headers=world["bob"].headers), 403)
    assert_problem(client.get(COHORT, headers=api.staff("admin").headers), 403)
    assert_problem(client.get(COHORT), 401)
    partner = api.partner()
    api.grant(world["bob"], to=partner)
    assert_problem(client.get(COHORT, headers=api.partner_token(partner, "diary:read")), 403)
    r = client.get(COHORT, params=AS_OF, headers=api.partner_token(partner, "reports:read"))
    assert r.status_code == 200, r.text
    assert {row["patient_name"] for row in r.json()["items"]} == {"Bob"}
    far = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    body = assert_problem(
        client.get(COHORT, params={"as_of": far}, headers=world["doctor"].headers), 422
    )
    assert body["errors"][0]["loc"] == ["query", "as_of"]
    ancient = {"as_of": "1800-01-01"}
    assert_problem(client.get(COHORT, params=ancient, headers=world["doctor"].headers), 422)


def test_patients_are_read_page_by_page(
    api: Api, client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build(api, client, ctx)
    whole = client.get(COHORT, params=AS_OF, headers=world["doctor"].headers).json()
    monkeypatch.setattr(cohort, "PAGE", 1)
    paged = client.get(COHORT, params=AS_OF, headers=world["doctor"].headers).json()
    assert paged == whole
    assert paged["summary"]["n"] == 3


def test_an_empty_cohort(api: Api, client: TestClient) -> None:
    r = client.get(COHORT, headers=api.staff("clinician").headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "items": [],
        "summary": {
            "n": 0,
            "assessed": 0,
            "responders": 0,
            "responder_rate": None,
            "median_relief_days": None,
        },
    }
