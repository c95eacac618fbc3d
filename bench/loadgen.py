"""Our own load generators, on httpx and uvloop, in processes separate from the server.

- ``fixed_rate``: open loop. Requests are sent on a fixed schedule whatever the server does, and
  each latency is measured from its *scheduled* send time, so a stall counts for every request
  it delayed (no coordinated omission: a closed loop would quietly stop sending while the
  server is stuck, and report only the few slow requests it did send).
- ``closed_loop``: N connections each sending its next request when the previous one
  answers; the fallback for throughput when wrk is not installed.
"""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import httpx

# One request to make: method, path, headers, JSON body. Built per request (fresh ids).
RequestFactory = Callable[[int], tuple[str, str, dict[str, str], bytes | None]]


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0  # no HTTP answer (connection error or timeout)
    sent: int = 0
    seconds: float = 0.0
    lag_max: float = 0.0  # the generator's own worst delay in sending on schedule

    def merge(self, other: LoadResult) -> LoadResult:
        merged = LoadResult(
            latencies=self.latencies + other.latencies,
            statuses=dict(self.statuses),
            errors=self.errors + other.errors,
            sent=self.sent + other.sent,
            seconds=max(self.seconds, other.seconds),
            lag_max=max(self.lag_max, other.lag_max),
        )
        for status, count in other.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + count
        return merged

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)


@dataclass(frozen=True)
class PutEpisodes:
    """PUT a new episode under a fresh id, round-robin over the patients' own tokens.
    (A class, not a closure: generator processes receive it pickled.)"""

    patients: tuple[tuple[str, str], ...]  # (patient id, access token)
    body: bytes

    def __call__(self, n: int) -> tuple[str, str, dict[str, str], bytes | None]:
        pid, token = self.patients[n % len(self.patients)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        return "PUT", f"/api/v1/patients/{pid}/episodes/{uuid.uuid4()}", headers, self.body


@dataclass(frozen=True)
class Get:
    path: str
    headers: tuple[tuple[str, str], ...] = ()

    def __call__(self, n: int) -> tuple[str, str, dict[str, str], bytes | None]:
        return "GET", self.path, dict(self.headers), None


async def _fixed_rate(
    base_url: str, make: RequestFactory, rate: float, seconds: float, offset: float
) -> LoadResult:
    result = LoadResult()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:

        async def one(n: int, scheduled: float) -> None:
            method, path, headers, body = make(n)
            try:
                response = await http.request(method, path, headers=headers, content=body)
            except httpx.HTTPError:
                result.errors += 1
                return
            done = time.perf_counter()
            result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
            if response.is_success:
                result.latencies.append(done - scheduled)

        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter() + 0.05 + offset / rate
        n = 0
        while True:
            scheduled = start + n / rate
            if scheduled - start >= seconds:
                break
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                result.lag_max = max(result.lag_max, -delay)
            tasks.append(asyncio.create_task(one(n, scheduled)))
            n += 1
        result.sent = n
        await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - start
    return result


async def _closed_loop(
    base_url: str, make: RequestFactory, connections: int, seconds: float
) -> LoadResult:
    result = LoadResult()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        start = time.perf_counter()
        deadline = start + seconds
        counter = iter(range(10**12))

        async def connection() -> None:
            while time.perf_counter() < deadline:
                method, path, headers, body = make(next(counter))
                sent = time.perf_counter()
                try:
                    response = await http.request(method, path, headers=headers, content=body)
                except httpx.HTTPError:
                    result.errors += 1
                    continue
                code = response.status_code
                result.statuses[code] = result.statuses.get(code, 0) + 1
                if response.is_success:
                    result.latencies.append(time.perf_counter() - sent)
                result.sent += 1

        await asyncio.gather(*(connection() for _ in range(connections)))
        result.seconds = time.perf_counter() - start
    return result


def _quiet_collector() -> None:
    """A generator process is forked from the harness, which has imported the whole app: a
    full collection would walk those ~200 000 inherited objects, stalling the generator for tens
    of milliseconds - time that latency measured from the schedule would blame on the server.
    Frozen, collections only walk the generator's own objects."""
    gc.collect()
    gc.freeze()


def _run_fixed_rate(
    base_url: str, make: RequestFactory, rate: float, seconds: float, offset: float
) -> LoadResult:
    import uvloop

    _quiet_collector()
    return uvloop.run(_fixed_rate(base_url, make, rate, seconds, offset))


def _run_closed_loop(
    base_url: str, make: RequestFactory, connections: int, seconds: float
) -> LoadResult:
    import uvloop

    _quiet_collector()
    return uvloop.run(_closed_loop(base_url, make, connections, seconds))


def fixed_rate(
    base_url: str, make: RequestFactory, *, rate: float, seconds: float, processes: int = 1
) -> LoadResult:
    """``rate`` requests per second for ``seconds``, split over ``processes`` generator
    processes (each sends every ``processes``-th slot of the one schedule)."""
    per = rate / processes
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            pool.submit(_run_fixed_rate, base_url, make, per, seconds, i / processes)
            for i in range(processes)
        ]
        results = [f.result() for f in futures]
    merged = LoadResult()
    for r in results:
        merged = merged.merge(r)
    return merged


def closed_loop(
    base_url: str, make: RequestFactory, *, connections: int, seconds: float, processes: int = 2
) -> LoadResult:
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            pool.submit(_run_closed_loop, base_url, make, connections // processes, seconds)
            for _ in range(processes)
        ]
        results = [f.result() for f in futures]
    merged = LoadResult()
    for r in results:
        merged = merged.merge(r)
    return merged
