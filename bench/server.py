"""The real server under test: fresh databases, ``paindiary serve --workers 2`` as a subprocess
on a free port, and its worker processes (for memory readings)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import normalise_url
from app.dbmigrate import upgrade

# BENCH_OUT_DIR: where scripts, logs and the SQLite file go (the harness's own test uses a
# temporary directory).
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR") or Path(__file__).resolve().parent / "out")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/paindiary_bench"
PAINDIARY = Path(sys.executable).parent / "paindiary"
WORKERS = int(os.environ.get("BENCH_SERVER_WORKERS", "2"))  # 1 only in the harness's test


@dataclass(frozen=True)
class Engine:
    name: str  # "sqlite" or "postgresql"
    url: str


def engines() -> list[Engine]:
    """SQLite always; PostgreSQL when its server answers (BENCH_POSTGRES_URL overrides)."""
    found = [Engine("sqlite", f"sqlite:///{OUT_DIR / 'bench.db'}")]
    pg_url = normalise_url(os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    try:
        maintenance = create_engine(
            make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )
        with maintenance.connect() as conn:
            conn.execute(text("SELECT 1"))
        maintenance.dispose()
        found.append(Engine("postgresql", pg_url))
    except Exception as exc:  # any reason the server cannot be reached
        print(f"PostgreSQL not reachable ({type(exc).__name__}): measuring SQLite only")
    return found


def fresh_database(engine: Engine) -> None:
    """An empty database at the newest migration."""
    if engine.name == "sqlite":
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        path = Path(make_url(engine.url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        url = make_url(engine.url)
        maintenance = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with maintenance.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        maintenance.dispose()
    upgrade(engine.url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class Server:
    """``paindiary serve`` in its own process group, stopped by its id when done."""

    def __init__(self, engine: Engine, *, secret: str, workers: int = WORKERS) -> None:
        self.engine = engine
        self.workers = workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PAINDIARY_ENV": "production",
            "PAINDIARY_DATABASE_URL": engine.url,
            # One key per bench run: tokens survive a restart of the server.
            "PAINDIARY_SECRET_KEY": secret,
            "PAINDIARY_AUDIT_KEY": "audit-" + secret,  # production wants one, not the same
            # The longest the settings allow: the whole bench runs on one sign-in per account.
            "PAINDIARY_ACCESS_TOKEN_MINUTES": "60",
            # Every simulated user signs up from 127.0.0.1, and the scale figures export the
            # same patients repeatedly: per-IP and per-patient limits are not what is measured.
            "PAINDIARY_REGISTER_MAX_PER_IP": "100000",
            "PAINDIARY_EXPORT_MAX_PER_PATIENT": "100000",
            # Simulated users sign in straight after registering; the welcome mails (a few
            # dozen) are written to files instead of going to an SMTP server.
            "PAINDIARY_EMAIL_VERIFICATION": "off",
            "PAINDIARY_MAIL_DIR": str(OUT_DIR / "mail"),
        }
        self.command = [
            str(PAINDIARY),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.log_path = OUT_DIR / f"server-{engine.name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=OUT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}")
            try:
                ready = httpx.get(self.base_url + "/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready and len(self.worker_pids()) >= self.workers:
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not become ready; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the children of uvicorn's supervisor."""
        if self.process is None:
            return []
        pid = self.process.pid
        if self.workers == 1:  # uvicorn serves in its own process then
            return [pid]
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        # Skip multiprocessing's resource tracker: only spawned workers serve.
        return [int(child) for child in children if b"spawn_main" in _cmdline(int(child))]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
