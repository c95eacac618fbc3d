"""Liveness and readiness."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.dbmigrate import downgrade, upgrade
from app.main import create_app
from tests.conftest import make_settings


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready"


def test_readyz_is_503_when_schema_is_behind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    app = create_app(make_settings(url))
    with TestClient(app) as client:
        r = client.get("/readyz")
        assert r.status_code == 503  # no schema at all
        assert r.headers["content-type"].startswith("application/problem+json")
        upgrade(url)
        assert client.get("/readyz").status_code == 200
        downgrade(url, "base")
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200


def test_readyz_is_503_when_database_unreachable() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
    app = create_app(make_settings(url))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
        r = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "a@b.org", "password": "x"},
        )
        assert r.status_code == 503
        assert r.headers["retry-after"]
