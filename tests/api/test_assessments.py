"""Questionnaires: server-computed totals, per-instrument item checks, versions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.diary import assessment, assessment_url, new_id, series_url
from tests.diary import series as series_body
from tests.helpers import Api, assert_problem


@pytest.mark.parametrize(
    ("instrument", "items", "total"),
    [
        ("phq9", [3, 3, 3, 2, 2, 2, 1, 1, 0], 17),
        ("gad7", [0] * 7, 0),
        ("penn_fps_r", [10] * 12, 120),
        ("pgic", [2], 2),
        ("cadss6", [4, 4, 0, 1, 2, 3], 14),
    ],
)
def test_total_is_computed(
    api: Api, client: TestClient, instrument: str, items: list[int], total: int
) -> None:
    alice = api.register()
    aid = new_id()
    body = assessment(instrument=instrument, items=items)
    r = client.put(assessment_url(aid=aid), json=body, headers=alice.headers)
    assert r.status_code == 201, r.text
    assert (r.json()["total"], r.json()["items"], r.json()["version"]) == (total, items, 1)
    assert r.json()["taken_at"] == "2026-03-01T19:00:00Z"


def test_put_get_delete_and_list(api: Api, client: TestClient) -> None:
    alice = api.register()
    h = alice.headers
    series = new_id()
    assert client.put(series_url(sid=series), json=series_body(), headers=h).status_code == 201
    a, b, c = new_id(), new_id(), new_id()
    client.put(assessment_url(aid=a), json=assessment(taken_at="2026-02-01T10:00:00Z"), headers=h)
    client.put(
        assessment_url(aid=b),
        json=assessment(
            instrument="pgic", items=[1], taken_at="2026-03-01T10:00:00Z", series_id=series
        ),
        headers=h,
    )
    client.put(assessment_url(aid=c), json=assessment(taken_at="2026-04-01T10:00:00Z"), headers=h)
    got = client.get(assessment_url(aid=b), headers=h)
    assert (got.json()["series_id"], got.headers["etag"]) == (series, '"1"')
    same = client.put(
        assessment_url(aid=b),
        json=assessment(
            instrument="pgic", items=[1], taken_at="2026-03-01T11:00:00+01:00", series_id=series
        ),
        headers=h,
    )
    assert (same.status_code, same.json()["version"]) == (200, 1)
    gad = client.get(assessment_url(), params={"instrument": "gad7"}, headers=h).json()["items"]
    assert [x["id"] for x in gad] == [c, a]
    window = client.get(
        assessment_url(),
        params={"from": "2026-02-01T10:00:00Z", "to": "2026-04-01T10:00:00Z"},
        headers=h,
    ).json()["items"]
    assert [x["id"] for x in window] == [b, a]
    assert_problem(client.delete(assessment_url(aid=a), headers={**h, "If-Match": '"9"'}), 412)
    assert client.delete(assessment_url(aid=a), headers=h).status_code == 204
    assert_problem(client.get(assessment_url(aid=a), headers=h), 404)
    assert_problem(client.put(assessment_url(aid=a), json=assessment(), headers=h), 409)


def test_a_questionnaire_links_only_to_a_live_series_of_the_same_patient(
    api: Api, client: TestClient
) -> None:
    alice, bob = api.register(), api.register()
    theirs, gone = new_id(), new_id()
    client.put(series_url(sid=theirs), json=series_body(), headers=bob.headers)
    client.put(series_url(sid=gone), json=series_body(), headers=alice.headers)
    client.delete(series_url(sid=gone), headers=alice.headers)
    for series_id in (new_id(), theirs, gone):
        body = assessment(series_id=series_id)
        r = client.put(assessment_url(aid=new_id()), json=body, headers=alice.headers)
        problem = assert_problem(r, 422)
        assert problem["errors"][0]["loc"] == ["body", "series_id"]
        assert "bob" not in problem["detail"]
    assert client.get(assessment_url(), headers=alice.headers).json()["items"] == []
