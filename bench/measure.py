"""Sequential latency samples and worker memory, the building blocks of the scale figures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.server import Server

Call = Callable[[], httpx.Response]


def timed(call: Call) -> float:
    start = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - start
    if not response.is_success:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return elapsed


def interleaved(calls: dict[str, Call], *, rounds: int, budget: float) -> dict[str, list[float]]:
    """Latencies (s) of each call, one of each per round, the order flipped every round, so
    that a burst of noise on the shared machine lands on both sides of a ratio."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    deadline = time.monotonic() + budget
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            samples[name].append(timed(calls[name]))
        if time.monotonic() > deadline and index >= 2:
            break
    return samples


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def peak_rss_growth_mib(server: Server, call: Call) -> float:
    """How far the peak resident memory of the worker that served ``call`` rose above its
    resident memory before it (the largest rise over the workers, in MiB).

    The kernel's peak (VmHWM) is reset first (``clear_refs`` 5); where that is not allowed,
    resident memory is sampled every 2 ms instead.
    """
    pids = server.worker_pids()
    before = {pid: _status_kib(pid, "VmRSS") for pid in pids}
    try:
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return _sampled_growth_mib(pids, before, call)
    timed(call)
    return max(_status_kib(pid, "VmHWM") - before[pid] for pid in pids) / 1024


def _sampled_growth_mib(pids: list[int], before: dict[int, int], call: Call) -> float:
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in pids:
                peak[pid] = max(peak[pid], _status_kib(pid, "VmRSS"))
            time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        timed(call)
    finally:
        done.set()
        sampler.join()
    return max(peak[pid] - before[pid] for pid in pids) / 1024
