"""The chart, the HTML report and the timeseries, end to end."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.security.headers import REPORT_CSP, SVG_CSP
from tests.helpers import Api, assert_problem
from tests.trend_data import API, berlin, induction_and_booster, iso, series_url

HOSTILE_NAME = "<script>alert('name')</script>"
HOSTILE_NOTES = '<script>alert("notes")</script><img src=x onerror=alert(1)>'


def test_report_escapes_hostile_text_and_is_locked_down(api: Api, client: TestClient) -> None:
    course = induction_and_booster(api, name=HOSTILE_NAME, notes=HOSTILE_NOTES)
    r = client.get(
        series_url("me", course.booster, "report"),
        params={"as_of": iso(150)},
        headers=course.patient.headers,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-security-policy"] == REPORT_CSP
    assert r.headers["cache-control"] == "no-store"
    html = r.text
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#34;notes&#34;)&lt;/script&gt;&lt;img src=x" in html
    # The sections a clinician reads, with this series' numbers.
    for heading in (
        "Summary",
        "Warnings",
        "Attacks and intensity by day",
        "Windows",
        "Comparisons with the reference baseline",
        "Triggers",
        "Acute response in sessions",
        "Sessions",
        "Adverse effects",
        "Questionnaires",
        "Medication changes",
        "Definitions: what each number means, and its limits",
    ):
        assert f"<h2>{heading}</h2>" in html
    assert "Booster of a course" in html
    assert "Yes: at least 50 % fewer attacks per day in follow-up 1" in html
    assert "At least 59 days and still running on 2026-07-30: onset on 2026-06-04" in html
    assert "<b>Ketamine IV booster</b> (this report)" in html  # the course's series
    assert "Ketamine IV induction" in html
    assert "<svg" in html


def test_chart_is_an_svg_document(api: Api, client: TestClient) -> None:
    scenario = berlin(api)
    r = client.get(
        series_url("me", scenario.series_id, "chart.svg"),
        params={"as_of": "2026-05-10"},
        headers=scenario.patient.headers,
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/svg+xml"
    assert r.headers["content-security-policy"] == SVG_CSP
    root = ET.fromstring(r.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not any(node.tag.endswith("script") for node in root.iter())


def timeseries(client: TestClient, headers: dict[str, str], **params: str) -> Any:
    return client.get(f"{API}/patients/me/timeseries", params=params, headers=headers)


def test_day_buckets(api: Api, client: TestClient) -> None:
    scenario = berlin(api)
    r = timeseries(client, scenario.patient.headers, **{"from": "2026-03-25", "to": "2026-03-31"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [item["start"] for item in items] == [f"2026-03-{d}" for d in range(25, 32)]
    assert all(item["start"] == item["end"] for item in items)
    by_day = {item["start"][-2:]: item for item in items}
    assert by_day["26"] == {
        "start": "2026-03-26",
        "end": "2026-03-26",
        "observed_days": 1,
        "attacks": 4,
        "attacks_per_day": 4.0,
        "mean_intensity": 8.0,
        "max_intensity": 8,
        "pain_free_days": 0,
    }
    # A day without data is unobserved: no rate, not zero.
    assert (by_day["27"]["observed_days"], by_day["27"]["attacks_per_day"]) == (0, None)
    # The DST day: one episode before the switch, one after.
    assert (by_day["29"]["attacks"], by_day["29"]["mean_intensity"]) == (6, 7.0)
    assert (by_day["30"]["attacks_per_day"], by_day["30"]["pain_free_days"]) == (0.0, 1)
    assert (by_day["31"]["attacks"], by_day["31"]["max_intensity"]) == (4, 8)


def test_week_buckets_run_monday_to_sunday(api: Api, client: TestClient) -> None:
    scenario = berlin(api)
    r = timeseries(
        client,
        scenario.patient.headers,
        **{"from": "2026-03-25", "to": "2026-04-08"},
        bucket="week",
    )
    assert r.status_code == 200, r.text
    assert r.json()["items"] == [
        {  # Wednesday to Sunday: observed 25, 26, 28, 29
            "start": "2026-03-25",
            "end": "2026-03-29",
            "observed_days": 4,
            "attacks": 20,
            "attacks_per_day": 5.0,
            "mean_intensity": 150 / 20,  # per attack
            "max_intensity": 8,
            "pain_free_days": 0,
        },
        {  # 30 and 04-02, 04-04, 04-05 without attacks; 31: 4, 04-01: 2; 04-03 missing
            "start": "2026-03-30",
            "end": "2026-04-05",
            "observed_days": 6,
            "attacks": 6,
            "attacks_per_day": 1.0,
            "mean_intensity": 44 / 6,
            "max_intensity": 8,
            "pain_free_days": 4,
        },
        {
            "start": "2026-04-06",
            "end": "2026-04-08",
            "observed_days": 3,
            "attacks": 0,
            "attacks_per_day": 0.0,
            "mean_intensity": None,
            "max_intensity": None,
            "pain_free_days": 3,
        },
    ]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"from": "2026-03-25"}, ["query", "to"]),
        ({"to": "2026-03-25"}, ["query", "from"]),
        ({"from": "2026-03-25", "to": "2026-03-24"}, ["query", "to"]),
        ({"from": "2024-01-01", "to": "2026-01-01"}, ["query", "to"]),  # 732 days
        ({"from": "2026-03-25", "to": "2026-03-31", "bucket": "month"}, ["query", "bucket"]),
        ({"from": "yesterday", "to": "2026-03-31"}, ["query", "from"]),
        ({"from": "0001-01-01", "to": "0001-01-31"}, ["query", "from"]),
        ({"from": "9999-12-01", "to": "9999-12-31"}, ["query", "to"]),
    ],
)
def test_timeseries_validation(
    api: Api, client: TestClient, params: dict[str, str], loc: list[str]
) -> None:
    patient = api.register()
    body = assert_problem(timeseries(client, patient.headers, **params), 422)
    assert body["errors"][0]["loc"] == loc


def test_the_longest_timeseries_span(api: Api, client: TestClient) -> None:
    patient = api.register()
    r = timeseries(client, patient.headers, **{"from": "2024-01-01", "to": "2025-12-31"})
    assert r.status_code == 200, r.text  # 731 days
    assert len(r.json()["items"]) == 731
    assert {item["attacks_per_day"] for item in r.json()["items"]} == {None}
