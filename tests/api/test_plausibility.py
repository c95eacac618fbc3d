"""The diary's plausibility rules (API.md, Conventions, Diary and Treatments), through every way
in: PUT, POST, PATCH, the batch upload and /me/import.

- ``started_at`` is an RFC 3339 text (never a number) from 2000-01-01 to at most ten minutes
  ahead of the server clock: else 422 naming it, nothing stored, the change feed unchanged.
- A check-in saying ``no_attacks: true`` on a local day with a live episode is a 409; an episode
  written on a day whose check-in says so clears the flag (a new version the feed reports).
  A check-in must say ``no_attacks`` (an empty ``{}`` is a 422).
- PATCH requires If-Match: 428 without it, and nothing changes.
- Dose safety: above 2.0 mg/kg/h iv or 5 mg/kg in total is a 422 naming the figures unless
  ``high_dose_confirmed: true`` (then stored, flagged, audited); above 1.0 mg/kg/h iv flagged.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.diary import (
    changes_url,
    checkin_url,
    episode,
    episode_url,
    medication,
    medication_url,
    new_id,
    series,
    series_url,
    session_url,
    treatment_session,
)
from tests.helpers import Account, Api, assert_problem

BATCH = episode_url() + "/batch"
EXPORT, IMPORT = "/api/v1/me/export", "/api/v1/me/import"


def feed(client: TestClient, who: Account) -> list[tuple[str, str, int]]:
    """The whole change feed as (kind, id, version)."""
    r = client.get(changes_url(), params={"limit": 500}, headers=who.headers)
    assert r.status_code == 200, r.text
    return [(c["kind"], c["id"], c["version"]) for c in r.json()["changes"]]


def _in(minutes: int) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


# --- started_at --------------------------------------------------------------------------------

IMPLAUSIBLE: list[tuple[Any, str]] = [
    (0, "RFC 3339"),  # epoch seconds: no offset, so no local day
    (5, "RFC 3339"),
    (1772352900, "RFC 3339"),
    (1.5, "RFC 3339"),
    ("1970-01-01T00:00:00Z", "2000-01-01"),  # a phone whose clock was reset
    ("1900-01-01T08:00:00+01:00", "2000-01-01"),
    ("1999-12-31T23:59:59+01:00", "2000-01-01"),
    ("FUTURE", "future"),
]


def _value(value: Any) -> Any:
    return _in(60) if value == "FUTURE" else value


def _assert_names_started_at(problem: dict[str, Any], says: str, prefix: list[Any]) -> None:
    errors = [
        e for e in problem["errors"] if e["loc"][: len(prefix) + 1] == [*prefix, "started_at"]
    ]
    assert errors, problem
    assert says in errors[0]["msg"], errors


@pytest.mark.parametrize(("value", "says"), IMPLAUSIBLE)
def test_an_implausible_started_at_is_refused_everywhere(
    api: Api, client: TestClient, value: Any, says: str
) -> None:
    alice = api.register()
    h = alice.headers
    kept = client.put(episode_url(eid=new_id()), json=episode(), headers=h).json()
    sid = client.post(series_url(), json=series(), headers=h).json()["id"]
    before = feed(client, alice)
    body = episode(started_at=_value(value))

    problem = assert_problem(client.put(episode_url(eid=new_id()), json=body, headers=h), 422)
    _assert_names_started_at(problem, says, ["body"])
    problem = assert_problem(client.post(episode_url(), json=body, headers=h), 422)
    _assert_names_started_at(problem, says, ["body"])
    r = client.patch(
        episode_url(eid=kept["id"]),
        json={"started_at": _value(value)},
        headers={**h, "If-Match": '"1"'},
    )
    _assert_names_started_at(assert_problem(r, 422), says, ["body"])
    r = client.post(BATCH, json={"items": [{**body, "id": (bad := new_id())}]}, headers=h)
    (result,) = r.json()["results"]
    assert (result["id"], result["status"]) == (bad, "invalid")
    assert result["error"]["errors"][0]["loc"] == ["started_at"]
    assert says in result["error"]["detail"]
    # A treatment session's started_at follows the same rule.
    session = treatment_session(started_at=_value(value))
    problem = assert_problem(client.post(session_url(sid), json=session, headers=h), 422)
    _assert_names_started_at(problem, says, ["body"])
    r = client.put(session_url(sid, new_id()), json=session, headers=h)
    _assert_names_started_at(assert_problem(r, 422), says, ["body"])

    assert feed(client, alice) == before
    items = client.get(episode_url(), headers=h).json()["items"]
    assert [(e["id"], e["version"]) for e in items] == [(kept["id"], 1)]
    assert client.get(session_url(sid), headers=h).json()["items"] == []


@pytest.mark.parametrize(("value", "says"), IMPLAUSIBLE)
def test_an_import_with_an_implausible_started_at_writes_nothing(
    api: Api, client: TestClient, value: Any, says: str
) -> None:
    alice, bob = api.register(), api.register()
    client.put(episode_url(eid=new_id()), json=episode(), headers=alice.headers)
    doc = client.get(EXPORT, headers=alice.headers).json()
    doc["episodes"][0]["started_at"] = _value(value)
    problem = assert_problem(client.post(IMPORT, json=doc, headers=bob.headers), 422)
    _assert_names_started_at(problem, says, ["body", "episodes", 0])
    assert feed(client, bob) == []


def test_the_plausible_edges_are_accepted(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    for started_at in ("2000-01-01T00:00:00+01:00", "2000-01-01T00:00:00Z", _in(5)):
        r = client.put(episode_url(eid=new_id()), json=episode(started_at=started_at), headers=h)
        assert r.status_code == 201, (started_at, r.text)


# --- check-ins and the episodes of their day ----------------------------------------------------


def test_an_empty_check_in_is_refused(api: Api, client: TestClient) -> None:
    alice = api.register()
    problem = assert_problem(
        client.put(checkin_url(day="2026-03-01"), json={}, headers=alice.headers), 422
    )
    assert problem["errors"][0]["loc"] == ["body", "no_attacks"]
    r = client.put(checkin_url(day="2026-03-01"), json={"mood": 5}, headers=alice.headers)
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "no_attacks"]
    assert feed(client, alice) == []


def test_no_attacks_on_a_day_with_an_episode_is_a_409(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    # 23:30 at -05:00 is already 2 March in UTC: its local day is 1 March.
    late = client.put(
        episode_url(eid=new_id()),
        json=episode(started_at="2026-03-01T23:30:00-05:00"),
        headers=h,
    ).json()
    client.put(checkin_url(day="2026-03-01"), json={"no_attacks": False, "mood": 3}, headers=h)
    before = feed(client, alice)
    r = client.put(checkin_url(day="2026-03-01"), json={"no_attacks": True}, headers=h)
    detail = assert_problem(r, 409)["detail"]
    assert "2026-03-01" in detail
    assert "1 episode" in detail
    assert "no_attacks" in detail
    assert client.get(checkin_url(day="2026-03-01"), headers=h).json()["no_attacks"] is False
    assert feed(client, alice) == before
    # The next day (in UTC the episode's day) may say no attacks.
    r = client.put(checkin_url(day="2026-03-02"), json={"no_attacks": True}, headers=h)
    assert r.status_code == 201, r.text
    # A deleted episode is no attack any more.
    client.delete(episode_url(eid=late["id"]), headers=h)
    r = client.put(checkin_url(day="2026-03-01"), json={"no_attacks": True}, headers=h)
    assert (r.status_code, r.json()["version"]) == (200, 2)


@pytest.mark.parametrize("how", ["put", "post", "patch", "batch"])
def test_an_episode_on_a_no_attacks_day_clears_the_flag(
    api: Api, client: TestClient, how: str
) -> None:
    alice = api.register()
    h = alice.headers
    other_day = client.put(
        episode_url(eid=new_id()), json=episode(started_at="2026-02-27T08:00:00+01:00"), headers=h
    ).json()
    client.put(checkin_url(day="2026-02-28"), json={"no_attacks": True}, headers=h)
    # A client polled the feed up to here.
    cursor = client.get(changes_url(), params={"limit": 500}, headers=h).json()["next_cursor"]
    r = client.put(checkin_url(day="2026-03-01"), json={"no_attacks": True}, headers=h)
    assert r.status_code == 201, r.text
    on_the_day = episode(started_at="2026-03-01T07:00:00+01:00")
    if how == "put":
        r = client.put(episode_url(eid=new_id()), json=on_the_day, headers=h)
    elif how == "post":
        r = client.post(episode_url(), json=on_the_day, headers=h)
    elif how == "patch":  # an episode moved onto the day
        r = client.patch(
            episode_url(eid=other_day["id"]),
            json={"started_at": on_the_day["started_at"]},
            headers={**h, "If-Match": '"1"'},
        )
    else:
        r = client.post(BATCH, json={"items": [{**on_the_day, "id": new_id()}]}, headers=h)
        assert r.json()["results"][0]["status"] == "created"
    assert r.status_code in (200, 201), r.text
    checkin = client.get(checkin_url(day="2026-03-01"), headers=h).json()
    assert (checkin["no_attacks"], checkin["version"]) == (False, 2)
    # The other no-attack day is untouched.
    assert client.get(checkin_url(day="2026-02-28"), headers=h).json()["version"] == 1
    changes = client.get(changes_url(), params={"since": cursor}, headers=h).json()["changes"]
    checkins = [
        (c["id"], c["version"], c["data"]["no_attacks"]) for c in changes if c["kind"] == "checkin"
    ]
    assert checkins == [("2026-03-01", 2, False)]


def test_an_unchanged_episode_write_changes_no_check_in(api: Api, client: TestClient) -> None:
    """Only a write that stores something clears the flag; the same PUT again changes nothing."""
    alice = api.register()
    h = alice.headers
    eid = new_id()
    client.put(
        episode_url(eid=eid), json=episode(started_at="2026-03-01T07:00:00+01:00"), headers=h
    )
    checkin = client.get(checkin_url(day="2026-03-01"), headers=h)
    assert checkin.status_code == 404
    client.put(checkin_url(day="2026-03-01"), json={"no_attacks": False}, headers=h)
    before = feed(client, alice)
    r = client.put(
        episode_url(eid=eid), json=episode(started_at="2026-03-01T07:00:00+01:00"), headers=h
    )
    assert (r.status_code, r.json()["version"]) == (200, 1)
    assert feed(client, alice) == before


def _doc_with_checkin(client: TestClient, who: Account, no_attacks: bool) -> dict[str, Any]:
    client.put(
        episode_url(eid=new_id()),
        json=episode(started_at="2026-03-01T07:00:00+01:00"),
        headers=who.headers,
    )
    client.put(checkin_url(day="2026-03-01"), json={"no_attacks": False}, headers=who.headers)
    doc: dict[str, Any] = client.get(EXPORT, headers=who.headers).json()
    doc["checkins"][0]["no_attacks"] = no_attacks
    return doc


def test_an_import_whose_check_in_denies_its_days_attacks_is_a_409(
    api: Api, client: TestClient
) -> None:
    alice, bob = api.register(), api.register()
    doc = _doc_with_checkin(client, alice, no_attacks=True)
    problem = assert_problem(client.post(IMPORT, json=doc, headers=bob.headers), 409)
    assert "body.checkins.0.no_attacks" in problem["detail"]
    assert "2026-03-01" in problem["detail"]
    assert feed(client, bob) == []
    # A deleted episode does not count; the same document then imports.
    doc["episodes"][0]["deleted_at"] = doc["episodes"][0]["updated_at"]
    r = client.post(IMPORT, json=doc, headers=bob.headers)
    assert r.status_code == 200, r.text
    assert client.get(checkin_url(day="2026-03-01"), headers=bob.headers).json()["no_attacks"]


def test_an_import_needs_no_attacks_on_every_check_in(api: Api, client: TestClient) -> None:
    alice, bob = api.register(), api.register()
    doc = _doc_with_checkin(client, alice, no_attacks=False)
    del doc["checkins"][0]["no_attacks"]
    problem = assert_problem(client.post(IMPORT, json=doc, headers=bob.headers), 422)
    assert problem["errors"][0]["loc"] == ["body", "checkins", 0, "no_attacks"]
    assert feed(client, bob) == []


# --- PATCH requires If-Match -------------------------------------------------------------------


def _patchable(client: TestClient, who: Account) -> list[tuple[str, dict[str, Any]]]:
    """(url, a change) for every kind of record PATCH changes."""
    h = who.headers
    eid = client.post(episode_url(), json=episode(), headers=h).json()["id"]
    mid = client.post(medication_url(), json=medication(), headers=h).json()["id"]
    sid = client.post(series_url(), json=series(), headers=h).json()["id"]
    tid = client.post(session_url(sid), json=treatment_session(), headers=h).json()["id"]
    return [
        (episode_url(eid=eid), {"intensity": 2}),
        (medication_url(mid=mid), {"name": "oxcarbazepine"}),
        (series_url(sid=sid), {"name": "Renamed"}),
        (session_url(sid, tid), {"pain_after": 1}),
        ("/api/v1/patients/me", {"weight_kg": 70}),
    ]


def test_a_patch_without_if_match_is_a_428_and_changes_nothing(
    api: Api, client: TestClient
) -> None:
    alice = api.register()
    h = alice.headers
    targets = _patchable(client, alice)
    before = feed(client, alice)
    for url, change in targets:
        old = client.get(url, headers=h).json()
        problem = assert_problem(client.patch(url, json=change, headers=h), 428)
        assert "If-Match" in problem["detail"], problem
        # An empty If-Match names no version either.
        assert_problem(client.patch(url, json=change, headers={**h, "If-Match": ""}), 428)
        # Even an invalid body: the missing precondition is reported first.
        assert_problem(client.patch(url, json={"nonsense": 1}, headers=h), 428)
        assert client.get(url, headers=h).json() == old
    assert feed(client, alice) == before
    for url, change in targets:  # with the version read: changed
        old = client.get(url, headers=h)
        r = client.patch(url, json=change, headers={**h, "If-Match": old.headers["etag"]})
        assert r.status_code == 200, (url, r.text)
        assert r.json()["version"] == old.json()["version"] + 1


def test_a_patch_of_someone_elses_record_is_still_a_404(api: Api, client: TestClient) -> None:
    alice, bob = api.register(), api.register()
    r = client.patch(
        f"/api/v1/patients/{alice.patient_id}", json={"weight_kg": 60}, headers=bob.headers
    )
    assert_problem(r, 404)


def test_the_openapi_document_says_patch_requires_if_match(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    patches = [(path, ops["patch"]) for path, ops in document["paths"].items() if "patch" in ops]
    assert len(patches) == 5
    for path, operation in patches:
        (header,) = [p for p in operation["parameters"] if p["name"] == "If-Match"]
        assert (header["in"], header["required"]) == ("header", True), path
        assert "428" in operation["responses"], path


# --- dose safety -------------------------------------------------------------------------------


def _weighed(api: Api, client: TestClient, kg: float = 64) -> tuple[Account, str]:
    alice = api.register()
    r = client.patch(
        "/api/v1/patients/me", json={"weight_kg": kg}, headers={**alice.headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    sid = client.post(series_url(), json=series(), headers=alice.headers).json()["id"]
    return alice, sid


HIGH_DOSES: list[tuple[dict[str, Any], list[str]]] = [
    # The case: 15 mg/kg (960 mg for 64 kg) in one IV session.
    ({"dose_mg_per_kg": 15, "duration_minutes": 40}, ["15", "5 mg/kg"]),
    ({"dose_mg": 960, "duration_minutes": 40}, ["15.0", "5 mg/kg"]),  # mg/kg derived
    # 0.8 mg/kg over 20 minutes is 2.4 mg/kg/h.
    ({"dose_mg_per_kg": 0.8, "duration_minutes": 20}, ["0.8", "20 minutes", "2.4 mg/kg/h"]),
    # Any route: 6 mg/kg orally.
    ({"dose_mg_per_kg": 6, "duration_minutes": 30, "route": "oral"}, ["6", "5 mg/kg"]),
]


@pytest.mark.parametrize(("fields", "says"), HIGH_DOSES)
def test_a_high_dose_is_a_422_naming_the_figures_unless_confirmed(
    api: Api, client: TestClient, fields: dict[str, Any], says: list[str]
) -> None:
    alice, sid = _weighed(api, client)
    h = alice.headers
    before = feed(client, alice)
    body = treatment_session(**fields)
    for r in (
        client.post(session_url(sid), json=body, headers=h),
        client.put(session_url(sid, new_id()), json=body, headers=h),
        client.put(
            session_url(sid, new_id()), json={**body, "high_dose_confirmed": False}, headers=h
        ),
    ):
        problem = assert_problem(r, 422)
        assert problem["errors"][0]["loc"] == ["body", "dose_mg_per_kg"]
        for figure in says:
            assert figure in problem["detail"], (figure, problem["detail"])
        assert "high_dose_confirmed" in problem["detail"]
    assert client.get(session_url(sid), headers=h).json()["items"] == []
    assert feed(client, alice) == before

    r = client.post(session_url(sid), json={**body, "high_dose_confirmed": True}, headers=h)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["high_dose_confirmed"] is True
    assert "high_dose" in stored["flags"]
    log = client.get("/api/v1/patients/me/access-log", headers=h).json()["items"]
    assert any(
        e["action"] == "create" and e["resource"].endswith("(high_dose_confirmed)") for e in log
    ), log


def test_an_iv_rate_above_usual_is_flagged_not_refused(api: Api, client: TestClient) -> None:
    alice, sid = _weighed(api, client)
    h = alice.headers
    # 0.5 mg/kg over 20 minutes: 1.5 mg/kg/h.
    fast = client.post(
        session_url(sid), json=treatment_session(dose_mg_per_kg=0.5, duration_minutes=20), headers=h
    ).json()
    assert "dose_rate_above_usual" in fast["flags"]
    assert "high_dose" not in fast["flags"]
    # The same dose over 40 minutes (0.75 mg/kg/h), or not by vein, is usual.
    usual = client.post(
        session_url(sid), json=treatment_session(dose_mg_per_kg=0.5, duration_minutes=40), headers=h
    ).json()
    assert usual["flags"] == []
    assert usual["high_dose_confirmed"] is False
    nasal = client.post(
        session_url(sid),
        json=treatment_session(dose_mg_per_kg=0.5, duration_minutes=20, route="intranasal"),
        headers=h,
    ).json()
    assert nasal["flags"] == []


def test_a_patch_that_raises_the_rate_must_confirm_it(api: Api, client: TestClient) -> None:
    alice, sid = _weighed(api, client)
    h = alice.headers
    made = client.post(
        session_url(sid), json=treatment_session(dose_mg_per_kg=0.6, duration_minutes=40), headers=h
    ).json()
    url = session_url(sid, made["id"])
    before = feed(client, alice)
    # 0.6 mg/kg over 15 minutes is 2.4 mg/kg/h.
    r = client.patch(url, json={"duration_minutes": 15}, headers={**h, "If-Match": '"1"'})
    assert "2.4 mg/kg/h" in assert_problem(r, 422)["detail"]
    assert client.get(url, headers=h).json() == made
    assert feed(client, alice) == before
    confirmed = client.patch(
        url,
        json={"duration_minutes": 15, "high_dose_confirmed": True},
        headers={**h, "If-Match": '"1"'},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert {"dose_rate_above_usual", "high_dose"} <= set(confirmed.json()["flags"])
    # A note changes nothing about the dose: the confirmation stands.
    r = client.patch(url, json={"notes": "went well"}, headers={**h, "If-Match": '"2"'})
    assert r.status_code == 200, r.text
    # A new dose is a new figure: confirmed again, or refused.
    r = client.patch(url, json={"dose_mg_per_kg": 0.9}, headers={**h, "If-Match": '"3"'})
    assert "0.9 mg/kg over 15 minutes" in assert_problem(r, 422)["detail"]
    assert client.get(url, headers=h).json()["version"] == 3


def _doc_with_session(client: TestClient, who: Account, **fields: Any) -> dict[str, Any]:
    sid = client.post(series_url(), json=series(), headers=who.headers).json()["id"]
    r = client.post(session_url(sid), json=treatment_session(**fields), headers=who.headers)
    assert r.status_code == 201, r.text
    return dict(client.get(EXPORT, headers=who.headers).json())


def test_an_import_with_an_unconfirmed_high_dose_writes_nothing(
    api: Api, client: TestClient
) -> None:
    alice, _ = _weighed(api, client)
    bob = api.register()
    doc = _doc_with_session(client, alice, dose_mg_per_kg=15, high_dose_confirmed=True)
    assert doc["sessions"][0]["high_dose_confirmed"] is True
    unconfirmed = copy.deepcopy(doc)
    unconfirmed["sessions"][0]["high_dose_confirmed"] = False
    problem = assert_problem(client.post(IMPORT, json=unconfirmed, headers=bob.headers), 422)
    assert problem["errors"][0]["loc"] == ["body", "sessions", 0, "dose_mg_per_kg"]
    assert "15" in problem["detail"]
    assert "5 mg/kg" in problem["detail"]
    del unconfirmed["sessions"][0]["high_dose_confirmed"]  # an older document: not confirmed
    assert_problem(client.post(IMPORT, json=unconfirmed, headers=bob.headers), 422)
    assert feed(client, bob) == []
    # Confirmed, it comes along confirmed, and the import is audited as such.
    r = client.post(IMPORT, json=doc, headers=bob.headers)
    assert r.status_code == 200, r.text
    moved = client.get(EXPORT, headers=bob.headers).json()
    assert moved["sessions"][0]["high_dose_confirmed"] is True
    assert any(e["resource"] == "/me/import (high_dose_confirmed)" for e in moved["access_log"]), (
        moved["access_log"]
    )
