"""Daily check-ins: one per local day, revivable after DELETE, listed by inclusive dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from tests.diary import checkin_url
from tests.helpers import Api, assert_problem


def test_put_get_replace_and_unchanged(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    body = {"no_attacks": False, "background_pain": 3, "bni": "IIIb", "mood": 6, "sleep_hours": 6.5}
    r = client.put(checkin_url(day="2026-03-01"), json=body, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["date"] == "2026-03-01"
    assert (created["bni"], created["sleep_hours"], created["note"], created["version"]) == (
        "IIIb",
        6.5,
        None,
        1,
    )
    assert r.headers["etag"] == '"1"'
    same = client.put(checkin_url(day="2026-03-01"), json={**body, "date": "2026-03-01"}, headers=h)
    assert (same.status_code, same.json()) == (200, created)
    replaced = client.put(checkin_url(day="2026-03-01"), json={"no_attacks": True}, headers=h)
    assert replaced.json()["version"] == 2
    assert replaced.json()["bni"] is None
    got = client.get(checkin_url(day="2026-03-01"), headers=h)
    assert got.json() == replaced.json()
    assert got.headers["etag"] == '"2"'
    assert_problem(client.get(checkin_url(day="2026-03-02"), headers=h), 404)


def test_a_deleted_day_can_be_put_again(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    client.put(checkin_url(day="2026-03-01"), json={"no_attacks": False, "mood": 4}, headers=h)
    r = client.delete(checkin_url(day="2026-03-01"), headers={**h, "If-Match": '"1"'})
    assert (r.status_code, r.headers["etag"]) == (204, '"2"')
    assert_problem(client.get(checkin_url(day="2026-03-01"), headers=h), 404)
    assert_problem(client.delete(checkin_url(day="2026-03-01"), headers=h), 404)
    # If-Match cannot match a deleted check-in; a plain or create-only PUT revives it.
    r = client.put(
        checkin_url(day="2026-03-01"),
        json={"no_attacks": False, "mood": 7},
        headers={**h, "If-Match": '"2"'},
    )
    assert_problem(r, 412)
    r = client.put(
        checkin_url(day="2026-03-01"),
        json={"no_attacks": False, "mood": 7},
        headers={**h, "If-None-Match": "*"},
    )
    assert r.status_code == 201
    assert (r.json()["mood"], r.json()["version"]) == (7, 3)
    r = client.put(
        checkin_url(day="2026-03-01"),
        json={"no_attacks": False, "mood": 8},
        headers={**h, "If-None-Match": "*"},
    )
    assert_problem(r, 412)


def test_stale_if_match_is_412(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    client.put(checkin_url(day="2026-03-01"), json={"no_attacks": False, "mood": 4}, headers=h)
    client.put(checkin_url(day="2026-03-01"), json={"no_attacks": False, "mood": 5}, headers=h)
    r = client.put(
        checkin_url(day="2026-03-01"),
        json={"no_attacks": False, "mood": 1},
        headers={**h, "If-Match": '"1"'},
    )
    assert_problem(r, 412)
    assert_problem(
        client.delete(checkin_url(day="2026-03-01"), headers={**h, "If-Match": '"1"'}), 412
    )
    assert client.get(checkin_url(day="2026-03-01"), headers=h).json()["mood"] == 5


def test_today_is_the_patients_local_today(api: Api, client: TestClient) -> None:
    # Far east of UTC: "today" there may already be tomorrow in UTC, and must be accepted.
    kiri = api.register(timezone="Pacific/Kiritimati")
    today = datetime.now(UTC).astimezone(ZoneInfo("Pacific/Kiritimati")).date()
    r = client.put(
        checkin_url(day=today.isoformat()), json={"no_attacks": True}, headers=kiri.headers
    )
    assert r.status_code == 201, r.text
    r = client.put(
        checkin_url(day=(today + timedelta(days=1)).isoformat()), json={}, headers=kiri.headers
    )
    assert_problem(r, 422)


def test_list_is_newest_first_with_inclusive_dates(api: Api, client: TestClient) -> None:
    alice, bob = api.register(), api.register()
    for day in range(1, 8):
        client.put(
            checkin_url(day=f"2026-03-0{day}"),
            json={"no_attacks": False, "mood": day},
            headers=alice.headers,
        )
    client.put(
        checkin_url(day="2026-03-04"), json={"no_attacks": False, "mood": 1}, headers=bob.headers
    )
    client.delete(checkin_url(day="2026-03-05"), headers=alice.headers)
    r = client.get(
        checkin_url(),
        params={"from": "2026-03-02", "to": "2026-03-06", "limit": 2},
        headers=alice.headers,
    )
    page = r.json()
    assert [c["date"] for c in page["items"]] == ["2026-03-06", "2026-03-04"]
    page2 = client.get(
        checkin_url(),
        params={
            "from": "2026-03-02",
            "to": "2026-03-06",
            "limit": 2,
            "cursor": page["next_cursor"],
        },
        headers=alice.headers,
    ).json()
    assert [c["date"] for c in page2["items"]] == ["2026-03-03", "2026-03-02"]
    assert page2["next_cursor"] is None
    assert len(client.get(checkin_url(), headers=bob.headers).json()["items"]) == 1
