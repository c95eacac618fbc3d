"""A medication's dose history (``doses``): kept by the server from started_on, dated by
``dose_changed_on`` (default: the patient's local today), on every representation, through
export and import, and in FHIR as one MedicationStatement per dose period."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from app.trends.days import local_today
from tests.diary import changes_url, medication, medication_url, new_id
from tests.helpers import Account, Api, assert_problem, patch_current

API = "/api/v1"
UCUM = "http://unitsofmeasure.org"


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def feed(client: TestClient, who: Account, since: str | None = None) -> dict[str, Any]:
    params = {"limit": 500} | ({"since": since} if since else {})
    return ok(client.get(changes_url(), params=params, headers=who.headers))


def doses(*steps: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"from": day, "mg_per_day": mg} for day, mg in steps]


def test_doses_on_every_representation(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    created = ok(client.post(medication_url(), json=medication(), headers=h))
    assert created["doses"] == doses(("2025-11-01", 600))
    url = medication_url(mid=created["id"])
    patched = ok(
        client.patch(
            url,
            json={"dose_mg_per_day": 800, "dose_changed_on": "2026-01-10"},
            headers={**h, "If-Match": '"1"'},
        )
    )
    history = doses(("2025-11-01", 600), ("2026-01-10", 800))
    assert (patched["doses"], patched["version"]) == (history, 2)
    assert ok(client.get(url, headers=h)) == patched
    assert ok(client.get(medication_url(), headers=h))["items"] == [patched]
    put = ok(client.put(url, json=medication(dose_mg_per_day=800, name="Carbamazepine"), headers=h))
    assert (put["doses"], put["version"]) == (history, 3)  # the dose did not change
    (change,) = [c for c in feed(client, alice)["changes"] if c["kind"] == "medication"]
    assert change["data"] == put
    (exported,) = ok(client.get(f"{API}/me/export", headers=h))["medications"]
    assert exported == {**put, "deleted_at": None}
    # A PUT that creates, and a POST replayed by its client id, carry the history too.
    mid = new_id()
    made = client.put(medication_url(mid=mid), json=medication(id=mid), headers=h)
    assert (made.status_code, made.json()["doses"]) == (201, doses(("2025-11-01", 600)))
    replay = client.post(medication_url(), json=medication(id=mid), headers=h)
    assert (replay.status_code, replay.json()) == (200, made.json())


def test_a_change_entered_after_the_fact_keeps_its_own_day(api: Api, client: TestClient) -> None:
    """Issue 10: a carbamazepine increase PATCHed in later was dated the day of the PATCH, after
    the follow-up, and vanished from the trend."""
    alice = api.register(timezone="Europe/Berlin")
    h = alice.headers
    today = local_today("Europe/Berlin")
    first = today - timedelta(days=40)
    batch = [
        {
            "id": new_id(),
            "started_at": f"{first - timedelta(days=n)}T09:00:00+01:00",
            "duration_seconds": 30,
            "attack_count": 3,
            "intensity": 7,
        }
        for n in range(1, 15)
    ]
    ok(client.post(f"{API}/patients/me/episodes/batch", json={"items": batch}, headers=h))
    sid = ok(
        client.post(
            f"{API}/patients/me/series",
            json={"name": "IV", "modality": "ketamine_iv", "baseline_days": 14},
            headers=h,
        )
    )["id"]
    ok(
        client.post(
            f"{API}/patients/me/series/{sid}/sessions",
            json={"started_at": f"{first}T10:00:00+01:00", "duration_minutes": 40, "route": "iv"},
            headers=h,
        )
    )
    med = ok(client.post(medication_url(), json=medication(started_on="2025-01-01"), headers=h))
    increased_on = (first + timedelta(days=10)).isoformat()
    ok(
        patch_current(
            client,
            medication_url(mid=med["id"]),
            json={"dose_mg_per_day": 900, "dose_changed_on": increased_on},
            headers=h,
        )
    )
    got = ok(client.get(medication_url(mid=med["id"]), headers=h))
    assert got["doses"] == doses(("2025-01-01", 600), (increased_on, 900))
    trend = ok(client.get(f"{API}/patients/me/series/{sid}/trend", headers=h))
    assert increased_on in {change["date"] for change in trend["medication_changes"]}


def test_the_default_day_is_the_patients_local_today(api: Api, client: TestClient) -> None:
    # Kiribati (+14:00) is already a day ahead of UTC for most of the UTC day.
    alice = api.register(timezone="Pacific/Kiritimati")
    h = alice.headers
    med = ok(client.post(medication_url(), json=medication(), headers=h))
    r = ok(
        patch_current(
            client, medication_url(mid=med["id"]), json={"dose_mg_per_day": 700}, headers=h
        )
    )
    assert r["doses"][-1] == {
        "from": local_today("Pacific/Kiritimati").isoformat(),
        "mg_per_day": 700,
    }


def test_an_entry_on_or_before_another_replaces_the_history_from_that_day(
    api: Api, client: TestClient
) -> None:
    alice = api.register()
    h = alice.headers
    med = ok(client.post(medication_url(), json=medication(), headers=h))
    url = medication_url(mid=med["id"])

    def change(**fields: Any) -> dict[str, Any]:
        return ok(patch_current(client, url, json=fields, headers=h))

    change(dose_mg_per_day=800, dose_changed_on="2026-01-10")
    after = change(dose_mg_per_day=1000, dose_changed_on="2026-02-01")
    assert after["doses"] == doses(("2025-11-01", 600), ("2026-01-10", 800), ("2026-02-01", 1000))
    # On an existing day: that entry and every later one are replaced.
    corrected = change(dose_mg_per_day=900, dose_changed_on="2026-01-10")
    assert corrected["doses"] == doses(("2025-11-01", 600), ("2026-01-10", 900))
    # dose_changed_on alone re-dates the current dose: the change happened earlier.
    cursor = feed(client, alice)["next_cursor"]
    redated = change(dose_changed_on="2025-12-20")
    assert redated["doses"] == doses(("2025-11-01", 600), ("2025-12-20", 900))
    assert redated["version"] == corrected["version"] + 1
    (moved,) = feed(client, alice, cursor)["changes"]
    assert moved["data"] == redated
    # The same again changes nothing (a later day of the same dose is no change).
    assert change(dose_changed_on="2025-12-20")["version"] == redated["version"]
    assert change(dose_mg_per_day=900, dose_changed_on="2026-01-15") == redated
    # Back to the first dose from a day in between: consecutive equal doses are one entry.
    back = change(dose_mg_per_day=600, dose_changed_on="2025-12-01")
    assert back["doses"] == doses(("2025-11-01", 600))
    # A PUT changing the dose with a day dates it like a PATCH.
    put = ok(
        client.put(
            url, json=medication(dose_mg_per_day=400, dose_changed_on="2026-02-02"), headers=h
        )
    )
    assert put["doses"] == doses(("2025-11-01", 600), ("2026-02-02", 400))


def test_the_history_follows_a_moved_start(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    med = ok(client.post(medication_url(), json=medication(), headers=h))
    url = medication_url(mid=med["id"])
    ok(
        patch_current(
            client, url, json={"dose_mg_per_day": 800, "dose_changed_on": "2026-01-10"}, headers=h
        )
    )
    earlier = ok(patch_current(client, url, json={"started_on": "2025-09-01"}, headers=h))
    assert earlier["doses"] == doses(("2025-09-01", 600), ("2026-01-10", 800))
    # A start moved past a change: what held on the new start holds from it.
    later = ok(patch_current(client, url, json={"started_on": "2026-01-20"}, headers=h))
    assert later["doses"] == doses(("2026-01-20", 800))


BAD_PATCHES = [
    ({"dose_mg_per_day": 800, "dose_changed_on": "2025-10-31"}, "dose_changed_on", "started_on"),
    ({"dose_changed_on": "2025-10-31"}, "dose_changed_on", "started_on"),
    ({"dose_mg_per_day": 800, "dose_changed_on": "2099-01-01"}, "dose_changed_on", "today"),
    ({"dose_mg_per_day": 800, "dose_changed_on": "2026-02-01"}, "dose_changed_on", "stopped_on"),
    # A stopped medication's dose changes on a day of its life: today is after the stop.
    ({"dose_mg_per_day": 800}, "dose_changed_on", "stopped_on"),
    ({"dose_mg_per_day": 800, "dose_changed_on": 5}, "dose_changed_on", "YYYY-MM-DD"),
    ({"dose_mg_per_day": 800, "dose_changed_on": True}, "dose_changed_on", "YYYY-MM-DD"),
    ({"dose_mg_per_day": 800, "dose_changed_on": "yesterday"}, "dose_changed_on", "date"),
    ({"dose_mg_per_day": 800, "dose_changed_on": None}, "dose_changed_on", "null"),
    ({"stopped_on": "2025-12-31"}, "stopped_on", "last dose change (2026-01-10)"),
    ({"doses": [{"from": "2025-11-01", "mg_per_day": 1}]}, "doses", "Extra inputs"),
]


@pytest.mark.parametrize(("fields", "field", "says"), BAD_PATCHES)
def test_a_bad_dose_change_is_a_422_naming_the_field_and_stores_nothing(
    api: Api, client: TestClient, fields: dict[str, Any], field: str, says: str
) -> None:
    alice = api.register()
    h = alice.headers
    med = ok(client.post(medication_url(), json=medication(), headers=h))
    url = medication_url(mid=med["id"])
    ok(
        patch_current(
            client, url, json={"dose_mg_per_day": 700, "dose_changed_on": "2026-01-10"}, headers=h
        )
    )
    kept = ok(patch_current(client, url, json={"stopped_on": "2026-01-31"}, headers=h))
    cursor = feed(client, alice)["next_cursor"]
    r = client.patch(url, json=fields, headers={**h, "If-Match": f'"{kept["version"]}"'})
    (error,) = assert_problem(r, 422)["errors"]
    assert error["loc"] == ["body", field]
    assert says in error["msg"]
    if "doses" not in fields:
        put = client.put(url, json={**medication(stopped_on="2026-01-31"), **fields}, headers=h)
        if "stopped_on" in fields:
            put = client.put(url, json=medication(dose_mg_per_day=700, **fields), headers=h)
        assert field in str(assert_problem(put, 422)["errors"][0]["loc"])
    assert ok(client.get(url, headers=h)) == kept
    assert feed(client, alice, cursor)["changes"] == []


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"dose_changed_on": "2025-10-31"}, "started_on"),
        ({"dose_changed_on": "2099-01-01"}, "today"),
        ({"dose_changed_on": "2026-02-01", "stopped_on": "2026-01-31"}, "stopped_on"),
        ({"dose_changed_on": 20260101}, "YYYY-MM-DD"),
        ({"doses": []}, "Extra inputs"),
    ],
)
def test_a_new_medication_with_a_bad_dose_day_is_a_422_and_stores_nothing(
    api: Api, client: TestClient, fields: dict[str, Any], says: str
) -> None:
    alice = api.register()
    h = alice.headers
    mid = new_id()
    for r in (
        client.post(medication_url(), json=medication(**fields), headers=h),
        client.put(medication_url(mid=mid), json=medication(**fields), headers=h),
    ):
        (error,) = assert_problem(r, 422)["errors"]
        assert error["loc"][:2] == ["body", next(iter(fields))]
        assert says in error["msg"]
    assert ok(client.get(medication_url(), headers=h))["items"] == []
    assert feed(client, alice)["changes"] == []


def test_a_new_medication_has_one_dose_from_its_start(api: Api, client: TestClient) -> None:
    """The dose before dose_changed_on is unknown on create: the history is the dose from the
    start (the day is still checked)."""
    alice = api.register()
    body = medication(dose_changed_on="2026-01-10")
    created = ok(client.post(medication_url(), json=body, headers=alice.headers))
    assert created["doses"] == doses(("2025-11-01", 600))


# --- export and import --------------------------------------------------------------------------


def _export(client: TestClient, who: Account) -> dict[str, Any]:
    return ok(client.get(f"{API}/me/export", headers=who.headers))


def test_export_import_export_keeps_the_histories(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    med = ok(client.post(medication_url(), json=medication(), headers=h))
    url = medication_url(mid=med["id"])
    ok(
        patch_current(
            client, url, json={"dose_mg_per_day": 800, "dose_changed_on": "2026-01-10"}, headers=h
        )
    )
    ok(
        patch_current(
            client, url, json={"dose_mg_per_day": 400, "dose_changed_on": "2026-02-10"}, headers=h
        )
    )
    ok(patch_current(client, url, json={"stopped_on": "2026-03-01"}, headers=h))
    gone = ok(client.post(medication_url(), json=medication(name="baclofen"), headers=h))
    assert client.delete(medication_url(mid=gone["id"]), headers=h).status_code == 204
    first = _export(client, alice)

    bob = api.register()
    ok(client.post(f"{API}/me/import", json=first, headers=bob.headers))
    second = _export(client, bob)

    def histories(doc: dict[str, Any]) -> list[tuple[str, Any, Any]]:
        return sorted((m["name"], m["deleted_at"], m["doses"]) for m in doc["medications"])

    assert histories(second) == histories(first)
    assert (
        "carbamazepine",
        None,
        doses(("2025-11-01", 600), ("2026-01-10", 800), ("2026-02-10", 400)),
    ) in histories(first)
    # The imported history is the one the new account's API keeps and changes.
    (imported,) = ok(client.get(medication_url(), headers=bob.headers))["items"]
    assert imported["doses"] == doses(("2025-11-01", 600), ("2026-01-10", 800), ("2026-02-10", 400))


def _document(**medication_fields: Any) -> dict[str, Any]:
    stamp = {
        "version": 1,
        "created_at": "2026-03-01T08:00:00Z",
        "updated_at": "2026-03-01T08:00:00Z",
    }
    return {
        "format": "paindiary-export",
        "version": 2,
        "exported_at": "2026-03-02T09:00:00Z",
        "patient": {
            "id": new_id(),
            "display_name": "Moved",
            "timezone": "Europe/Vienna",
            "diagnosis": {"ichd3_type": "idiopathic", "side": "left", "branches": ["V1"]},
            **stamp,
        },
        "medications": [{"id": new_id(), **medication(), **stamp, **medication_fields}],
    }


def test_a_document_without_doses_imports_with_the_dose_from_started_on(
    api: Api, client: TestClient
) -> None:
    bob = api.register()
    ok(client.post(f"{API}/me/import", json=_document(), headers=bob.headers))
    (imported,) = ok(client.get(medication_url(), headers=bob.headers))["items"]
    assert imported["doses"] == doses(("2025-11-01", 600))


BAD_HISTORIES = [
    (doses(("2025-11-02", 600)), [0, "from"], "started_on"),
    (doses(("2025-11-01", 400), ("2026-01-10", 600), ("2026-01-10", 600)), [2, "from"], "oldest"),
    (doses(("2025-11-01", 400), ("2025-10-01", 600)), [1, "from"], "oldest"),
    (doses(("2025-11-01", 400), ("2026-01-10", 800)), [1, "mg_per_day"], "dose_mg_per_day"),
    (doses(("2025-11-01", 400), ("2099-01-01", 600)), [1, "from"], "today"),
    ([{"from": 5, "mg_per_day": 600}], [0, "from"], "date"),
    ([{"from": "2025-11-01", "mg_per_day": 0}], [0, "mg_per_day"], "greater than 0"),
    ([{"from": "2025-11-01", "mg_per_day": "600"}], [0, "mg_per_day"], "number"),
    ([{"from": "2025-11-01", "mg_per_day": 600, "why": "x"}], [0, "why"], "Extra"),
]


@pytest.mark.parametrize(("history", "loc", "says"), BAD_HISTORIES)
def test_a_bad_history_in_a_document_is_a_422_and_imports_nothing(
    api: Api, client: TestClient, history: list[dict[str, Any]], loc: list[Any], says: str
) -> None:
    bob = api.register()
    r = client.post(f"{API}/me/import", json=_document(doses=history), headers=bob.headers)
    errors = assert_problem(r, 422)["errors"]
    assert errors[0]["loc"] == ["body", "medications", 0, "doses", *loc]
    assert says in errors[0]["msg"]
    assert _export(client, bob)["medications"] == []


def test_a_history_after_the_stop_is_a_422(api: Api, client: TestClient) -> None:
    bob = api.register()
    history = doses(("2025-11-01", 400), ("2026-01-10", 600))
    doc = _document(doses=history, stopped_on="2026-01-01")
    r = client.post(f"{API}/me/import", json=doc, headers=bob.headers)
    (error,) = assert_problem(r, 422)["errors"]
    assert error["loc"] == ["body", "medications", 0, "doses", 1, "from"]
    assert "stopped_on" in error["msg"]
    assert _export(client, bob)["medications"] == []


# --- FHIR ----------------------------------------------------------------------------------------


def test_fhir_has_a_medication_statement_per_dose_period(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    med = ok(client.post(medication_url(), json=medication(), headers=h))
    url = medication_url(mid=med["id"])
    ok(
        patch_current(
            client, url, json={"dose_mg_per_day": 800, "dose_changed_on": "2026-01-10"}, headers=h
        )
    )
    ok(patch_current(client, url, json={"stopped_on": "2026-02-28"}, headers=h))
    ongoing = ok(
        client.post(
            medication_url(),
            json=medication(name="baclofen", dose_mg_per_day=30, started_on="2026-01-05"),
            headers=h,
        )
    )
    gone = ok(client.post(medication_url(), json=medication(name="gabapentin"), headers=h))
    assert client.delete(medication_url(mid=gone["id"]), headers=h).status_code == 204

    r = client.get(f"{API}/patients/me/export/fhir", headers=h)
    assert r.status_code == 200, r.text
    bundle = r.json()
    Bundle.model_validate(copy.deepcopy(bundle))  # every entry is valid R4
    statements = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationStatement"
    ]
    summary = [
        (
            s["medicationCodeableConcept"]["text"],
            s["status"],
            s["effectivePeriod"],
            s["dosage"][0]["doseAndRate"][0]["rateQuantity"],
            s["dosage"][0]["text"],
        )
        for s in statements
    ]

    def rate(mg: float) -> dict[str, Any]:
        return {"value": mg, "unit": "mg/d", "system": UCUM, "code": "mg/d"}

    assert summary == [
        (
            "carbamazepine",
            "completed",
            {"start": "2025-11-01", "end": "2026-01-09"},
            rate(600),
            "600 mg/day",
        ),
        (
            "carbamazepine",
            "completed",
            {"start": "2026-01-10", "end": "2026-02-28"},
            rate(800),
            "800 mg/day",
        ),
        ("baclofen", "active", {"start": "2026-01-05"}, rate(30), "30 mg/day"),
    ]
    subject = {"reference": f"urn:uuid:{alice.patient_id}"}
    assert all(s["subject"] == subject for s in statements)
    by_medication = [s["identifier"][0]["value"] for s in statements]
    assert by_medication == [med["id"], med["id"], ongoing["id"]]
    assert len({s["id"] for s in statements}) == 3
