"""/docs and /redoc work on a network that reaches nothing but this server."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

PAGES = ("/docs", "/redoc")
ASSETS = {
    "/docs-assets/swagger-ui-bundle.js": "javascript",
    "/docs-assets/swagger-ui.css": "text/css",
    "/docs-assets/redoc.standalone.js": "javascript",
    "/docs-assets/favicon.png": "image/png",
}


def directives(policy: str) -> dict[str, list[str]]:
    parts = (directive.split() for directive in policy.split(";"))
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", PAGES)
def test_docs_pages_name_no_remote_url(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert '<html lang="en">' in page
    assert "http://" not in page
    assert "https://" not in page
    assert "//cdn" not in page
    linked = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert linked
    assert all(url.startswith("/docs-assets/") for url in linked), linked


@pytest.mark.parametrize(("asset", "kind"), ASSETS.items())
def test_docs_assets_are_served_from_the_installed_package(
    client: TestClient, asset: str, kind: str
) -> None:
    r = client.get(asset)
    assert r.status_code == 200
    assert kind in r.headers["content-type"]
    assert len(r.content) > 1000
    if kind == "javascript":
        # The bundles themselves, not a page pointing elsewhere.
        assert ("SwaggerUIBundle" in r.text) or ("Redoc" in r.text)


def test_pages_link_exactly_the_assets_they_need(client: TestClient) -> None:
    swagger = client.get("/docs").text
    assert 'src="/docs-assets/swagger-ui-bundle.js"' in swagger
    assert 'href="/docs-assets/swagger-ui.css"' in swagger
    redoc = client.get("/redoc").text
    assert 'src="/docs-assets/redoc.standalone.js"' in redoc
    assert '<redoc spec-url="/openapi.json">' in redoc


def test_unknown_asset_is_404_and_no_path_escapes(client: TestClient) -> None:
    assert client.get("/docs-assets/nothing.js").status_code == 404
    assert client.get("/docs-assets/../core.py").status_code == 404
    assert client.get("/docs-assets/%2e%2e/core.py").status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_docs_policy_allows_only_this_server(client: TestClient, path: str) -> None:
    r = client.get(path)
    policy = directives(r.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["script-src"][0] == "'self'"
    # No remote host, no wildcard, no eval, no blanket inline script anywhere.
    for name, values in policy.items():
        for value in values:
            assert "http" not in value, name
            assert "*" not in value, name
            assert value not in ("'unsafe-eval'", "data:") or name == "img-src", name
    assert "'unsafe-inline'" not in policy["script-src"]
    assert r.headers["x-frame-options"] == "DENY"


def test_the_only_inline_script_is_allowed_by_its_hash(client: TestClient) -> None:
    r = client.get("/docs")
    inline = re.findall(r"<script>(.*?)</script>", r.text, flags=re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    script_src = directives(r.headers["content-security-policy"])["script-src"]
    assert script_src == ["'self'", f"'sha256-{digest}'"]
    assert "/openapi.json" in inline[0]
    assert '"validatorUrl": null' in inline[0]  # no badge fetched from swagger.io
    assert "<script>" not in client.get("/redoc").text
