"""``make bench`` on a machine that never ran it: the PostgreSQL server is there, the bench's
database is not. A tiny configuration of the whole path (machine facts, fresh database, server,
accounts, the write-path figures, the report) must run to the end. (The two-server soak has a
test of its own: tests/reliability/test_two_servers.py.)

PostgreSQL only (TEST_DATABASE_URL names the server; the bench gets a database of its own that
does not exist yet). A figure missing its target is fine here: this is about the harness.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import normalise_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs a PostgreSQL server (TEST_DATABASE_URL)"
)

TINY = {
    "BENCH_ENGINES": "postgresql",
    "BENCH_PARTS": "load",
    "BENCH_SERVER_WORKERS": "1",
    "BENCH_LOAD_SECONDS": "1",
    "BENCH_WARMUP_SECONDS": "0",
    "BENCH_WRITERS": "2",
    "BENCH_TAIL_RUNS": "1",
    "BENCH_BATCH_ROUNDS": "1",
    "BENCH_BATCH_ITEMS": "20",
    "BENCH_INSTALL_WRK": "0",  # a test installs nothing; without wrk the bench uses httpx
}


def _database_exists(url: str, name: str) -> bool:
    engine = create_engine(make_url(url).set(database="postgres"))
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        exists = found.first() is not None
    engine.dispose()
    return exists


def _drop(url: str, name: str) -> None:
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def test_bench_runs_where_its_database_does_not_exist_yet(tmp_path: Path) -> None:
    server_url = normalise_url(os.environ["TEST_DATABASE_URL"])
    name = f"bench_fresh_{uuid.uuid4().hex[:12]}"
    bench_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    assert not _database_exists(server_url, name)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BENCH_", "PAINDIARY_"))},
        **TINY,
        "BENCH_POSTGRES_URL": bench_url,
        "BENCH_OUT_DIR": str(tmp_path),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        _drop(server_url, name)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "not reachable" not in output
    results = (tmp_path / "RESULTS-partial.md").read_text()
    # Every figure of the part run was measured (none "not measured").
    assert "not measured" not in results
    for figure in (
        "authenticated PUT episode req/s ÷ /healthz req/s | PostgreSQL",
        "PUT p99 ÷ p50 at half the peak rate (median of runs) | PostgreSQL",
        "one 500-item batch ÷ one single PUT (latency p50) | PostgreSQL",
    ):
        assert figure in results, results
    assert "- postgresql server: " in results
