"""/me/export and /me/import: a patient takes their data to a new account, unchanged but for ids."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.schemas.exports import ImportDocument
from app.services.context import AppContext
from tests.diary import episode, episode_url, new_id
from tests.exports_seed import PATIENT_NAME, seed_rich_patient
from tests.helpers import Account, Api, assert_problem

EXPORT, IMPORT = "/api/v1/me/export", "/api/v1/me/import"
RECORD_KINDS = ("episodes", "checkins", "medications", "assessments", "series", "sessions")


def export(client: TestClient, who: Account) -> dict[str, Any]:
    r = client.get(EXPORT, headers=who.headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith("attachment;")
    doc: dict[str, Any] = r.json()
    return doc


def normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """What must survive a move to a new account. Away: the parts that belong to the account
    (e-mail, grants, access log, when it was created), the export time and versions (records
    start again at 1). Ids are replaced by tokens in order of first appearance, so every
    reference (a session's series, an assessment's series, who recorded a session) must point
    at the corresponding record; everything else - values, record timestamps, tombstones,
    order - must be identical."""
    doc = copy.deepcopy(doc)
    for key in ("exported_at", "grants", "grants_received", "access_log"):
        doc.pop(key)
    doc["account"] = {"role": doc["account"]["role"]}
    for key in ("version", "created_at", "updated_at"):
        doc["patient"].pop(key)
    for kind in RECORD_KINDS:
        for record in doc[kind]:
            record.pop("version")
    tokens: dict[str, str] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            try:
                uuid.UUID(value)
            except ValueError:
                return value
            return tokens.setdefault(value, f"id-{len(tokens) + 1}")
        return value

    result: dict[str, Any] = walk(doc)
    return result


def ids(doc: dict[str, Any]) -> set[str]:
    return {r["id"] for kind in RECORD_KINDS for r in doc[kind] if "id" in r}


def test_export_import_export_gives_the_same_data(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    old = api.register(name=PATIENT_NAME, timezone="Europe/Berlin")
    seed_rich_patient(client, old)
    first = export(client, old)
    assert (first["format"], first["version"]) == ("paindiary-export", 1)
    assert [len(first[k]) for k in RECORD_KINDS] == [4, 3, 2, 4, 2, 4]
    assert sum(r["deleted_at"] is not None for k in RECORD_KINDS for r in first[k]) == 3
    assert first["account"]["email"] == old.email
    assert any(e["action"] == "update" for e in first["access_log"])

    new = api.register(name="Someone else", timezone="UTC")
    r = client.post(IMPORT, json=first, headers=new.headers)
    assert r.status_code == 200, r.text
    assert r.json() == dict(zip(RECORD_KINDS, [4, 3, 2, 4, 2, 4], strict=True))
    second = export(client, new)

    assert normalise(second) == normalise(first)
    assert ids(second).isdisjoint(ids(first))
    assert second["patient"]["id"] == str(new.patient_id)
    assert {r["version"] for k in RECORD_KINDS for r in second[k]} == {1}
    patient_sessions = [s for s in second["sessions"] if s["recorded_by_role"] == "patient"]
    assert {s["recorded_by"] for s in patient_sessions} == {str(new.user_id)}
    # The old account is untouched, and the new diary works like any other.
    assert normalise(export(client, old)) == normalise(first)
    listed = client.get(episode_url(), headers=new.headers).json()["items"]
    assert len(listed) == 3
    feed = client.get(f"/api/v1/patients/{new.patient_id}/changes?limit=500", headers=new.headers)
    synced = {(c["kind"], c["id"], c["deleted"]) for c in feed.json()["changes"]}
    assert synced >= {("episode", e["id"], e["deleted_at"] is not None) for e in second["episodes"]}
    # The import is on the new account's access log.
    assert any(
        e["resource"] == "/me/import" and e["action"] == "create" for e in second["access_log"]
    )


def test_normalise_still_sees_a_wrong_reference(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    """The comparison can fail: a session pointing at the other series is a difference."""
    alice = api.register()
    seed_rich_patient(client, alice)
    doc = export(client, alice)
    swapped = copy.deepcopy(doc)
    swapped["sessions"][0]["series_id"] = doc["series"][1]["id"]
    assert normalise(swapped) != normalise(doc)
    shifted = copy.deepcopy(doc)
    shifted["episodes"][0]["created_at"] = "2026-01-01T00:00:00Z"
    assert normalise(shifted) != normalise(doc)


def _minimal(patient_id: str = "6f1c2a3e-0d7b-4f55-9a51-2b0c9f1e4a10") -> dict[str, Any]:
    stamp = {
        "version": 1,
        "created_at": "2026-03-01T08:00:00Z",
        "updated_at": "2026-03-01T08:00:00Z",
    }
    return {
        "format": "paindiary-export",
        "version": 1,
        "exported_at": "2026-03-02T09:00:00Z",
        "patient": {
            "id": patient_id,
            "display_name": "Moved",
            "timezone": "Europe/Vienna",
            "birth_year": 1980,
            "weight_kg": None,
            "diagnosis": {"ichd3_type": "idiopathic", "side": "left", "branches": ["V1"]},
            **stamp,
        },
        "episodes": [{"id": new_id(), **episode(), **stamp}],
        "series": [
            {"id": (sid := new_id()), "name": "IV", "modality": "ketamine_iv", **stamp},
        ],
        "sessions": [
            {
                "id": new_id(),
                "series_id": sid,
                "started_at": "2026-03-05T09:00:00+01:00",
                "duration_minutes": 40,
                "route": "iv",
                "recorded_by": new_id(),
                "recorded_by_role": "clinician",
                **stamp,
            }
        ],
        "assessments": [
            {
                "id": new_id(),
                "instrument": "pgic",
                "taken_at": "2026-03-06T09:00:00Z",
                "items": [2],
                "total": 2,
                "series_id": sid,
                **stamp,
            }
        ],
    }


def _bad(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = _minimal()
    target: Any = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "loc"),
    [
        (_bad(("episodes", 0, "intensity"), 11), ["body", "episodes", 0, "intensity"]),
        (
            _bad(("episodes", 0, "started_at"), "2026-03-01T08:00:00"),
            ["body", "episodes", 0, "started_at"],
        ),
        (
            _bad(("sessions", 0, "series_id"), str(uuid.uuid4())),
            ["body", "sessions", 0, "series_id"],
        ),
        (
            _bad(("assessments", 0, "series_id"), str(uuid.uuid4())),
            ["body", "assessments", 0, "series_id"],
        ),
        (_bad(("assessments", 0, "total"), 3), ["body", "assessments", 0, "total"]),
        (_bad(("assessments", 0, "items"), [9]), ["body", "assessments", 0, "items", 0]),
        (_bad(("sessions", 0, "route"), "rectal"), ["body", "sessions", 0, "route"]),
        (_bad(("patient", "timezone"), "Mars/Olympus"), ["body", "patient", "timezone"]),
        (_bad(("format",), "something-else"), ["body", "format"]),
        (_bad(("episodes", 0, "surprise"), 1), ["body", "episodes", 0, "surprise"]),
    ],
)
def test_a_bad_document_is_a_422_naming_the_path_and_writes_nothing(
    api: Api, client: TestClient, doc: dict[str, Any], loc: list[Any]
) -> None:
    alice = api.register(name="Alice")
    before = export(client, alice)
    body = assert_problem(client.post(IMPORT, json=doc, headers=alice.headers), 422)
    assert body["errors"][0]["loc"] == loc
    assert normalise(export(client, alice)) == normalise(before)


def test_duplicates_within_the_document_are_refused(api: Api, client: TestClient) -> None:
    alice = api.register()
    doc = _minimal()
    doc["episodes"].append(copy.deepcopy(doc["episodes"][0]))
    body = assert_problem(client.post(IMPORT, json=doc, headers=alice.headers), 422)
    assert body["errors"][0]["loc"] == ["body", "episodes", 1, "id"]


def test_import_only_into_an_empty_patient_account(api: Api, client: TestClient) -> None:
    alice = api.register()
    doc = _minimal()
    r = client.post(IMPORT, json=doc, headers=alice.headers)
    assert r.status_code == 200, r.text
    imported = export(client, alice)
    assert imported["patient"]["diagnosis"]["ichd3_type"] == "idiopathic"
    assert imported["patient"]["timezone"] == "Europe/Vienna"
    # A clinician's session keeps its recorder; the assessment follows its series.
    assert imported["sessions"][0]["recorded_by"] == doc["sessions"][0]["recorded_by"]
    assert imported["assessments"][0]["series_id"] == imported["series"][0]["id"]
    # Again (a retry, or a second document): the diary is not empty any more.
    assert_problem(client.post(IMPORT, json=doc, headers=alice.headers), 409)
    assert normalise(export(client, alice)) == normalise(imported)
    clinician = api.staff("clinician")
    assert_problem(client.post(IMPORT, json=doc, headers=clinician.headers), 403)
    bob = api.register()
    client.put(episode_url(eid=new_id()), json=episode(), headers=bob.headers)
    assert_problem(client.post(IMPORT, json=doc, headers=bob.headers), 409)


def test_a_document_over_one_mib_is_accepted(api: Api, client: TestClient) -> None:
    """Whole diaries exceed the usual 1 MiB body cap; /me/import takes up to 32 MiB."""
    alice = api.register()
    doc = _minimal()
    doc["access_log"] = [{"padding": "x" * 1000}] * 1500  # accepted, not imported
    r = client.post(IMPORT, json=doc, headers=alice.headers)
    assert r.status_code == 200, r.text
    assert r.json()["episodes"] == 1


def test_clinicians_get_their_account_and_grants_partners_have_nothing(
    api: Api, client: TestClient
) -> None:
    alice = api.register()
    clinician = api.staff_named("clinician", "Dr Lee")
    api.grant(alice, to=clinician, access="write")
    doc = export(client, clinician)
    assert doc["account"]["display_name"] == "Dr Lee"
    assert doc["patient"] is None
    assert all(doc[k] == [] for k in (*RECORD_KINDS, "grants", "access_log"))
    (grant,) = doc["grants_received"]
    assert (grant["patient_id"], grant["access"]) == (str(alice.patient_id), "write")
    # The patient's export lists the grant they gave.
    (given,) = export(client, alice)["grants"]
    assert (given["grantee_email"], given["active"]) == (clinician.email, True)
    partner = api.partner()
    assert_problem(client.get(EXPORT, headers=partner.headers), 403)
    assert_problem(client.get(EXPORT), 401)


def test_the_documented_example_imports(api: Api, client: TestClient) -> None:
    example = ImportDocument.model_json_schema()["examples"][0]
    alice = api.register()
    r = client.post(IMPORT, json=example, headers=alice.headers)
    assert r.status_code == 200, r.text
    assert (r.json()["episodes"], r.json()["checkins"]) == (1, 1)
