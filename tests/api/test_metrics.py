"""/metrics: Prometheus text, by route template and status, with the database pool."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import Api

PATIENT_ROUTE = "/api/v1/patients/{pid}"


def _samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(r.text)
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_template_and_status(api: Api, client: TestClient) -> None:
    account = api.register()
    before = _samples(client)
    for _ in range(3):
        assert (
            client.get(
                f"/api/v1/patients/{account.patient_id}", headers=account.headers
            ).status_code
            == 200
        )
    assert client.get("/api/v1/patients/me").status_code == 401
    assert client.get(f"/no/such/{account.patient_id}").status_code == 404
    after = _samples(client)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    ok = {"method": "GET", "route": PATIENT_ROUTE, "status": "200"}
    assert delta("paindiary_http_requests_total", **ok) == 3
    assert delta("paindiary_http_request_duration_seconds_count", **ok) == 3
    assert delta("paindiary_http_request_duration_seconds_sum", **ok) > 0
    assert (
        delta("paindiary_http_requests_total", method="GET", route=PATIENT_ROUTE, status="401") == 1
    )
    assert (
        delta("paindiary_http_requests_total", method="GET", route="unmatched", status="404") == 1
    )
    # Concrete ids never become label values.
    assert str(account.patient_id) not in client.get("/metrics").text


def test_pool_and_in_progress_gauges(client: TestClient) -> None:
    samples = _samples(client)
    assert _value(samples, "paindiary_db_pool_connections", state="size") >= 1
    assert ("paindiary_db_pool_connections", frozenset({("state", "checkedout")})) in samples
    # The scrape itself is in progress while it is rendered.
    assert _value(samples, "paindiary_http_requests_in_progress") >= 1


def test_metrics_need_no_token(client: TestClient) -> None:
    r = client.get("/metrics")
    assert r.status_code == 200
    assert "paindiary_http_requests_total" in r.text
