"""The request-path figures: PUT throughput against /healthz, its tail at half the peak rate,
and a 500-item batch against a single PUT."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid

import httpx

from bench import loadgen, wrk
from bench.client import API, Account, episode_body
from bench.measure import timed
from bench.report import Figure, Target
from bench.server import Server
from bench.stats import Latency, percentile

LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "10"))
WARMUP_SECONDS = int(os.environ.get("BENCH_WARMUP_SECONDS", "3"))
# Issue 14: ahead of a plain FastAPI + ORM insert without auth (0.05-0.06 of /healthz).
PUT_TARGETS = {"sqlite": 0.06, "postgresql": 0.05}
GENERATOR_CONNECTIONS = 32
BATCH_ROUNDS = int(os.environ.get("BENCH_BATCH_ROUNDS", "8"))
BATCH_ITEMS = int(os.environ.get("BENCH_BATCH_ITEMS", "500"))
# The tail moves from run to run on a shared machine: its figure is the median of these runs.
TAIL_RUNS = int(os.environ.get("BENCH_TAIL_RUNS", "3"))


def _put_pairs(writers: list[Account]) -> list[tuple[str, str]]:
    return [(str(w.patient_id), w.token) for w in writers]


def _closed(server: Server, make: loadgen.RequestFactory, seconds: int) -> tuple[float, str]:
    result = loadgen.closed_loop(
        server.base_url, make, connections=GENERATOR_CONNECTIONS, seconds=seconds
    )
    if result.server_errors or result.errors:
        raise RuntimeError(f"errors under load: {result.statuses}, {result.errors} failed")
    return result.ok / result.seconds, f"httpx closed loop, {GENERATOR_CONNECTIONS} connections"


def throughput(
    server: Server, engine_label: str, wrk_binary: str | None, writers: list[Account]
) -> tuple[Figure, float]:
    """Authenticated PUT episode req/s ÷ /healthz req/s; also returns the PUT peak rate."""
    body = json.dumps(episode_body())
    commands = []
    if wrk_binary is not None:
        put_script = wrk.put_script(_put_pairs(writers), body)
        runs = {}
        for name, url, script in (
            ("healthz", server.base_url + "/healthz", wrk.get_script()),
            ("put", server.base_url, put_script),
        ):
            if WARMUP_SECONDS > 0:
                wrk.run(wrk_binary, url, script, seconds=WARMUP_SECONDS, name=f"{name}-warmup")
            runs[name] = wrk.run(wrk_binary, url, script, seconds=LOAD_SECONDS, name=name)
            commands.append(runs[name].command)
        for name, run in runs.items():
            if run.non_2xx_3xx or run.socket_errors:
                raise RuntimeError(f"{name}: {run.non_2xx_3xx} errors, {run.socket_errors} failed")
        health, put = runs["healthz"].rate, runs["put"].rate
        put_latency = f"PUT p50 {runs['put'].p50_ms:.0f} ms, p99 {runs['put'].p99_ms:.0f} ms"
    else:
        make = loadgen.PutEpisodes(tuple(_put_pairs(writers)), body.encode())
        _closed(server, loadgen.Get("/healthz"), WARMUP_SECONDS)
        health, how = _closed(server, loadgen.Get("/healthz"), LOAD_SECONDS)
        _closed(server, make, WARMUP_SECONDS)
        put, _ = _closed(server, make, LOAD_SECONDS)
        commands.append(how + f", {LOAD_SECONDS} s each (wrk not installed)")
        put_latency = ""
    figure = Figure(
        "authenticated PUT episode req/s ÷ /healthz req/s",
        engine_label,
        Target.at_least(PUT_TARGETS[server.engine.name]),
        put / health,
        f"PUT {put:.0f} req/s, /healthz {health:.0f} req/s; {put_latency}".rstrip("; "),
        commands,
    )
    return figure, put


def tail(server: Server, engine_label: str, writers: list[Account], peak: float) -> Figure:
    """p99 ÷ p50 of the PUT at half its peak rate, open loop from the scheduled send times;
    the median of ``TAIL_RUNS`` runs (each run's figures are listed beside it)."""
    rate = peak / 2
    make = loadgen.PutEpisodes(tuple(_put_pairs(writers)), json.dumps(episode_body()).encode())
    processes = 1 if rate <= 400 else 2
    runs: list[tuple[float, str]] = []
    for _ in range(TAIL_RUNS):
        result = loadgen.fixed_rate(
            server.base_url, make, rate=rate, seconds=LOAD_SECONDS + 2, processes=processes
        )
        if result.server_errors or result.errors:
            raise RuntimeError(f"errors at half rate: {result.statuses}, {result.errors} failed")
        latency = Latency.of(result.latencies)
        runs.append(
            (
                latency.p99 / latency.p50,
                f"{latency.p99 / latency.p50:.2f} ({latency}; generator lag max "
                f"{result.lag_max * 1000:.1f} ms)",
            )
        )
    ratios = sorted(ratio for ratio, _ in runs)
    median = ratios[len(ratios) // 2]
    return Figure(
        "PUT p99 ÷ p50 at half the peak rate (median of runs)",
        engine_label,
        Target.at_most(3),
        median,
        f"{rate:.0f} req/s for {LOAD_SECONDS + 2} s, {len(runs)} runs: "
        + "; ".join(shown for _, shown in runs),
        [
            f"open-loop httpx generator ({processes} process), {rate:.0f} req/s, latency from "
            f"the scheduled send time, {len(runs)} runs, the median ratio"
        ],
    )


def _batch_body(count: int) -> bytes:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    items = []
    for index in range(count):
        started = now - dt.timedelta(days=30, minutes=7 * index)
        items.append({"id": str(uuid.uuid4()), **episode_body(started.isoformat())})
    return json.dumps({"items": items}).encode()


def batch(server: Server, engine_label: str, patient: Account) -> Figure:
    """One 500-item batch upload ÷ one single PUT, latency p50, sequential and interleaved."""
    headers = {**patient.headers, "Content-Type": "application/json"}
    single_body = json.dumps(episode_body()).encode()
    episodes = f"{API}/patients/{patient.patient_id}/episodes"
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        bodies = iter([_batch_body(BATCH_ITEMS) for _ in range(BATCH_ROUNDS + 1)])

        def single() -> httpx.Response:
            return http.put(f"{episodes}/{uuid.uuid4()}", content=single_body, headers=headers)

        def upload() -> httpx.Response:
            response = http.post(f"{episodes}/batch", content=next(bodies), headers=headers)
            statuses = {r["status"] for r in response.json()["results"]}
            if statuses != {"created"}:
                raise RuntimeError(f"batch items not all created: {statuses}")
            return response

        for _ in range(10):
            single()
        upload()
        singles: list[float] = []
        batches: list[float] = []
        for _ in range(BATCH_ROUNDS):  # interleaved: noise on the machine hits both sides
            batches.append(timed(upload))
            singles += [timed(single) for _ in range(5)]
    single_p50, batch_p50 = percentile(singles, 0.5) * 1000, percentile(batches, 0.5) * 1000
    return Figure(
        "one 500-item batch ÷ one single PUT (latency p50)",
        engine_label,
        Target.at_most(25),
        batch_p50 / single_p50,
        f"batch p50 {batch_p50:.0f} ms (n={len(batches)}), single PUT p50 {single_p50:.1f} ms "
        f"(n={len(singles)})",
        ["sequential httpx client, batches and single PUTs interleaved"],
    )
