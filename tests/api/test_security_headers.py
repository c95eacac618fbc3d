"""Security headers on every response; CORS only for the configured origins."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.main import create_app
from app.security.headers import API_CSP, REPORT_CSP, SVG_CSP, report_headers
from app.services.identity import accounts
from app.settings import Settings
from tests.conftest import make_settings
from tests.helpers import Api, assert_problem

APP_ORIGIN = "https://app.paindiary.example"
EVIL_ORIGIN = "https://evil.example"


@pytest.mark.parametrize("path", ["/healthz", "/metrics", "/api/v1/me", "/api/v1/nowhere"])
def test_every_response_forbids_sniffing_framing_and_active_content(
    client: TestClient, path: str
) -> None:
    r = client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"] == API_CSP
    assert "strict-transport-security" not in r.headers  # plain HTTP here


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_have_their_own_policy(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    policy = r.headers["content-security-policy"]
    assert policy != API_CSP
    assert "script-src 'self'" in policy  # the bundles installed with the project
    assert "http" not in policy


def test_hsts_over_https(client: TestClient) -> None:
    with TestClient(client.app, base_url="https://testserver") as secure:
        assert secure.get("/healthz").headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("policy", [REPORT_CSP, SVG_CSP, API_CSP])
def test_document_policies_allow_no_script_and_no_remote_source(policy: str) -> None:
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives
    assert directives["frame-ancestors"] == "'none'"
    assert "http" not in policy
    assert "*" not in policy
    assert report_headers()["Content-Security-Policy"] == REPORT_CSP
    assert report_headers()["Cache-Control"] == "no-store"


@pytest.fixture(scope="module")
def cors_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("cors") / "cors.db"
    app = create_app(make_settings(f"sqlite:///{db}", cors_origins=[APP_ORIGIN]))
    with TestClient(app) as client:
        yield client


def test_cors_echoes_only_configured_origins(cors_client: TestClient) -> None:
    allowed = cors_client.get("/healthz", headers={"Origin": APP_ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "Origin" in allowed.headers["vary"]
    assert "etag" in allowed.headers["access-control-expose-headers"].lower()

    foreign = cors_client.get("/healthz", headers={"Origin": EVIL_ORIGIN})
    assert foreign.status_code == 200  # the browser, not the server, withholds it
    assert "access-control-allow-origin" not in foreign.headers
    assert EVIL_ORIGIN not in str(foreign.headers)


def test_cors_preflight(cors_client: TestClient) -> None:
    ok = cors_client.options(
        "/api/v1/patients/me",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "PATCH" in ok.headers["access-control-allow-methods"]

    refused = cors_client.options(
        "/api/v1/patients/me",
        headers={"Origin": EVIL_ORIGIN, "Access-Control-Request-Method": "PATCH"},
    )
    body = assert_problem(refused, 400)
    assert "origin" in body["detail"]
    assert "access-control-allow-origin" not in refused.headers


def test_without_configured_origins_no_cors_headers_at_all(client: TestClient) -> None:
    r = client.get("/healthz", headers={"Origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("origin", ["*", "app.example", "null"])
def test_wildcard_or_malformed_origins_are_refused_at_startup(origin: str) -> None:
    with pytest.raises(ValidationError, match="explicit"):
        Settings(cors_origins=[origin])


def test_500s_carry_the_security_headers_and_no_store(
    api: Api, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 5 (500s): an unexpected error is answered like every other response."""
    patient = api.register()

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(accounts, "get_me", broken)
    r = client.get("/api/v1/me", headers={**patient.headers, "X-Request-ID": "req-500"})
    body = assert_problem(r, 500)
    assert body["detail"] == "An unexpected error occurred; it has been logged."
    assert "a bug" not in r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["content-security-policy"] == API_CSP
    assert r.headers["x-request-id"] == "req-500"
    # The server goes on answering.
    monkeypatch.undo()
    assert client.get("/api/v1/me", headers=patient.headers).status_code == 200
