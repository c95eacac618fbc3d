"""``make bench``: every figure on SQLite and PostgreSQL, the soak, then bench/RESULTS.md."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from contextlib import ExitStack

import httpx

from bench import (
    client,
    envinfo,
    figures_clinic,
    figures_import,
    figures_load,
    figures_outcomes,
    figures_scale,
    report,
    seed,
    soak,
    wrk,
)
from bench.report import Figure, Target, not_measured
from bench.server import OUT_DIR, Engine, Server, engines, fresh_database

LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Patients the PUT load spreads over (PostgreSQL locks per patient).
WRITERS = int(os.environ.get("BENCH_WRITERS", "16"))
SOAK_PATIENTS = int(os.environ.get("BENCH_SOAK_PATIENTS", "8"))
SOAK_SERVERS = 2  # paindiary serve processes on one PostgreSQL database
# While iterating, e.g. BENCH_PARTS=scale BENCH_ENGINES=sqlite; make bench runs everything.
PARTS = os.environ.get("BENCH_PARTS", "load,scale,import,soak").split(",")
ENGINES = os.environ.get("BENCH_ENGINES", "sqlite,postgresql").split(",")
failures: list[str] = []


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(143)  # unwinds the with-blocks, so the servers are stopped


def attempt(name: str, engine: str, make: Callable[[], list[Figure]]) -> list[Figure]:
    """A figure that fails is reported as such; the others are still measured."""
    started = time.monotonic()
    print(f"  {name} …", flush=True)
    try:
        made = make()
    except Exception as exc:
        traceback.print_exc()
        failures.append(f"{name} ({engine})")
        return [not_measured(name, engine, Target.report(), f"failed: {exc!r}"[:300])]
    for figure in made:
        print(f"    {figure.shown_ratio} ({figure.status}) {figure.absolute or figure.note}")
    print(f"    [{time.monotonic() - started:.0f} s]", flush=True)
    return made


def run_engine(engine: Engine, wrk_binary: str | None, secret: str) -> list[Figure]:
    label = LABELS[engine.name]
    print(f"{label}: fresh database, server, accounts", flush=True)
    fresh_database(engine)
    out: list[Figure] = []
    with (
        Server(engine, secret=secret) as server,
        httpx.Client(base_url=server.base_url, timeout=300) as http,
    ):
        available = figures_scale.routes(http)
        writers = [client.register_patient(http, f"writer{i}") for i in range(WRITERS)]
        batcher, warm = (
            client.register_patient(http, "batcher"),
            client.register_patient(http, "empty"),
        )
        small, large = (
            client.register_patient(http, "history1k"),
            client.register_patient(http, "history100k"),
        )
        peak: list[float] = []

        def load() -> list[Figure]:
            figure, rate = figures_load.throughput(server, label, wrk_binary, writers)
            peak.append(rate)
            return [figure]

        if "load" in PARTS:
            out += attempt("PUT ÷ /healthz", label, load)
            if peak:
                out += attempt(
                    "PUT tail", label, lambda: [figures_load.tail(server, label, writers, peak[0])]
                )
            out += attempt(
                "batch ÷ single", label, lambda: [figures_load.batch(server, label, batcher)]
            )
        if "scale" not in PARTS:
            if "import" in PARTS:
                out += _import_figures(engine, label, secret)
            return out
        admin = client.create_admin(server)
        c50 = client.create_clinician(http, admin, "clinician50")
        c500 = client.create_clinician(http, admin, "clinician500")
        print(
            f"{label}: seeding 1 000 + 100 000 episodes of history and a 500-patient cohort",
            flush=True,
        )
        started = time.monotonic()
        history = {
            "1 000 records": (small, seed.history_patient(engine.url, _pid(small), 1000)),
            "100 000 records": (large, seed.history_patient(engine.url, _pid(large), 100_000)),
        }
        cohort_episodes = seed.cohort(engine.url, [(c500.user_id, 500), (c50.user_id, 50)], 500)
        print(f"  seeded ({cohort_episodes} cohort episodes) [{time.monotonic() - started:.0f} s]")
        out += attempt(
            "change feed", label, lambda: [figures_scale.change_feed(http, label, history)]
        )
        out += attempt(
            "trend", label, lambda: [figures_scale.trend(http, label, available, history)]
        )
        out += attempt(
            "courses", label, lambda: [figures_scale.courses(http, label, available, history)]
        )
        out += attempt(
            "cohort",
            label,
            lambda: figures_scale.cohort(http, label, available, {50: c50, 500: c500}),
        )
        out += attempt(
            "clinician patients page",
            label,
            lambda: figures_clinic.patients_page(http, {50: c50, 500: c500}, label),
        )
        out += attempt(
            "outcomes kept ready",
            label,
            lambda: figures_outcomes.figures(http, engine.url, label, admin),
        )
    out += attempt(
        "CSV export",
        label,
        lambda: [
            figures_scale.csv_export(
                lambda: Server(engine, secret=secret), label, available, history, warm
            )
        ],
    )
    if "import" in PARTS:
        out += _import_figures(engine, label, secret)
    return out


def _import_figures(engine: Engine, label: str, secret: str) -> list[Figure]:
    return attempt(
        "import memory",
        label,
        lambda: figures_import.import_memory(lambda: Server(engine, secret=secret), label),
    )


def _pid(account: client.Account) -> uuid.UUID:
    assert account.patient_id is not None
    return account.patient_id


def run_soak(engine: Engine, secret: str) -> list[Figure]:
    print(
        f"PostgreSQL soak: {soak.SOAK_SECONDS:.0f} s of mixed load over {SOAK_SERVERS} servers",
        flush=True,
    )
    fresh_database(engine)
    with ExitStack() as stack:
        # The same database, secret key and audit key: one service behind a load balancer.
        servers = [stack.enter_context(Server(engine, secret=secret)) for _ in range(SOAK_SERVERS)]
        http = stack.enter_context(httpx.Client(base_url=servers[0].base_url, timeout=60))
        available = figures_scale.routes(http)
        patients = [client.register_patient(http, f"soak{i}") for i in range(SOAK_PATIENTS)]
        admin = client.create_admin(servers[0])
        clinician = client.create_clinician(http, admin, "soakclinician")
        for patient in patients:
            client.grant(http, patient, clinician)
        seeded = [seed.history_patient(engine.url, _pid(p), 400, series_count=1) for p in patients]
        with_trend = figures_scale._shape(client.API + figures_scale.TREND) in available
        return soak.run(
            [server.base_url for server in servers],
            engine.url,
            list(zip(patients, seeded, strict=True)),
            clinician,
            with_trend,
        )


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    started = dt.datetime.now(dt.UTC)
    secret = secrets.token_urlsafe(48)
    wrk_binary = wrk.ensure_wrk()
    found = engines()
    pg = next((e for e in found if e.name == "postgresql"), None)
    machine = envinfo.machine()
    versions = envinfo.versions(pg.url if pg else None)
    versions["load generator"] = (
        "wrk (Debian), 1 thread, 32 connections" if wrk_binary else "httpx (wrk not installed)"
    )
    figures: list[Figure] = []
    for engine in found:
        if engine.name in ENGINES:
            figures += run_engine(engine, wrk_binary, secret)
    if "soak" not in PARTS:
        pass
    elif pg is not None:
        figures += attempt("soak", "PostgreSQL", lambda: run_soak(pg, secret))
    else:
        figures.append(
            not_measured("soak", "PostgreSQL", Target.at_most(0), "PostgreSQL not reachable")
        )
    machine["load average at end (1, 5, 15 min)"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    commands = [
        "server: PAINDIARY_ENV=production PAINDIARY_ACCESS_TOKEN_MINUTES=60 "
        "PAINDIARY_REGISTER_MAX_PER_IP=100000 PAINDIARY_EXPORT_MAX_PER_PATIENT=100000 "
        "PAINDIARY_EMAIL_VERIFICATION=off PAINDIARY_MAIL_DIR=bench/out/mail "
        "paindiary serve --host 127.0.0.1 --port <free port> --workers 2 --no-access-log "
        "--log-level warning "
        "(SQLite file bench/out/bench.db; PostgreSQL database paindiary_bench, recreated)",
        f"soak: {SOAK_SERVERS} such servers (2 workers each) on the one PostgreSQL database, "
        "the same secret and audit keys; each request to one of them at random, retries to the "
        "next",
    ]
    complete = set(PARTS) >= {"load", "scale", "import", "soak"} and set(ENGINES) >= set(LABELS)
    path = report.RESULTS if complete else OUT_DIR / "RESULTS-partial.md"
    report.write(
        figures, machine=machine, versions=versions, commands=commands, started=started, path=path
    )
    print()
    print(report.table(figures))
    print(f"\nwrote {path}")
    if failures:
        print("figures that failed: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
