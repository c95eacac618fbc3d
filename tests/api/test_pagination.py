"""Every list pages the same way: pages of one item add up to the whole list, in its order, and a
cursor handed out by one list is a 422 on every other."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.diary import (
    assessment,
    assessment_url,
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
from tests.helpers import Api, assert_problem

List = tuple[str, str, dict[str, str]]  # name, url, headers


def _put(client: TestClient, url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    r = client.put(url, json=body, headers=headers)
    assert r.status_code == 201, r.text


@pytest.fixture
def lists(api: Api, client: TestClient) -> list[List]:
    """Three items in every list of the API."""
    alice = api.register()
    doctor = api.staff("clinician")
    admin = api.staff("admin")
    owner = alice.headers
    sid = new_id()
    _put(client, series_url(sid=sid), series(), owner)
    for day in (1, 2, 3):
        _put(
            client,
            episode_url(eid=new_id()),
            episode(started_at=f"2026-03-0{day}T08:00:00+01:00"),
            owner,
        )
        _put(client, checkin_url(day=f"2026-03-0{day}"), {"no_attacks": False}, owner)
        _put(
            client,
            medication_url(mid=new_id()),
            medication(started_on=f"2026-02-0{day}"),
            owner,
        )
        _put(
            client,
            assessment_url(aid=new_id()),
            assessment(taken_at=f"2026-03-0{day}T20:00:00+01:00"),
            owner,
        )
        _put(
            client,
            session_url(sid, new_id()),
            treatment_session(started_at=f"2026-03-0{day}T09:00:00+01:00"),
            owner,
        )
        _put(client, series_url(sid=new_id()), series(name=f"Series {day}"), owner)
        api.grant(api.register(), to=doctor)
        api.partner(name=f"Partner {day}")
    for _ in range(3):
        api.grant(alice, to=doctor)  # each replaces the last: three grants in the history
    return [
        ("episodes", episode_url(), owner),
        ("checkins", checkin_url(), owner),
        ("medications", medication_url(), owner),
        ("assessments", assessment_url(), owner),
        ("series", series_url(), owner),
        ("sessions", session_url(sid), owner),
        ("grants", "/api/v1/patients/me/grants", owner),
        ("access-log", "/api/v1/patients/me/access-log", owner),
        ("patients", "/api/v1/patients", doctor.headers),
        ("clients", "/api/v1/admin/clients", admin.headers),
    ]


def _pages(client: TestClient, url: str, headers: dict[str, str]) -> tuple[list[Any], list[str]]:
    items: list[Any] = []
    handed_out: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    while True:
        r = client.get(url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 1
        items.extend(page["items"])
        if page["next_cursor"] is None:
            return items, handed_out
        handed_out.append(page["next_cursor"])
        params = {"limit": 1, "cursor": page["next_cursor"]}


def test_pages_of_one_add_up_to_the_whole_list_in_order(
    client: TestClient, lists: list[List]
) -> None:
    for name, url, headers in lists:
        whole = client.get(url, params={"limit": 500}, headers=headers).json()
        assert whole["next_cursor"] is None, name
        items, _ = _pages(client, url, headers)
        if name == "access-log":
            # Reading the log is itself logged, before the read: the first page holds its own
            # entry, then the pages continue below it; later reads land above, unseen.
            items = items[1:]
        assert items == whole["items"], name
        assert len(items) >= 3, name


def test_a_cursor_of_one_list_is_refused_by_every_other(
    client: TestClient, lists: list[List]
) -> None:
    cursors = {name: _pages(client, url, headers)[1][0] for name, url, headers in lists}
    for name, url, headers in lists:
        for other, cursor in cursors.items():
            if other == name:
                continue
            r = client.get(url, params={"cursor": cursor}, headers=headers)
            body = assert_problem(r, 422)
            assert body["errors"][0]["loc"] == ["query", "cursor"], (name, other)
