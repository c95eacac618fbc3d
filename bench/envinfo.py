"""What machine and which versions a run measured."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PACKAGES = ("fastapi", "starlette", "uvicorn", "pydantic", "sqlalchemy", "psycopg", "orjson")


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu,
        "RAM": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "load average at start (1, 5, 15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def versions(postgres_url: str | None) -> dict[str, str]:
    found = {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}
    for name in PACKAGES:
        found[name] = version(name)
    if postgres_url is not None:
        # The server's maintenance database: the bench's own is created later, by
        # fresh_database, and may not exist yet on a machine that never ran the bench.
        engine = create_engine(make_url(postgres_url).set(database="postgres"))
        with engine.connect() as conn:
            found["postgresql server"] = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
    return found
