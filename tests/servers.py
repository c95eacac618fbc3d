"""The real server (``paindiary serve``) in a subprocess, for tests that need real sockets:
client addresses, proxies, signals."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.dbmigrate import upgrade
from tests.conftest import TEST_SECRET


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base_url: str
    db_url: str
    workdir: Path
    env: dict[str, str]

    def stderr_so_far(self) -> str:
        return (self.workdir / "server.err").read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(
    workdir: Path, env: Mapping[str, str] | None = None, workers: int = 1
) -> Iterator[Served]:
    """``paindiary serve`` on a fresh SQLite file in ``workdir`` (also its working directory,
    so var/ lands there), cheap Argon2, env=test; ``env`` adds or overrides variables."""
    db_url = f"sqlite:///{workdir / 'served.db'}"
    upgrade(db_url)
    port = free_port()
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PROMETHEUS_", "PAINDIARY_", "FORWARDED_ALLOW_IPS"))
    }
    environ.update(
        PAINDIARY_ENV="test",
        PAINDIARY_DATABASE_URL=db_url,
        PAINDIARY_SECRET_KEY=TEST_SECRET,
        PAINDIARY_ARGON2_TIME_COST="1",
        PAINDIARY_ARGON2_MEMORY_KIB="64",
    )
    environ.update(env or {})
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port)]
    with (workdir / "server.err").open("wb") as errors:
        process = subprocess.Popen(
            [*command, "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
            env=environ,
            cwd=workdir,
            stderr=errors,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process)
        yield Served(process, base_url, db_url, workdir, environ)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
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
