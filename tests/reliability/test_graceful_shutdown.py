"""SIGTERM on the real server (``paindiary serve``, two workers) in the middle of a stream of
writes: requests in flight finish, nothing acknowledged is lost, and the process exits cleanly.

Engine: SQLite (a file of its own); the shutdown path does not depend on the engine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select

from app.dbmigrate import upgrade
from app.models import User
from tests.conftest import TEST_SECRET
from tests.helpers import PASSWORD

WRITERS = 8
ACKS_BEFORE_SIGTERM = 24


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    db_url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    db_url = f"sqlite:///{tmp_path / 'served.db'}"
    upgrade(db_url)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMETHEUS_")}
    env.update(
        PAINDIARY_ENV="test",
        PAINDIARY_DATABASE_URL=db_url,
        PAINDIARY_SECRET_KEY=TEST_SECRET,
        PAINDIARY_REGISTER_MAX_PER_IP="100000",
        # Real-cost Argon2 keeps each registration busy for a while: requests are in flight
        # when the signal arrives, without a test-only slow endpoint in the product.
    )
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(
        [*command, "--log-level", "warning", "--graceful-timeout", "20"],
        env=env,
        cwd=tmp_path,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process)
        yield Server(process, base_url, db_url)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _wait_until_up(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited while starting"
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not become ready")


def _register(client: httpx.Client, email: str) -> int:
    r = client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": "S", "timezone": "UTC"},
    )
    return r.status_code


def _registrations_counted(base_url: str) -> float:
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "paindiary_http_requests_total"
        and sample.labels.get("route") == "/api/v1/auth/register"
        and sample.labels.get("status") == "202"
    )


@pytest.mark.slow
def test_sigterm_drains_in_flight_writes_and_loses_none(server: Server) -> None:
    # With two workers, /metrics sums both: any worker answering the scrape sees all six.
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        for i in range(6):
            assert _register(client, f"warmup{i}@example.org") == 202
    assert _registrations_counted(server.base_url) == 6
    assert _registrations_counted(server.base_url) == 6

    acknowledged: list[tuple[str, float]] = []
    lock = threading.Lock()
    signalled = threading.Event()
    signal_time = 0.0

    def writer(worker: int) -> None:
        nonlocal signal_time
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            for i in range(1000):
                email = f"w{worker}-{i}@example.org"
                try:
                    status = _register(client, email)
                except httpx.TransportError:
                    return  # the server stopped taking requests: nothing was acknowledged
                if status != 202:
                    return
                with lock:
                    acknowledged.append((email, time.monotonic()))
                    if len(acknowledged) == ACKS_BEFORE_SIGTERM:
                        signal_time = time.monotonic()
                        server.process.send_signal(signal.SIGTERM)
                        signalled.set()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))

    assert signalled.is_set()
    assert server.process.wait(timeout=30) == 0
    # Requests that were in flight when the signal came were answered, not cut off.
    assert any(at > signal_time for _, at in acknowledged)

    engine = create_engine(server.db_url)
    with engine.connect() as conn:
        stored = set(conn.scalars(select(User.email)))
    engine.dispose()
    missing = {email for email, _ in acknowledged} - stored
    assert not missing, f"acknowledged but lost: {sorted(missing)}"
