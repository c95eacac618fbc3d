"""FHIR R4 export: every bundle parses with the reference R4B models; codes and units are right."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from app.services.context import AppContext
from tests.exports_seed import PATIENT_NAME, seed_rich_patient
from tests.helpers import Api, assert_problem

URL = "/api/v1/patients/{pid}/export/fhir"
SNOMED, LOINC, RXNORM = (
    "http://snomed.info/sct",
    "http://loinc.org",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
)
UCUM = "http://unitsofmeasure.org"
# R4 value sets of the status elements (the models do not check codes).
OBSERVATION_STATUS = {
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
}
ADMINISTRATION_STATUS = {
    "in-progress",
    "not-done",
    "on-hold",
    "completed",
    "entered-in-error",
    "stopped",
    "unknown",
}


def fetch(client: TestClient, pid: object, headers: dict[str, str]) -> dict[str, Any]:
    r = client.get(URL.format(pid=pid), headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    assert r.headers["cache-control"] == "no-store"
    bundle: dict[str, Any] = r.json()
    Bundle.model_validate(bundle)  # raises on any structural error, in any entry
    return bundle


def codings(concept: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept.get("coding", [])}


def of_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_rich_patient_bundle_validates_with_the_right_codes(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    alice = api.register(name=PATIENT_NAME)
    seeded = seed_rich_patient(client, alice)
    bundle = fetch(client, "me", alice.headers)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    assert all(
        url == f"urn:uuid:{e['resource']['id']}"
        for url, e in zip(urls, bundle["entry"], strict=True)
    )

    (patient,) = of_type(bundle, "Patient")
    assert patient["name"] == [{"text": PATIENT_NAME}]
    assert patient["birthDate"] == "1971"
    assert "identifier" not in patient
    assert "telecom" not in patient
    subject = {"reference": f"urn:uuid:{alice.patient_id}"}
    assert f"urn:uuid:{alice.patient_id}" in urls

    (condition,) = of_type(bundle, "Condition")
    assert codings(condition["code"]) == {
        (SNOMED, "31681005"),
        ("http://hl7.org/fhir/sid/icd-10", "G50.0"),
    }
    assert condition["clinicalStatus"]["coding"][0]["code"] == "active"
    assert condition["subject"] == subject
    sites = condition["bodySite"]
    assert [s["text"].split(",")[0] for s in sites] == ["V2", "V3"]
    for site in sites:
        (laterality,) = site["extension"]
        assert codings(laterality["valueCodeableConcept"]) == {(SNOMED, "24028007")}  # right
    assert condition["extension"][0]["valueDateTime"] == "2019-05-14"
    assert any("classical" in n["text"] for n in condition["note"])

    observations = of_type(bundle, "Observation")
    assert {o["status"] for o in observations} <= OBSERVATION_STATUS
    assert all(o["subject"] == subject for o in observations)
    assert all(o["category"][0]["coding"][0]["code"] == "survey" for o in observations)
    pain = [o for o in observations if (LOINC, "72514-3") in codings(o["code"])]
    # One per live episode: the deleted one is left out.
    assert sorted(o["id"] for o in pain) == sorted(seeded.episodes)
    assert seeded.deleted_episode not in {o["id"] for o in observations}
    first = next(o for o in pain if o["id"] == seeded.episodes[0])
    assert first["valueInteger"] == 8
    start, end = parse(first["effectivePeriod"]["start"]), parse(first["effectivePeriod"]["end"])
    assert start == datetime.fromisoformat("2026-03-01T08:15:00+01:00")
    assert end - start == timedelta(seconds=90)
    components = {
        (c["code"]["text"], str(next(v for k, v in c.items() if k.startswith("value"))))
        for c in first["component"]
    }
    assert ("Number of attacks in this episode", "12") in components
    triggers = [
        c["valueCodeableConcept"]["text"]
        for c in first["component"]
        if c["code"]["text"] == "Trigger"
    ]
    assert triggers == ["eating", "chewing"]
    assert first["note"] == [{"text": "while eating breakfast"}]
    assert "V2" in first["bodySite"]["text"]
    assert next(o for o in pain if o["id"] == seeded.episodes[1])["valueInteger"] == 6  # the edit

    checkins = [
        o for o in observations if o["code"].get("text") == "Daily trigeminal neuralgia check-in"
    ]
    assert sorted(o["effectiveDateTime"] for o in checkins) == ["2026-03-01", "2026-03-02"]
    day1 = next(o for o in checkins if o["effectiveDateTime"] == "2026-03-01")
    background = next(c for c in day1["component"] if (LOINC, "72514-3") in codings(c["code"]))
    assert background["valueInteger"] == 3
    sleep = next(c for c in day1["component"] if c["code"]["text"] == "Sleep duration")
    assert sleep["valueQuantity"] == {"value": 6.5, "unit": "h", "system": UCUM, "code": "h"}

    phq9 = [o for o in observations if (LOINC, "44261-6") in codings(o["code"])]
    gad7 = [o for o in observations if (LOINC, "70274-6") in codings(o["code"])]
    assert [o["valueInteger"] for o in phq9] == [10]
    assert [o["valueInteger"] for o in gad7] == [5]
    # Instruments without a verified LOINC code carry text only, never an invented code.
    others = [
        o
        for o in observations
        if "PGIC" in o["code"].get("text", "") or "CADSS" in o["code"].get("text", "")
    ]
    assert len(others) == 2
    assert all("coding" not in o["code"] for o in others)

    administrations = of_type(bundle, "MedicationAdministration")
    assert {a["status"] for a in administrations} <= ADMINISTRATION_STATUS
    assert sorted(a["id"] for a in administrations) == sorted(str(s) for s in seeded.sessions)
    by_id = {a["id"]: a for a in administrations}
    full, stopped, nasal = (by_id[str(s)] for s in seeded.sessions)
    assert (full["status"], stopped["status"], nasal["status"]) == (
        "completed",
        "stopped",
        "completed",
    )
    assert codings(full["medicationCodeableConcept"]) == {(RXNORM, "6130")}
    assert codings(nasal["medicationCodeableConcept"]) == {(RXNORM, "2201623")}
    assert full["dosage"]["dose"] == {"value": 36.0, "unit": "mg", "system": UCUM, "code": "mg"}
    assert stopped["dosage"]["dose"] == {
        "value": 0.3,
        "unit": "mg/kg",
        "system": UCUM,
        "code": "mg/kg",
    }
    assert codings(full["dosage"]["route"]) == {(SNOMED, "47625008")}
    assert codings(nasal["dosage"]["route"]) == {(SNOMED, "46713006")}
    assert parse(nasal["effectivePeriod"]["end"]) - parse(
        nasal["effectivePeriod"]["start"]
    ) == timedelta(minutes=120)
    assert any("hypertension (severe)" in n["text"] for n in stopped["note"])
    assert all(a["subject"] == subject for a in administrations)


def test_an_empty_diary_is_a_patient_and_condition_only(api: Api, client: TestClient) -> None:
    bob = api.register()
    bundle = fetch(client, bob.patient_id, bob.headers)
    assert [e["resource"]["resourceType"] for e in bundle["entry"]] == ["Patient", "Condition"]
    (condition,) = of_type(bundle, "Condition")
    assert "bodySite" not in condition
    assert "extension" not in condition


def test_partners_need_reports_read_and_the_export_is_audited(api: Api, client: TestClient) -> None:
    alice = api.register()
    partner = api.partner(("diary:read", "reports:read"))
    api.grant(alice, to=partner)
    assert_problem(
        client.get(
            URL.format(pid=alice.patient_id), headers=api.partner_token(partner, "diary:read")
        ),
        403,
    )
    fetch(client, alice.patient_id, api.partner_token(partner, "reports:read"))
    log = client.get("/api/v1/patients/me/access-log", headers=alice.headers).json()["items"]
    exports = [e for e in log if e["resource"] == "/patients/{pid}/export/fhir"]
    assert [(e["action"], e["outcome"], e["actor_role"]) for e in exports] == [
        ("export", "success", "partner"),
        ("export", "denied", "partner"),
    ]
