"""Every error is problem+json, whatever went wrong and wherever."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import Api, assert_problem, patch_current


def test_unknown_route_is_problem_404(client: TestClient) -> None:
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["title"] == "Not Found"
    assert_problem(client.get("/nowhere"), 404)


def test_wrong_method_is_problem_405(client: TestClient) -> None:
    r = client.delete("/api/v1/auth/register")
    assert_problem(r, 405)
    assert "POST" in r.headers["allow"]


def test_unauthenticated_is_problem_401(client: TestClient) -> None:
    r = client.get("/api/v1/patients/me")
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_body_over_one_mib_is_problem_413(api: Api, client: TestClient) -> None:
    account = api.register()
    big = {"display_name": "x" * (1024 * 1024 + 10)}
    r = patch_current(client, "/api/v1/patients/me", json=big, headers=account.headers)
    assert_problem(r, 413)

    # Streamed without a Content-Length, the limit still holds.
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 65536 * 2

    r = client.patch(
        "/api/v1/patients/me",
        content=chunks(),
        headers={**account.headers, "Content-Type": "application/json"},
    )
    assert_problem(r, 413)
    assert client.get("/api/v1/patients/me", headers=account.headers).json()["version"] == 1


def test_validation_error_is_problem_422_with_errors(api: Api, client: TestClient) -> None:
    account = api.register()
    r = patch_current(
        client, "/api/v1/patients/me", json={"weight_kg": -3}, headers=account.headers
    )
    body = assert_problem(r, 422)
    assert body["errors"][0]["loc"] == ["body", "weight_kg"]
    assert {"loc", "msg", "type"} <= body["errors"][0].keys()
    r = client.patch(
        "/api/v1/patients/me",
        content=b"{not json",
        headers={**account.headers, "Content-Type": "application/json"},
    )
    assert_problem(r, 422)


def test_non_json_body_is_problem_415(api: Api, client: TestClient) -> None:
    account = api.register()
    r = client.patch(
        "/api/v1/patients/me",
        content=b"weight_kg=70",
        headers={**account.headers, "Content-Type": "text/plain"},
    )
    assert_problem(r, 415)


def test_internal_error_is_problem_500_without_internals(app: FastAPI, client: TestClient) -> None:
    @app.get("/api/v1/_boom_for_test", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    try:
        with TestClient(app, raise_server_exceptions=False) as raw:
            r = raw.get("/api/v1/_boom_for_test")
        body = assert_problem(r, 500)
        assert "secret" not in r.text
        assert "RuntimeError" not in r.text
        assert body["title"] == "Internal server error"
    finally:
        app.router.routes[:] = [
            route
            for route in app.router.routes
            if getattr(route, "path", "") != "/api/v1/_boom_for_test"
        ]


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/me"])
def test_security_headers_everywhere(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-request-id"]


def test_a_413_reads_as_documented_whichever_check_refuses_the_body(
    api: Api, client: TestClient
) -> None:
    """Refused by its Content-Length or while it streams, the body too large is one problem:
    the type and title the OpenAPI document shows for 413 (they once had three titles)."""
    documented = client.get("/openapi.json").json()["components"]["responses"]["PayloadTooLarge"]
    example = documented["content"]["application/problem+json"]["example"]
    account = api.register()
    declared = patch_current(
        client,
        "/api/v1/patients/me",
        json={"display_name": "x" * (1024 * 1024 + 10)},
        headers=account.headers,
    )

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 65536 * 2

    streamed = client.patch(
        "/api/v1/patients/me",
        content=chunks(),
        headers={**account.headers, "Content-Type": "application/json"},
    )
    for response in (declared, streamed):
        body = assert_problem(response, 413)
        assert (body["type"], body["title"]) == (example["type"], example["title"])
        assert body["detail"] == "The body exceeds 1048576 bytes."
        assert body["instance"] == "/api/v1/patients/me"
