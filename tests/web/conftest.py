"""Browser tests of the clinician web app: Playwright driving the system's chromium (never a
downloaded browser) against real servers (``paindiary serve``) on free ports, one seeded world
per engine, one browser per test session, a fresh browser context (no cookies) per test.

Two servers share each engine's database: one with the default session limits, one with short
ones (idle 2 s, absolute 5 s) for the automatic-logoff tests. On a failing test every open page
is saved as a full-page screenshot, 1280 px wide, under ``test-results/<test>/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    sync_playwright,
)
from sqlalchemy import create_engine, make_url, text

from app.db import normalise_url
from app.dbmigrate import upgrade
from app.services.context import AppContext
from tests.conftest import ENGINES, TEST_AUDIT_KEY, TEST_SECRET, make_settings
from tests.servers import _wait_until_up, free_port
from tests.web import world as seeded

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
WIDTH = 1280
SHORT_IDLE_SECONDS = 3
SHORT_ABSOLUTE_SECONDS = 8


@dataclass
class Servers:
    base: str  # the default limits
    short: str  # idle 2 s, absolute 5 s


@dataclass
class Watch:
    """What the pages of one test did that they never should: dialogs (a script ran) and
    console errors (a script ran and failed, or the CSP blocked something)."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="session", params=ENGINES)
def web_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An engine's database of its own (xdist-safe: a temporary file, or a throwaway PostgreSQL
    database with a random name, dropped afterwards)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'web.db'}"
        upgrade(url)
        yield url
        return
    server = make_url(normalise_url(os.environ["TEST_DATABASE_URL"]))
    name = f"test_clinic_web_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def web_ctx(web_db: str) -> Iterator[AppContext]:
    """The services on the browser tests' database (seeding, audit checks, revoking)."""
    ctx = AppContext.build(make_settings(web_db))
    yield ctx
    ctx.db.dispose()


@pytest.fixture(scope="session")
def world(web_ctx: AppContext) -> seeded.World:
    return seeded.build(web_ctx)


def _start(
    workdir: Path, db_url: str, extra: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PAINDIARY_")}
    environ.update(
        PAINDIARY_ENV="test",
        PAINDIARY_DATABASE_URL=db_url,
        PAINDIARY_SECRET_KEY=TEST_SECRET,
        PAINDIARY_AUDIT_KEY=TEST_AUDIT_KEY,
        PAINDIARY_ARGON2_TIME_COST="1",
        PAINDIARY_ARGON2_MEMORY_KIB="64",
        **extra,
    )
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    with (workdir / "server.err").open("wb") as errors:
        process = subprocess.Popen(
            [*command, "--log-level", "warning", "--no-access-log"],
            env=environ,
            cwd=workdir,
            stderr=errors,
        )
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def servers(
    web_db: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    workdir = tmp_path_factory.mktemp("web-servers")
    short_limits = {
        "PAINDIARY_WEB_IDLE_TIMEOUT_SECONDS": str(SHORT_IDLE_SECONDS),
        "PAINDIARY_WEB_ABSOLUTE_TIMEOUT_SECONDS": str(SHORT_ABSOLUTE_SECONDS),
    }
    # Both start at once: their start-up (imports) overlaps.
    started = [
        _start(workdir / "default", web_db, {}),
        _start(workdir / "short", web_db, short_limits),
    ]
    try:
        # The world is seeded while the servers start (neither needs the other until now).
        request.getfixturevalue("world")
        for process, base in started:
            _wait_until_up(base, process)
        yield Servers(base=started[0][1] + "/clinic", short=started[1][1] + "/clinic")
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "the browser tests need Debian's chromium: apt-get install chromium"
    instance = playwright.chromium.launch(executable_path=chromium)
    yield instance
    instance.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    setattr(item, f"report_{report.when}", report)  # type: ignore[attr-defined]
    return report


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def context(
    browser: Browser, request: pytest.FixtureRequest, watch: Watch
) -> Iterator[BrowserContext]:
    browser_context = browser.new_context(viewport={"width": WIDTH, "height": 900})

    def on_dialog(dialog: Dialog) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watch.errors.append(message.text)

    def on_page(page: Page) -> None:
        page.on("dialog", on_dialog)
        page.on("console", on_console)

    browser_context.on("page", on_page)
    yield browser_context
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = RESULTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        folder.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(browser_context.pages, start=1):
            page.set_viewport_size({"width": WIDTH, "height": 900})
            page.screenshot(path=str(folder / f"page-{number}.png"), full_page=True)
    browser_context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
