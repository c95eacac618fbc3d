"""Treatment sessions: CRUD under their series, who recorded them, flags, dose derivation."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.diary import changes_url, new_id, series, series_url, session_url, treatment_session
from tests.helpers import Account, Api, assert_problem, patch_current


def _patient(api: Api, client: TestClient, weight_kg: float | None = None) -> tuple[Account, str]:
    """A patient (with this weight) and one of their series."""
    alice = api.register()
    if weight_kg is not None:
        r = patch_current(
            client, "/api/v1/patients/me", json={"weight_kg": weight_kg}, headers=alice.headers
        )
        assert r.status_code == 200, r.text
    sid = new_id()
    assert client.put(series_url(sid=sid), json=series(), headers=alice.headers).status_code == 201
    return alice, sid


def test_crud(api: Api, client: TestClient) -> None:
    alice, sid = _patient(api, client)
    h = alice.headers
    session_id = new_id()
    url = session_url(sid, session_id)
    body = treatment_session(
        dose_mg=35,
        pain_before=7,
        pain_after=3,
        vitals={"systolic_max": 150, "diastolic_max": 90},
        adverse_effects=[
            {"effect": "nausea", "severity": "mild"},
            {"effect": "dissociation", "severity": "moderate"},
        ],
        notes="tolerated well",
    )
    r = client.put(url, json=body, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["id"], created["series_id"], created["version"]) == (session_id, sid, 1)
    assert r.headers["etag"] == '"1"'
    # Returned in the offset it was written with (tests.diary.treatment_session: +01:00).
    assert created["started_at"] == "2026-03-02T09:00:00+01:00"
    assert (created["completed"], created["flags"], created["recorded_by_role"]) == (
        True,
        [],
        "patient",
    )
    assert created["recorded_by"] == str(alice.user_id)
    assert created["vitals"] == {
        "systolic_max": 150,
        "diastolic_max": 90,
        "heart_rate_max": None,
        "spo2_min": None,
    }
    # Effects come back in the contract's order, so the same list in any order is the same state.
    assert [e["effect"] for e in created["adverse_effects"]] == ["dissociation", "nausea"]
    body["adverse_effects"].reverse()
    again = client.put(url, json=body, headers=h)
    assert (again.status_code, again.json()) == (200, created)
    got = client.get(url, headers=h)
    assert (got.json(), got.headers["etag"], got.headers["cache-control"]) == (
        created,
        '"1"',
        "no-store",
    )

    r = client.patch(url, json={"pain_after": 2}, headers={**h, "If-Match": '"1"'})
    assert (r.json()["pain_after"], r.json()["version"], r.headers["etag"]) == (2, 2, '"2"')
    stale = {**h, "If-Match": '"1"'}
    assert_problem(patch_current(client, url, json={"pain_after": 9}, headers=stale), 412)
    assert_problem(client.put(url, json=treatment_session(), headers=stale), 412)
    assert_problem(client.delete(url, headers=stale), 412)
    assert client.get(url, headers=h).json()["pain_after"] == 2
    # Vitals merge member by member; null clears them all.
    r = patch_current(client, url, json={"vitals": {"spo2_min": 94}}, headers=h)
    assert r.json()["vitals"] == {
        "systolic_max": 150,
        "diastolic_max": 90,
        "heart_rate_max": None,
        "spo2_min": 94,
    }
    assert patch_current(client, url, json={"vitals": None}, headers=h).json()["vitals"] is None
    r = client.put(url, json=treatment_session(route="intranasal"), headers=h)
    replaced = r.json()
    assert (r.status_code, replaced["route"], replaced["dose_mg"], replaced["notes"]) == (
        200,
        "intranasal",
        None,
        None,
    )
    assert replaced["adverse_effects"] == []

    r = client.delete(url, headers={**h, "If-Match": f'"{replaced["version"]}"'})
    assert (r.status_code, r.headers["etag"]) == (204, f'"{replaced["version"] + 1}"')
    assert_problem(client.get(url, headers=h), 404)
    assert_problem(patch_current(client, url, json={}, headers=h), 404)
    assert_problem(client.delete(url, headers=h), 404)
    assert_problem(client.put(url, json=treatment_session(), headers=h), 409)
    assert client.get(session_url(sid), headers=h).json()["items"] == []


def test_post_retries_and_listing(api: Api, client: TestClient) -> None:
    alice, sid = _patient(api, client)
    h = alice.headers
    keyed = {**h, "Idempotency-Key": "infusion-1"}
    first = client.post(session_url(sid), json=treatment_session(), headers=keyed)
    assert first.status_code == 201, first.text
    assert first.headers["location"].endswith(f"/series/{sid}/sessions/{first.json()['id']}")
    retry = client.post(session_url(sid), json=treatment_session(), headers=keyed)
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert retry.headers["idempotent-replayed"] == "true"
    other = client.post(session_url(sid), json=treatment_session(pain_before=5), headers=keyed)
    assert assert_problem(other, 422)["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    # The same key and body for another series is another request, too.
    sid2 = client.post(series_url(), json=series(), headers=h).json()["id"]
    r = client.post(session_url(sid2), json=treatment_session(), headers=keyed)
    assert_problem(r, 422)

    own = new_id()
    body = treatment_session(id=own, started_at="2026-03-04T09:00:00+01:00")
    assert client.post(session_url(sid), json=body, headers=h).status_code == 201
    assert client.post(session_url(sid), json=body, headers=h).status_code == 200
    assert_problem(client.post(session_url(sid2), json=body, headers=h), 409)
    late = treatment_session(started_at="2026-03-03T09:00:00+01:00")
    middle = client.post(session_url(sid), json=late, headers=h).json()["id"]

    page = client.get(session_url(sid), params={"limit": 2}, headers=h).json()
    rest = client.get(session_url(sid), params={"cursor": page["next_cursor"]}, headers=h).json()
    assert [s["id"] for s in page["items"] + rest["items"]] == [own, middle, first.json()["id"]]
    assert client.get(session_url(sid2), headers=h).json()["items"] == []


def test_a_session_stays_in_its_series_and_with_its_patient(api: Api, client: TestClient) -> None:
    alice, sid = _patient(api, client)
    bob, bobs_series = _patient(api, client)
    h = alice.headers
    other_sid = client.post(series_url(), json=series(), headers=h).json()["id"]
    session_id = new_id()
    client.put(session_url(sid, session_id), json=treatment_session(), headers=h)
    moved = client.put(session_url(other_sid, session_id), json=treatment_session(), headers=h)
    assert "cannot move" in assert_problem(moved, 409)["detail"]
    for r in (
        client.get(session_url(other_sid, session_id), headers=h),
        patch_current(
            client, session_url(other_sid, session_id), json={"pain_after": 1}, headers=h
        ),
        client.delete(session_url(other_sid, session_id), headers=h),
    ):
        assert_problem(r, 404)
    r = client.put(
        session_url(other_sid, new_id()), json=treatment_session(series_id=sid), headers=h
    )
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "series_id"]

    # Another patient's session id: 409 on write, hidden on read; their series: 404.
    assert_problem(
        client.put(
            session_url(bobs_series, session_id), json=treatment_session(), headers=bob.headers
        ),
        409,
    )
    assert_problem(client.get(session_url(sid, session_id), headers=bob.headers), 404)
    assert_problem(client.get(session_url(bobs_series), headers=h), 404)
    assert_problem(client.post(session_url(bobs_series), json=treatment_session(), headers=h), 404)
    assert_problem(
        client.get(session_url(sid, session_id, pid=alice.patient_id), headers=bob.headers), 404
    )
    got = client.get(session_url(sid, session_id), headers=h).json()
    assert (got["version"], got["series_id"]) == (1, sid)
    assert client.get(session_url(bobs_series), headers=bob.headers).json()["items"] == []


def test_recorded_by_is_the_writer_and_read_only_clinicians_cannot_write(
    api: Api, client: TestClient
) -> None:
    alice, sid = _patient(api, client)
    writer, reader = api.staff("clinician"), api.staff("clinician")
    api.grant(alice, to=writer, access="write")
    api.grant(alice, to=reader, access="read")
    pid = alice.patient_id
    session_id = new_id()
    url = session_url(sid, session_id, pid=pid)
    r = client.put(url, json=treatment_session(dose_mg=30), headers=writer.headers)
    assert r.status_code == 201, r.text
    assert (r.json()["recorded_by"], r.json()["recorded_by_role"]) == (
        str(writer.user_id),
        "clinician",
    )
    # The same content again, from the patient, changes nothing, not even the recorder.
    same = client.put(url, json=treatment_session(dose_mg=30), headers=alice.headers)
    assert (same.json()["version"], same.json()["recorded_by"]) == (1, str(writer.user_id))
    r = patch_current(client, url, json={"pain_after": 2}, headers=alice.headers)
    assert (r.json()["recorded_by"], r.json()["recorded_by_role"], r.json()["version"]) == (
        str(alice.user_id),
        "patient",
        2,
    )
    posted = client.post(
        session_url(sid, pid=pid), json=treatment_session(), headers=writer.headers
    )
    assert (posted.status_code, posted.json()["recorded_by"]) == (201, str(writer.user_id))
    assert client.post(series_url(pid), json=series(), headers=writer.headers).status_code == 201

    before = client.get(url, headers=reader.headers).json()
    for r in (
        client.put(url, json=treatment_session(), headers=reader.headers),
        client.post(session_url(sid, pid=pid), json=treatment_session(), headers=reader.headers),
        patch_current(client, url, json={"pain_after": 0}, headers=reader.headers),
        client.delete(url, headers=reader.headers),
        client.post(series_url(pid), json=series(), headers=reader.headers),
    ):
        assert_problem(r, 403)
    assert client.get(url, headers=alice.headers).json() == before
    listed = client.get(session_url(sid, pid=pid), headers=reader.headers).json()["items"]
    assert len(listed) == 2


def test_an_incomplete_session_is_stored_listed_and_flagged(api: Api, client: TestClient) -> None:
    alice, sid = _patient(api, client, weight_kg=70)
    h = alice.headers
    body = treatment_session(
        completed=False,
        duration_minutes=15,
        dose_mg_per_kg=0.2,
        vitals={"systolic_max": 185, "diastolic_max": 100},
        adverse_effects=[{"effect": "hypertension", "severity": "severe"}],
        notes="stopped after 15 minutes: blood pressure",
    )
    r = client.post(session_url(sid), json=body, headers=h)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert (stored["completed"], stored["flags"]) == (False, ["incomplete", "hypertension_reading"])
    assert client.get(session_url(sid, stored["id"]), headers=h).json() == stored
    assert client.get(session_url(sid), headers=h).json()["items"] == [stored]
    feed = client.get(changes_url(), headers=h).json()["changes"]
    assert feed[-1] == {
        "kind": "session",
        "id": stored["id"],
        "deleted": False,
        "version": 1,
        "data": stored,
    }
    r = patch_current(
        client, session_url(sid, stored["id"]), json={"completed": True, "vitals": None}, headers=h
    )
    assert r.json()["flags"] == []


@pytest.mark.parametrize(
    ("vitals", "flagged"),
    [
        ({"systolic_max": 179, "diastolic_max": 109}, False),
        ({"systolic_max": 180}, True),
        ({"diastolic_max": 110}, True),
        ({"heart_rate_max": 140, "spo2_min": 90}, False),
    ],
)
def test_hypertension_flag(
    api: Api, client: TestClient, vitals: dict[str, int], flagged: bool
) -> None:
    alice, sid = _patient(api, client)
    r = client.post(session_url(sid), json=treatment_session(vitals=vitals), headers=alice.headers)
    assert ("hypertension_reading" in r.json()["flags"]) is flagged


# (weight, given fields, stored dose_mg, dose_mg_per_kg, weight_kg, flags)
DOSES: list[
    tuple[float | None, dict[str, Any], float | None, float | None, float | None, list[str]]
] = [
    (70, {"dose_mg_per_kg": 0.5}, 35.0, 0.5, 70.0, []),
    (70, {"dose_mg": 35}, 35.0, 0.5, 70.0, []),
    (70.5, {"dose_mg": 35}, 35.0, 0.496, 70.5, []),  # 0.49645… rounds down
    (72.5, {"dose_mg": 30}, 30.0, 0.414, 72.5, []),  # 0.41379… rounds up
    # 45.3 * 0.5 = 22.65 exactly: half up to 22.7 (binary floats would give 22.6).
    (45.3, {"dose_mg_per_kg": 0.5}, 22.7, 0.5, 45.3, []),
    (70, {"dose_mg": 36.75, "dose_mg_per_kg": 0.5}, 36.75, 0.5, 70.0, []),  # 5 %: still agrees
    (70, {"dose_mg": 33.25, "dose_mg_per_kg": 0.5}, 33.25, 0.5, 70.0, []),
    (None, {"dose_mg": 35}, 35.0, None, None, []),
    (None, {"dose_mg_per_kg": 0.5}, None, 0.5, None, []),
    (None, {"dose_mg": 90, "dose_mg_per_kg": 0.5}, 90.0, 0.5, None, ["dose_unverified"]),
    (70, {}, None, None, None, []),
]


@pytest.mark.parametrize(("weight", "given", "mg", "per_kg", "used", "flags"), DOSES)
def test_dose_derivation(
    api: Api,
    client: TestClient,
    weight: float | None,
    given: dict[str, Any],
    mg: float | None,
    per_kg: float | None,
    used: float | None,
    flags: list[str],
) -> None:
    alice, sid = _patient(api, client, weight_kg=weight)
    r = client.put(
        session_url(sid, new_id()), json=treatment_session(**given), headers=alice.headers
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["dose_mg"], out["dose_mg_per_kg"], out["weight_kg"], out["flags"]) == (
        mg,
        per_kg,
        used,
        flags,
    )


@pytest.mark.parametrize(
    ("weight", "given", "loc"),
    [
        (70, {"dose_mg": 36.8, "dose_mg_per_kg": 0.5}, "dose_mg_per_kg"),  # just over 5 %
        (70, {"dose_mg": 33.2, "dose_mg_per_kg": 0.5}, "dose_mg_per_kg"),
        (70, {"dose_mg": 350, "dose_mg_per_kg": 0.5}, "dose_mg_per_kg"),  # a slipped decimal
        (300, {"dose_mg_per_kg": 20}, "dose_mg_per_kg"),  # 6000 mg: beyond any dose
        (500, {"dose_mg": 0.2}, "dose_mg"),  # 0.0004 mg/kg rounds to nothing
    ],
)
def test_doses_that_cannot_be_stored_are_refused(
    api: Api, client: TestClient, weight: float, given: dict[str, Any], loc: str
) -> None:
    alice, sid = _patient(api, client, weight_kg=weight)
    body = treatment_session(**given)
    for r in (
        client.put(session_url(sid, new_id()), json=body, headers=alice.headers),
        client.post(session_url(sid), json=body, headers=alice.headers),
    ):
        assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", loc]
    assert client.get(session_url(sid), headers=alice.headers).json()["items"] == []


def test_patching_one_dose_form_derives_the_other_afresh(api: Api, client: TestClient) -> None:
    alice, sid = _patient(api, client, weight_kg=70)
    h = alice.headers
    url = session_url(sid, new_id())
    client.put(url, json=treatment_session(dose_mg_per_kg=0.5), headers=h)
    r = patch_current(client, url, json={"dose_mg": 28}, headers=h)
    assert (r.json()["dose_mg"], r.json()["dose_mg_per_kg"]) == (28.0, 0.4)
    r = patch_current(client, url, json={"dose_mg": 30, "dose_mg_per_kg": 0.5}, headers=h)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "dose_mg_per_kg"]
    # Another weight later: stored sessions keep the weight they were computed with …
    patch_current(client, "/api/v1/patients/me", json={"weight_kg": 80}, headers=h)
    assert client.get(url, headers=h).json()["weight_kg"] == 70.0
    r = patch_current(client, url, json={"pain_before": 6}, headers=h)
    assert (r.json()["dose_mg"], r.json()["weight_kg"]) == (28.0, 70.0)
    # … until a dose is written again.
    r = patch_current(client, url, json={"dose_mg_per_kg": 0.5}, headers=h)
    assert (r.json()["dose_mg"], r.json()["weight_kg"]) == (40.0, 80.0)
    # Without a weight, the form sent alone stands alone.
    patch_current(client, "/api/v1/patients/me", json={"weight_kg": None}, headers=h)
    r = patch_current(client, url, json={"dose_mg": 40}, headers=h)
    assert (r.json()["dose_mg"], r.json()["dose_mg_per_kg"], r.json()["weight_kg"]) == (
        40.0,
        None,
        None,
    )


def test_a_partner_with_diary_write_records_as_itself(api: Api, client: TestClient) -> None:
    alice, sid = _patient(api, client)
    partner = api.partner(("diary:read", "diary:write"))
    api.grant(alice, to=partner, access="write")
    url = session_url(sid, pid=alice.patient_id)
    r = client.post(url, json=treatment_session(), headers=partner.headers)
    assert r.status_code == 201, r.text
    assert (r.json()["recorded_by"], r.json()["recorded_by_role"]) == (partner.client_id, "partner")
    read_only = api.partner_token(partner, "diary:read")
    assert_problem(client.post(url, json=treatment_session(), headers=read_only), 403)
    assert len(client.get(url, headers=alice.headers).json()["items"]) == 1
