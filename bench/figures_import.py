"""The import memory figures: a worker's peak resident memory while it imports a 32 MiB
/me/export document, and what it keeps afterwards (finding 6 of the security review: one such
import raised a worker from 238 to 586 MiB and it kept ~520 MiB)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.client import API, register_patient
from bench.import_doc import document
from bench.measure import _status_kib
from bench.report import Figure, Target
from bench.server import Server

DOCUMENT_BYTES = 32 * 1024 * 1024 - 64 * 1024  # just under the 32 MiB body limit
MIB = 1024 * 1024
SETTLE_SECONDS = 1.0


def _rss_mib(pid: int, field: str = "VmRSS") -> float:
    return _status_kib(pid, field) / 1024


def _import(http: httpx.Client, token: str, body: bytes) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = http.post(f"{API}/me/import", content=body, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"import answered {response.status_code}: {response.text[:500]}")
    return response


def import_memory(new_server: Callable[[], Server], engine: str) -> list[Figure]:
    body = document(DOCUMENT_BYTES)
    size_mib = len(body) / MIB
    with new_server() as server, httpx.Client(base_url=server.base_url, timeout=600) as http:
        # Every worker runs a small import first, so the code it needs is loaded everywhere.
        small = document(256 * 1024, seed=3)
        for i in range(4 * server.workers):
            _import(http, register_patient(http, f"warm{i}").token, small)
        patient = register_patient(http, "import32")
        time.sleep(SETTLE_SECONDS)
        pids = server.worker_pids()
        before = {pid: _rss_mib(pid) for pid in pids}
        for pid in pids:  # reset the kernel's peak (VmHWM) to the current size
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        started = time.perf_counter()
        counts = _import(http, patient.token, body).json()
        elapsed = time.perf_counter() - started
        time.sleep(SETTLE_SECONDS)
        growth = {pid: _rss_mib(pid, "VmHWM") - before[pid] for pid in pids}
        worker = max(growth, key=lambda pid: growth[pid])
        after = _rss_mib(worker)
    peak_growth = growth[worker]
    kept = after - before[worker]
    shown = (
        f"{size_mib:.1f} MiB document ({counts['episodes']} episodes, {counts['checkins']} "
        f"check-ins) imported in {elapsed:.1f} s; worker RSS {before[worker]:.0f} MiB before, "
        f"peak {before[worker] + peak_growth:.0f} MiB, {after:.0f} MiB after"
    )
    how = ["paindiary serve --workers 2; POST /api/v1/me/import; VmHWM/VmRSS of the worker"]
    return [
        Figure(
            "import of a 32 MiB document: peak RSS growth ÷ document size",
            engine,
            Target.at_most(3),
            peak_growth / size_mib,
            shown,
            how,
        ),
        Figure(
            "import of a 32 MiB document: RSS after minus before (MiB)",
            engine,
            Target.at_most(50),
            kept,
            shown,
            how,
        ),
    ]
