"""GET /cohort/series-outcomes: rows per series of every patient a clinician may see."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.reports.km import render_relief_km
from app.schemas.trends import CohortOut
from app.services.outcomes import cohort
from app.trends import relief_survival
from tests.helpers import Account, Api, assert_problem
from tests.trend_data import API, induction_and_booster, iso, trend_patient

COHORT = f"{API}/cohort/series-outcomes"
AS_OF = {"as_of": iso(175)}  # 2026-08-24
EVIL_NAME = '=HYPERLINK("http://evil.example","click")'


def build(api: Api) -> dict[str, Any]:
    """Four patients a clinician may see (days are offsets from tests.trend_data.DAY0):

    - EVIL_NAME: the induction and booster of ``induction_and_booster``: relief ended after
      59 and 62 days, both responders;
    - Bob: an esketamine series without a baseline diary, and a series never started;
    - Carl: 4 attacks a day before and after his series: no relief, not a responder;
    - Dora: 6 a day, a series on day 100, 1 a day since: relief still running on day 175.
    Two more patients are not in the table: one never granted, one whose grant was revoked.
    """
    doctor = api.staff_named("clinician", "Dr. Cohort")
    course = induction_and_booster(api, name=EVIL_NAME)
    api.grant(course.patient.account, to=doctor)
    bob = trend_patient(api, name="Bob")
    pending = bob.series(name="Esketamine", modality="esketamine_nasal")
    bob.session(pending, "2026-05-01T10:00:00+02:00")
    not_started = bob.series(name="-2+3 planned")
    bob.session(not_started, "2026-05-02T10:00:00+02:00", completed=False)
    api.grant(bob.account, to=doctor)
    carl = trend_patient(api, name="Carl")
    carl.daily(range(-28, 61), 4)
    carl.sessions(carl.series(), [0])
    api.grant(carl.account, to=doctor)
    dora = trend_patient(api, name="Dora")
    dora.daily(range(72, 100), 6)
    dora.daily(range(101, 176), 1)
    dora.sessions(dora.series(), [100])
    api.grant(dora.account, to=doctor)
    stranger = trend_patient(api, name="Stranger")  # no grant
    stranger.series()
    revoked = trend_patient(api, name="Revoked")
    revoked.series()
    grant = api.grant(revoked.account, to=doctor)
    r = api.client.delete(f"{API}/patients/me/grants/{grant['id']}", headers=revoked.headers)
    assert r.status_code == 204
    return {
        "doctor": doctor,
        "course": course,
        "bob": bob,
        "stranger": stranger,
        "pending": pending,
        "not_started": not_started,
    }


def test_rows_and_summary(api: Api, client: TestClient) -> None:
    world = build(api)
    doctor: Account = world["doctor"]
    r = client.get(COHORT, params=AS_OF, headers=doctor.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    rows = {row["series_name"]: row for row in body["items"]}
    assert [row["patient_name"] for row in body["items"]] == [
        EVIL_NAME, EVIL_NAME, "Bob", "Bob", "Carl", "Dora",
    ]  # fmt: skip
    course = world["course"]
    common = {
        "patient_id": str(course.patient.pid),
        "patient_name": EVIL_NAME,
        "modality": "ketamine_iv",
        "as_of": AS_OF["as_of"],
        "course_id": str(course.induction),
        "baseline_attacks_per_day": 6.0,  # the course's reference baseline, for both
        "follow_up_1_attacks_per_day": 1.0,
        "change_pct": float(100 * (1 - 6) / 6),
        "category": "substantial",
        "responder": True,
        "relief_status": "ended",
        "censor_reason": None,
        "baseline_flags": [],
    }
    assert rows["Ketamine IV induction"] == {
        **common,
        "series_id": str(course.induction),
        "series_name": "Ketamine IV induction",
        "start": iso(0),
        "booster": False,
        "relief_days": 59,
    }
    assert rows["Ketamine IV booster"] == {
        **common,
        "series_id": str(course.booster),
        "series_name": "Ketamine IV booster",
        "start": iso(90),
        "booster": True,
        "relief_days": 62,
    }
    esketamine = rows["Esketamine"]
    assert (esketamine["modality"], esketamine["booster"]) == ("esketamine_nasal", False)
    assert (esketamine["baseline_attacks_per_day"], esketamine["responder"]) == (None, None)
    assert (esketamine["relief_status"], esketamine["baseline_flags"]) == (
        None,
        ["short", "low_coverage", "selective_logging"],
    )
    not_started = rows["-2+3 planned"]
    assert {k: v for k, v in not_started.items() if v is not None} == {
        "patient_id": str(world["bob"].pid),
        "patient_name": "Bob",
        "series_id": str(world["not_started"]),
        "series_name": "-2+3 planned",
        "modality": "ketamine_iv",
        "as_of": AS_OF["as_of"],
    }
    carl = rows_of(body, "Carl")
    assert (carl["responder"], carl["relief_status"], carl["relief_days"]) == (
        False,
        "no_relief",
        None,
    )
    dora = rows_of(body, "Dora")
    assert (dora["relief_status"], dora["relief_days"], dora["censor_reason"]) == (
        "ongoing",
        75,
        "as_of",
    )
    # Kaplan-Meier over the first series with an onset: 59 ended, 75 still running (a plain
    # median of the two would say 67).
    first_km = relief_survival([(59, True), (75, False)])
    assert body["summary"] == {
        "first_series": {
            "n": 4,  # one per patient: induction, Esketamine, Carl's, Dora's
            "responders": 2,
            "responder_rate": 2 / 3,  # Bob's verdict is null
            "no_relief": 1,
            "relief": {
                "n": 2,
                "events": 1,
                "median_days": 59.0,
                "median_ci95": list(first_km.median_ci95 or ()),
            },
        },
        "boosters": {
            "n": 1,
            "responders": 1,
            "responder_rate": 1.0,
            "no_relief": 0,
            "relief": {"n": 1, "events": 1, "median_days": 62.0, "median_ci95": [None, None]},
        },
    }


def rows_of(body: dict[str, Any], patient_name: str) -> dict[str, Any]:
    (row,) = (row for row in body["items"] if row["patient_name"] == patient_name)
    found: dict[str, Any] = row
    return found


def test_each_patient_read_is_on_their_access_log(api: Api, client: TestClient) -> None:
    world = build(api)
    assert client.get(COHORT, params=AS_OF, headers=world["doctor"].headers).status_code == 200

    def cohort_reads(account: Account) -> list[dict[str, Any]]:
        r = client.get(f"{API}/patients/me/access-log?limit=500", headers=account.headers)
        return [e for e in r.json()["items"] if e["resource"] == "/cohort/series-outcomes"]

    for account in (world["course"].patient.account, world["bob"].account):
        (entry,) = cohort_reads(account)
        assert (entry["actor_name"], entry["action"], entry["outcome"]) == (
            "Dr. Cohort",
            "read",
            "success",
        )
    assert cohort_reads(world["stranger"].account) == []


def test_csv_neutralises_formulas(api: Api, client: TestClient) -> None:
    world = build(api)
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
    ]
    induction, booster, esketamine, planned, _, _ = table
    assert induction["patient_name"] == "'" + EVIL_NAME
    # Our own numbers stay numbers; a name starting with "-" is neutralised.
    assert (induction["change_pct"], induction["responder"], booster["relief_days"]) == (
        repr(100 * (1 - 6) / 6),
        "true",
        "62",
    )
    assert (booster["booster"], booster["relief_status"]) == ("true", "ended")
    assert esketamine["baseline_flags"] == "short;low_coverage;selective_logging"
    assert planned["series_name"] == "'-2+3 planned"
    assert (planned["responder"], planned["baseline_attacks_per_day"]) == ("", "")


def test_modality_filter_and_who_may_ask(api: Api, client: TestClient) -> None:
    world = build(api)
    r = client.get(
        COHORT, params={**AS_OF, "modality": "esketamine_nasal"}, headers=world["doctor"].headers
    )
    assert [row["series_name"] for row in r.json()["items"]] == ["Esketamine"]
    first_series = r.json()["summary"]["first_series"]
    assert (first_series["n"], first_series["responder_rate"]) == (1, None)
    assert first_series["relief"] == {"n": 0, "events": 0, "median_days": None, "median_ci95": None}
    assert_problem(client.get(COHORT, headers=world["bob"].headers), 403)
    assert_problem(client.get(COHORT, headers=api.staff("admin").headers), 403)
    assert_problem(client.get(COHORT), 401)
    partner = api.partner()
    api.grant(world["bob"].account, to=partner)
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


def test_a_booster_of_another_modality_keeps_its_course(api: Api, client: TestClient) -> None:
    """The filter picks rows; courses still come from all of the patient's series."""
    doctor = api.staff("clinician")
    course = induction_and_booster(api, name="Eve", modality="esketamine_nasal")
    api.grant(course.patient.account, to=doctor)
    params = {**AS_OF, "modality": "esketamine_nasal"}
    (row,) = client.get(COHORT, params=params, headers=doctor.headers).json()["items"]
    assert (row["booster"], row["course_id"], row["baseline_attacks_per_day"]) == (
        True,
        str(course.induction),
        6.0,
    )


