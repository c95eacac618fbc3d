"""An episode's or session's started_at keeps the UTC offset it was written with: it comes back in
that offset everywhere, and it alone decides the record's local day, so a later change of the
patient's time zone moves no recorded day (issue 10: relief read 50 days, then 9, after a move).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from tests.diary import (
    changes_url,
    episode,
    episode_url,
    new_id,
    series,
    series_url,
    session_url,
    treatment_session,
)
from tests.helpers import Account, Api, assert_problem, patch_current
from tests.trend_data import episode as attack

API = "/api/v1"
BATCH = f"{API}/patients/me/episodes/batch"


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def feed(client: TestClient, who: Account, since: str | None = None) -> dict[str, Any]:
    params = {"limit": 500} | ({"since": since} if since else {})
    return ok(client.get(changes_url(), params=params, headers=who.headers))


def csv_rows(client: TestClient, who: Account) -> list[dict[str, str]]:
    r = client.get(f"{API}/patients/me/export/episodes.csv", headers=who.headers)
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.text, newline="")))


def fhir(client: TestClient, who: Account) -> dict[str, Any]:
    bundle = ok(client.get(f"{API}/patients/me/export/fhir", headers=who.headers))
    Bundle.model_validate(bundle)
    return bundle


def test_started_at_comes_back_in_its_written_offset_everywhere(
    api: Api, client: TestClient
) -> None:
    alice = api.register(timezone="Europe/Berlin")
    h = alice.headers
    # Logged while travelling: Kolkata, New York, Kiribati; and at home.
    put_id, batch_id = new_id(), new_id()
    put = ok(
        client.put(
            episode_url(eid=put_id), json=episode(started_at="2026-03-01T23:30:00+05:30"), headers=h
        )
    )
    assert put["started_at"] == "2026-03-01T23:30:00+05:30"
    posted = ok(
        client.post(episode_url(), json=episode(started_at="2026-03-02T21:00:00-05:00"), headers=h)
    )
    assert posted["started_at"] == "2026-03-02T21:00:00-05:00"
    r = client.post(
        BATCH,
        json={"items": [episode(id=batch_id, started_at="2026-03-04T00:15:00+14:00")]},
        headers=h,
    )
    assert ok(r)["results"][0]["status"] == "created"
    sid = ok(client.post(series_url(), json=series(), headers=h))["id"]
    session = ok(
        client.post(
            session_url(sid),
            json=treatment_session(started_at="2026-03-05T08:00:00+09:00"),
            headers=h,
        )
    )
    assert session["started_at"] == "2026-03-05T08:00:00+09:00"
    # A PATCH writes the instant and its offset anew; a zero offset comes back as Z.
    patched = ok(
        patch_current(
            client,
            episode_url(eid=posted["id"]),
            json={"started_at": "2026-03-03T02:00:00Z"},
            headers=h,
        )
    )
    assert patched["started_at"] == "2026-03-03T02:00:00Z"

    expected = {
        put_id: "2026-03-01T23:30:00+05:30",
        posted["id"]: "2026-03-03T02:00:00Z",
        batch_id: "2026-03-04T00:15:00+14:00",
    }
    assert ok(client.get(episode_url(eid=batch_id), headers=h))["started_at"] == expected[batch_id]
    listed = ok(client.get(episode_url(), headers=h))["items"]
    assert {e["id"]: e["started_at"] for e in listed} == expected
    changes = feed(client, alice)["changes"]
    assert {c["id"]: c["data"]["started_at"] for c in changes if c["kind"] == "episode"} == expected
    (feed_session,) = [c for c in changes if c["kind"] == "session"]
    assert feed_session["data"] == ok(client.get(session_url(sid, session["id"]), headers=h))
    assert feed_session["data"]["started_at"] == "2026-03-05T08:00:00+09:00"

    exported = ok(client.get(f"{API}/me/export", headers=h))
    assert {e["id"]: e["started_at"] for e in exported["episodes"]} == expected
    assert [s["started_at"] for s in exported["sessions"]] == ["2026-03-05T08:00:00+09:00"]

    rows = {row["id"]: row for row in csv_rows(client, alice)}
    # Local time and date as written, whatever the patient's zone (Berlin) says.
    assert [
        (rows[i]["started_at_utc"], rows[i]["started_at_local"], rows[i]["local_date"])
        for i in (put_id, posted["id"], batch_id)
    ] == [
        ("2026-03-01T18:00:00Z", "2026-03-01T23:30:00+05:30", "2026-03-01"),
        ("2026-03-03T02:00:00Z", "2026-03-03T02:00:00+00:00", "2026-03-03"),
        ("2026-03-03T10:15:00Z", "2026-03-04T00:15:00+14:00", "2026-03-04"),
    ]
    assert {row["timezone"] for row in rows.values()} == {"Europe/Berlin"}

    resources = [entry["resource"] for entry in fhir(client, alice)["entry"]]
    starts = {
        r["id"]: r["effectivePeriod"]["start"]
        for r in resources
        if r["resourceType"] in ("Observation", "MedicationAdministration")
        and "effectivePeriod" in r
    }
    assert starts == {**expected, session["id"]: "2026-03-05T08:00:00+09:00"}
    (administration,) = [r for r in resources if r["resourceType"] == "MedicationAdministration"]
    assert administration["effectivePeriod"]["end"] == "2026-03-05T08:40:00+09:00"


@pytest.mark.parametrize(
    ("started_at", "why"),
    [
        ("2026-03-01T08:15:00+14:30", "the UTC offset must lie between -14:00 and +14:00"),
        ("2026-03-01T08:15:00-15:00", "the UTC offset must lie between -14:00 and +14:00"),
        (1772349300, "must be an RFC 3339 timestamp with an offset"),  # epoch seconds
        ("1772349300", "must be an RFC 3339 timestamp with an offset"),
        (1772349300.5, "must be an RFC 3339 timestamp with an offset"),
        (True, "must be an RFC 3339 timestamp with an offset"),
        ("2026-03-01T08:15:00", "timezone"),  # naive, as before
    ],
)
def test_a_timestamp_without_a_real_written_offset_is_a_422_that_stores_nothing(
    api: Api, client: TestClient, started_at: object, why: str
) -> None:
    alice = api.register()
    h = alice.headers
    sid = ok(client.post(series_url(), json=series(), headers=h))["id"]
    cursor = feed(client, alice)["next_cursor"]
    eid, session_id, batch_id = new_id(), new_id(), new_id()
    writes = [
        client.put(episode_url(eid=eid), json=episode(started_at=started_at), headers=h),
        client.post(episode_url(), json=episode(started_at=started_at), headers=h),
        client.put(
            session_url(sid, session_id),
            json=treatment_session(started_at=started_at),
            headers=h,
        ),
        client.post(session_url(sid), json=treatment_session(started_at=started_at), headers=h),
    ]
    for r in writes:
        body = assert_problem(r, 422)
        (error,) = body["errors"]
        assert error["loc"] == ["body", "started_at"]
        assert why in error["msg"]
    r = client.post(BATCH, json={"items": [episode(id=batch_id, started_at=started_at)]}, headers=h)
    (result,) = ok(r)["results"]
    assert (result["status"], result["error"]["errors"][0]["loc"]) == ("invalid", ["started_at"])
    # Nothing stored: not found, and the change feed has nothing new.
    assert_problem(client.get(episode_url(eid=eid), headers=h), 404)
    assert_problem(client.get(episode_url(eid=batch_id), headers=h), 404)
    assert_problem(client.get(session_url(sid, session_id), headers=h), 404)
    assert feed(client, alice, cursor)["changes"] == []


def test_a_kept_episode_patched_with_a_bad_offset_is_unchanged(
    api: Api, client: TestClient
) -> None:
    alice = api.register()
    h = alice.headers
    eid = new_id()
    created = ok(client.put(episode_url(eid=eid), json=episode(), headers=h))
    cursor = feed(client, alice)["next_cursor"]
    r = client.patch(
        episode_url(eid=eid),
        json={"started_at": "2026-03-01T08:15:00+23:00"},
        headers={**h, "If-Match": '"1"'},
    )
    assert assert_problem(r, 422)["errors"][0]["loc"] == ["body", "started_at"]
    assert ok(client.get(episode_url(eid=eid), headers=h)) == created
    assert feed(client, alice, cursor)["changes"] == []


def test_a_version_1_export_takes_the_offsets_of_its_patients_zone(
    api: Api, client: TestClient
) -> None:
    """Version 1 documents wrote started_at in UTC: the zone at each instant gives the offset,
    as for the rows stored before the offset was kept."""
    stamp = {
        "version": 1,
        "created_at": "2026-03-01T08:00:00Z",
        "updated_at": "2026-03-01T08:00:00Z",
    }
    sid = new_id()
    doc = {
        "format": "paindiary-export",
        "version": 1,
        "exported_at": "2026-08-02T09:00:00Z",
        "patient": {
            "id": new_id(),
            "display_name": "Moved",
            "timezone": "Europe/Vienna",
            "diagnosis": {"ichd3_type": "idiopathic", "side": "left", "branches": ["V1"]},
            **stamp,
        },
        "episodes": [
            {"id": new_id(), **episode(started_at="2026-07-01T22:30:00Z"), **stamp},
            {"id": new_id(), **episode(started_at="2026-01-10T23:30:00Z"), **stamp},
        ],
        "series": [{"id": sid, "name": "IV", "modality": "ketamine_iv", **stamp}],
        "sessions": [
            {
                "id": new_id(),
                "series_id": sid,
                "started_at": "2026-07-05T07:00:00Z",
                "duration_minutes": 40,
                "route": "iv",
                "recorded_by": new_id(),
                "recorded_by_role": "clinician",
                **stamp,
            }
        ],
    }
    bob = api.register(timezone="UTC")
    ok(client.post(f"{API}/me/import", json=doc, headers=bob.headers))
    exported = ok(client.get(f"{API}/me/export", headers=bob.headers))
    assert exported["version"] == 2
    assert sorted(e["started_at"] for e in exported["episodes"]) == [
        "2026-01-11T00:30:00+01:00",
        "2026-07-02T00:30:00+02:00",
    ]
    assert [s["started_at"] for s in exported["sessions"]] == ["2026-07-05T09:00:00+02:00"]


def _day_view(client: TestClient, who: Account, sid: str) -> dict[str, Any]:
    """Everything that shows a local day: the trend, the daily and weekly timeseries, the CSV's
    local dates and the episodes as returned."""
    h = who.headers
    trend = ok(
        client.get(
            f"{API}/patients/me/series/{sid}/trend", params={"as_of": "2026-05-20"}, headers=h
        )
    )
    timeseries = {
        bucket: ok(
            client.get(
                f"{API}/patients/me/timeseries",
                params={"from": "2026-02-20", "to": "2026-05-20", "bucket": bucket},
                headers=h,
            )
        )["items"]
        for bucket in ("day", "week")
    }
    rows = csv_rows(client, who)
    listed = ok(client.get(episode_url(), params={"limit": 500}, headers=h))["items"]
    sessions = ok(client.get(session_url(sid), headers=h))["items"]
    return {
        "trend": {key: value for key, value in trend.items() if key != "timezone"},
        "timeseries": timeseries,
        "csv": [(row["id"], row["started_at_local"], row["local_date"]) for row in rows],
        "episodes": sorted((e["id"], e["started_at"]) for e in listed),
        "sessions": sorted((s["id"], s["started_at"]) for s in sessions),
    }


def test_a_time_zone_change_moves_no_recorded_day(api: Api, client: TestClient) -> None:
    """Attacks and sessions logged in Berlin (and some on a trip to Tokyo), then the patient
    moves to Auckland (+13:00 in March): trend windows, timeseries and CSV dates stay put."""
    alice = api.register(timezone="Europe/Berlin")
    h = alice.headers
    baseline = [
        # Late evenings and just after midnight: the hours a zone change would move.
        attack(f"2026-03-{day:02d}T23:40:00+01:00", 4, 8)
        for day in range(3, 31, 2)
    ] + [attack(f"2026-03-{day:02d}T00:20:00+01:00", 3, 7) for day in range(4, 29, 4)]
    trip = [attack(f"2026-04-0{day}T07:30:00+09:00", 2, 6) for day in range(1, 4)]
    follow_up = [attack(f"2026-04-{day:02d}T23:50:00+02:00", 1, 4) for day in range(14, 31, 3)] + [
        attack(f"2026-05-{day:02d}T00:10:00+02:00", 1, 3) for day in range(2, 20, 3)
    ]
    r = client.post(BATCH, json={"items": [*baseline, *trip, *follow_up]}, headers=h)
    assert {res["status"] for res in ok(r)["results"]} == {"created"}
    for day in ("2026-03-10", "2026-03-20", "2026-04-20", "2026-05-01"):
        ok(client.put(f"{API}/patients/me/checkins/{day}", json={"no_attacks": False}, headers=h))
    sid = ok(
        client.post(series_url(), json=series(baseline_days=28, follow_up_days=28), headers=h)
    )["id"]
    for when in (
        "2026-04-06T23:30:00+02:00",
        "2026-04-08T00:30:00+02:00",
        "2026-04-10T09:00:00+02:00",
    ):
        ok(client.post(session_url(sid), json=treatment_session(started_at=when), headers=h))

    before = _day_view(client, alice, sid)
    windows = {w["name"]: w for w in before["trend"]["windows"]}
    # Sessions at 23:30 and 00:30 Berlin time: their written days, 04-06 to 04-10.
    assert (windows["treatment"]["start"], windows["treatment"]["end"]) == (
        "2026-04-06",
        "2026-04-10",
    )
    assert (windows["baseline"]["start"], windows["baseline"]["attacks"]) == ("2026-03-09", 65)
    assert before["csv"][0][2] == "2026-03-03"
    r = patch_current(
        client, f"{API}/patients/me", json={"timezone": "Pacific/Auckland"}, headers=h
    )
    assert r.status_code == 200, r.text
    after = _day_view(client, alice, sid)
    assert after == before
    trend = ok(
        client.get(
            f"{API}/patients/me/series/{sid}/trend", params={"as_of": "2026-05-20"}, headers=h
        )
    )
    assert trend["timezone"] == "Pacific/Auckland"


def test_one_offset_bound_for_the_api_the_database_and_the_trends() -> None:
    from app.models.diary import OFFSET_CHECK
    from app.schemas.diary import MAX_OFFSET
    from app.trends.days import MAX_OFFSET_MINUTES as widened

    assert f"started_offset_minutes BETWEEN {-widened} AND {widened}" == OFFSET_CHECK
    assert widened == MAX_OFFSET.total_seconds() / 60 == 14 * 60
