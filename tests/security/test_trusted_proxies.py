"""PAINDIARY_TRUSTED_PROXIES: which peers may tell us the client's address (X-Forwarded-For).
What the app records as the address is what its rate limits count and its audit trail keeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from app.main import create_app
from app.models import AuditEntry
from app.services.context import AppContext
from app.settings import Settings
from tests.conftest import make_settings
from tests.helpers import Api


@pytest.fixture
def proxied_app(db_url: str, client: TestClient) -> Iterator[TestClient]:
    """The app behind a proxy at 10.9.0.0/16 (the shared app has no trusted proxies)."""
    app = create_app(make_settings(db_url, trusted_proxies=["10.9.0.0/16", "192.0.2.1"]))
    with TestClient(app) as test_client:
        yield test_client


def _audited_ips(ctx: AppContext) -> list[str | None]:
    with ctx.db.session() as session:
        return list(session.scalars(select(AuditEntry.ip).order_by(AuditEntry.at)))


def _read_own_record(app_client: TestClient, peer: str, token: str, forwarded: str) -> None:
    client = TestClient(app_client.app, client=(peer, 50000))
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded}
    assert client.get("/api/v1/patients/me", headers=headers).status_code == 200


def test_forwarded_addresses_count_only_from_trusted_proxies(
    api: Api, proxied_app: TestClient, ctx: AppContext
) -> None:
    patient = api.register()
    token = patient.access_token
    # Through the trusted proxy: the client's address (the last one the proxy did not add).
    _read_own_record(proxied_app, "10.9.3.4", token, "198.51.100.23")
    _read_own_record(proxied_app, "192.0.2.1", token, "203.0.113.1, 10.9.0.8")
    # From anyone else the header means nothing: the peer's own address counts.
    _read_own_record(proxied_app, "192.0.2.2", token, "198.51.100.24")
    # The shared app trusts nobody (the default): the peer again.
    _read_own_record(api.client, "10.9.3.4", token, "198.51.100.25")
    assert _audited_ips(ctx) == ["198.51.100.23", "203.0.113.1", "192.0.2.2", "10.9.3.4"]


def test_trusted_proxies_setting_takes_addresses_and_networks_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().trusted_proxies == []
    monkeypatch.setenv("PAINDIARY_TRUSTED_PROXIES", "10.0.0.1, 172.16.0.0/12,::1")
    assert Settings().trusted_proxies == ["10.0.0.1", "172.16.0.0/12", "::1"]
    monkeypatch.setenv("PAINDIARY_TRUSTED_PROXIES", '["10.0.0.2"]')
    assert Settings().trusted_proxies == ["10.0.0.2"]
    for bad in ("*", "proxy.internal", "10.0.0.300"):
        monkeypatch.setenv("PAINDIARY_TRUSTED_PROXIES", bad)
        with pytest.raises(ValidationError, match="IP address or network"):
            Settings()