def test_rows_are_read_page_by_page(api: Api, client: TestClient) -> None:
    """Pages follow one another without a gap or a repeat; the summary (over every row)
    comes with the first page only."""
    world = build(api)
    whole = client.get(COHORT, params=AS_OF, headers=world["doctor"].headers).json()
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {**AS_OF, "limit": 4}
    first = client.get(COHORT, params=params, headers=world["doctor"].headers).json()
    assert first["summary"] == whole["summary"]
    assert first["summary"]["first_series"]["n"] == 4
    items = first["items"]
    params["cursor"] = first["next_cursor"]
    rest = client.get(COHORT, params=params, headers=world["doctor"].headers).json()
    assert (rest["next_cursor"], rest["summary"]) == (None, None)
    assert items + rest["items"] == whole["items"]


def test_an_empty_cohort(api: Api, client: TestClient) -> None:
    r = client.get(COHORT, headers=api.staff("clinician").headers)
    assert r.status_code == 200, r.text
    empty = {
        "n": 0,
        "responders": 0,
        "responder_rate": None,
        "no_relief": 0,
        "relief": {"n": 0, "events": 0, "median_days": None, "median_ci95": None},
    }
    assert r.json() == {
        "items": [],
        "next_cursor": None,
        "summary": {"first_series": empty, "boosters": empty},
    }


def test_kaplan_meier_curve_of_the_cohort(api: Api, client: TestClient) -> None:
    """The curve draws exactly the reliefs the summary counts (one series per patient)."""
    world = build(api)
    body = client.get(COHORT, params=AS_OF, headers=world["doctor"].headers).json()
    result = CohortOut.model_validate(body)
    first = cohort.relief_pairs(result, booster=False)
    boosters = cohort.relief_pairs(result, booster=True)
    assert sorted(first) == [(59, True), (75, False)]  # the induction ended, Dora's runs on
    assert boosters == [(62, True)]
    assert (
        relief_survival(first).median_days
        == body["summary"]["first_series"]["relief"]["median_days"]
    )
    svg = render_relief_km(first, boosters)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.findtext(f"{ns}desc") == (
        "First series: n = 2, 1 ended, median 59 days. Boosters: n = 1, 1 ended, median 62 days."
    )
    ids = {element.get("id") for element in root.iter()}
    assert {"km-first-series", "km-first-series-censored", "km-boosters"} <= ids
    assert "km-boosters-censored" not in ids  # the booster's relief ended: nothing censored
