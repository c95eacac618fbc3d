"""CSV export: one row per live episode, local times, formula injection neutralised, streamed."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.services.context import AppContext
from app.services.exports.episodes_csv import COLUMNS, episodes_csv
from app.services.exports.streaming import CHUNK_BYTES
from tests.diary import episode, episode_url, new_id
from tests.helpers import Api, assert_problem

URL = "/api/v1/patients/{pid}/export/episodes.csv"


def read_csv(client: TestClient, pid: object, headers: dict[str, str]) -> list[dict[str, str]]:
    r = client.get(URL.format(pid=pid), headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith('attachment; filename="')
    assert r.headers["cache-control"] == "no-store"
    assert r.text.startswith(",".join(COLUMNS) + "\r\n")
    return list(csv.DictReader(io.StringIO(r.text, newline="")))


def test_one_row_per_live_episode_with_utc_and_local_times(api: Api, client: TestClient) -> None:
    alice = api.register(timezone="Europe/Berlin")
    h = alice.headers
    late, dst, gone = new_id(), new_id(), new_id()
    # 23:30 UTC on 28 March is already 29 March in Berlin; on 29 March the clocks go forward.
    body = episode(
        started_at="2026-03-28T23:30:00Z",
        triggers=["eating", "talking"],
        qualities=["electric"],
        branches=["V2", "V3"],
        side="right",
        rescue_medication="lidocaine",
        note='said "ouch", twice\nthen slept',
    )
    client.put(episode_url(eid=late), json=body, headers=h)
    client.put(episode_url(eid=dst), json=episode(started_at="2026-03-29T01:30:00Z"), headers=h)
    client.put(episode_url(eid=gone), json=episode(), headers=h)
    assert client.delete(episode_url(eid=gone), headers=h).status_code == 204
    rows = read_csv(client, "me", h)
    assert [r["id"] for r in rows] == [late, dst]  # oldest first; the deleted one is left out
    first, second = rows
    assert first["started_at_utc"] == "2026-03-28T23:30:00Z"
    assert first["started_at_local"] == "2026-03-29T00:30:00+01:00"
    assert (first["local_date"], first["timezone"]) == ("2026-03-29", "Europe/Berlin")
    assert second["started_at_local"] == "2026-03-29T03:30:00+02:00"
    assert (first["triggers"], first["qualities"], first["branches"]) == (
        "eating;talking",
        "electric",
        "V2;V3",
    )
    assert (first["side"], first["rescue_medication"]) == ("right", "lidocaine")
    assert first["note"] == 'said "ouch", twice\nthen slept'  # quoted, survives the round trip
    assert (first["duration_seconds"], first["attack_count"], first["intensity"]) == (
        "90",
        "3",
        "7",
    )
    assert (second["side"], second["note"], second["version"]) == ("", "", "1")
    assert first["created_at_utc"].endswith("Z")


def test_cells_that_look_like_formulas_are_neutralised(api: Api, client: TestClient) -> None:
    alice = api.register()
    notes = ['=HYPERLINK("http://evil.example")', "+1+2", "-3", "@SUM(A1)", "\tindent", "fine = ok"]
    for day, note in enumerate(notes, start=1):
        body = episode(
            started_at=f"2026-03-{day:02d}T08:00:00Z",
            note=note,
            rescue_medication="=cmd|' /C calc'!A0",
        )
        assert (
            client.put(episode_url(eid=new_id()), json=body, headers=alice.headers).status_code
            == 201
        )
    rows = read_csv(client, "me", alice.headers)
    assert [r["note"] for r in rows] == ["'" + n for n in notes[:5]] + ["fine = ok"]
    assert {r["rescue_medication"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    for row in rows:  # no cell of any row starts a formula
        assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())


def test_a_large_export_streams_complete_and_releases_its_connection(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    alice = api.register()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    ids = []
    for batch in range(5):
        items = []
        for i in range(500):
            eid = new_id()
            ids.append(eid)
            minute = batch * 500 + i
            items.append(
                episode(
                    id=eid,
                    started_at=(start + timedelta(minutes=minute)).isoformat(),
                    note="x" * 40,
                )
            )
        r = client.post(episode_url() + "/batch", json={"items": items}, headers=alice.headers)
        assert {res["status"] for res in r.json()["results"]} == {"created"}
    rows = read_csv(client, "me", alice.headers)
    assert [r["id"] for r in rows] == ids
    # The body's generator closed its own session: nothing is left checked out of the pool.
    assert ctx.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    # Produced in pieces as the rows are read, not built whole.
    assert alice.patient_id is not None
    chunks = list(episodes_csv(ctx.db, alice.patient_id, "Europe/Berlin"))
    assert len(chunks) > 3
    assert all(len(chunk) >= CHUNK_BYTES for chunk in chunks[:-1])
    assert ctx.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_who_may_export(api: Api, client: TestClient) -> None:
    alice, bob = api.register(), api.register()
    clinician = api.staff("clinician")
    assert_problem(client.get(URL.format(pid=alice.patient_id), headers=bob.headers), 404)
    assert_problem(client.get(URL.format(pid=alice.patient_id), headers=clinician.headers), 404)
    assert_problem(client.get(URL.format(pid=alice.patient_id)), 401)
    api.grant(alice, to=clinician)
    assert read_csv(client, alice.patient_id, clinician.headers) == []


def test_exports_are_rate_limited_per_patient(api: Api, client: TestClient) -> None:
    alice = api.register()
    limit = 10  # settings.export_max_per_patient
    urls = [
        f"/api/v1/patients/{alice.patient_id}/export/episodes.csv",
        f"/api/v1/patients/{alice.patient_id}/export/fhir",
        "/api/v1/me/export",
    ]
    for n in range(limit):
        assert client.get(urls[n % 3], headers=alice.headers).status_code == 200
    for url in urls:
        r = client.get(url, headers=alice.headers)
        assert_problem(r, 429)
        assert int(r.headers["retry-after"]) > 0
    # Another patient is not affected.
    bob = api.register()
    assert client.get("/api/v1/me/export", headers=bob.headers).status_code == 200


def test_a_read_only_grantees_csv_exports_do_not_use_up_the_patients_own_export_quota(
    api: Api, client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: three CSV exports by a read-only clinician left the patient without exports.
    The quota is per (patient, caller): each caller uses up only their own."""
    monkeypatch.setattr(ctx.settings, "export_max_per_patient", 3)
    alice = api.register()
    doctor, colleague = api.staff("clinician"), api.staff("clinician")
    api.grant(alice, to=doctor, access="read")
    api.grant(alice, to=colleague, access="read")
    url = URL.format(pid=alice.patient_id)
    for _ in range(3):
        assert client.get(url, headers=doctor.headers).status_code == 200
    refused = client.get(url, headers=doctor.headers)
    assert_problem(refused, 429)
    assert int(refused.headers["retry-after"]) > 0
    # The patient's own exports, and another grantee's, are untouched.
    for _ in range(3):
        assert client.get(url, headers=alice.headers).status_code == 200
    assert client.get(url, headers=colleague.headers).status_code == 200
    assert_problem(client.get(url, headers=alice.headers), 429)
