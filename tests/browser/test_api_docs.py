"""Swagger UI and ReDoc in a real browser (Debian's chromium through Playwright) against the
real server, on a network where every request that leaves this server is cut."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright

from tests.servers import Served, serve

CHROMIUM = shutil.which("chromium")
# Screenshots of a failing page, 1280 px wide, as the web app's browser tests keep them.
RESULTS = Path(__file__).resolve().parents[2] / "test-results"
# ReDoc's sidebar footer always asks for the Redocly logo from its CDN; the page's policy
# blocks it before any request is made (nothing leaves), and the footer shows its text only.
REDOC_LOGO_BLOCKED = "cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("docs-browser")) as served:
        yield served


class Watched:
    """A page whose requests to anywhere but ``origin`` are aborted and recorded, with its
    console errors and uncaught exceptions."""

    def __init__(self, browser: Browser, origin: str) -> None:
        self.page: Page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.set_default_timeout(15_000)
        self.origin = origin
        self.external: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _route(self, route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin or parts.scheme in ("data", "blob"):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)


def shot(page: Page, request: pytest.FixtureRequest, name: str) -> None:
    out = RESULTS / request.node.name
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)


def test_swagger_ui_renders_every_operation_offline(
    browser: Browser, server: Served, request: pytest.FixtureRequest
) -> None:
    watched = Watched(browser, server.base_url)
    page = watched.page
    try:
        page.goto(f"{server.base_url}/docs")
        page.locator(".opblock").first.wait_for(timeout=30_000)
        assert page.locator(".info .title").inner_text().startswith("paindiary API")
        token = page.locator(".opblock", has_text="/api/v1/auth/token")
        assert token.count() == 1
        assert token.locator(".opblock-summary-method").inner_text() == "POST"
        assert page.locator(".opblock").count() > 40  # every operation of the API
        # Opening an operation shows its parameters, rendered by the local bundle.
        token.locator(".opblock-summary").click()
        page.locator(".opblock-body").first.wait_for()
    except Exception:
        shot(page, request, "docs")
        raise
    assert watched.external == []
    assert watched.errors == []
    page.close()


def test_redoc_renders_offline(
    browser: Browser, server: Served, request: pytest.FixtureRequest
) -> None:
    watched = Watched(browser, server.base_url)
    page = watched.page
    try:
        page.goto(f"{server.base_url}/redoc")
        page.locator("h1", has_text="paindiary API").wait_for(timeout=30_000)
        assert page.get_by_role("heading", name="Create a patient account").count() >= 1
        assert page.locator("[data-section-id]").count() > 40
    except Exception:
        shot(page, request, "redoc")
        raise
    assert watched.external == []
    assert [error for error in watched.errors if REDOC_LOGO_BLOCKED not in error] == []
    page.close()
