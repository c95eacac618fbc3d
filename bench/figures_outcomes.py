"""Outcomes kept ready at clinic scale: 10 000 patients against 1 000 (issue 14).

One clinician sees all ``BENCH_OUTCOME_PATIENTS`` (default 10 000) seeded patients, another the
first tenth. Figures:

- the cohort page (50 rows, no summary) p50 at 10 000 ÷ at 1 000 (target ≤ 1.5);
- the clinicians' patients page (``ready.patient_outcome_rows``, latest series per patient,
  sorted "relief ended first" in the database, 50 a page) p50 at 10 000 ÷ at 1 000 (≤ 1.5),
  called in this process against the same database (the web page that serves it is another
  branch's), so it has no HTTP and no auth in it;
- the cohort summary over all 10 000 series p50 (≤ 300 ms on PostgreSQL);
- the cost of bringing every outcome up to date after a day change: every stored row made
  out of date (as at local midnight), then one cohort page read that recomputes all of them;
  and the first fill (no rows yet), the same work plus the inserts.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
import time

import httpx
from sqlalchemy import create_engine, text, update

from app.db import Database
from app.services.identity.actors import Actor
from app.services.outcomes import ready
from bench import client, report, seed
from bench.client import API, Account
from bench.measure import Call, interleaved, timed
from bench.report import Figure, Target
from bench.server import Server, engines, fresh_database
from bench.stats import percentile

COHORT = f"{API}/cohort/series-outcomes"
PATIENTS = int(os.environ.get("BENCH_OUTCOME_PATIENTS", "10000"))
SMALL = max(PATIENTS // 10, 1)
LARGE_LABEL, SMALL_LABEL = f"{PATIENTS} patients", f"{SMALL} patients"


def _page(http: httpx.Client, account: Account, **params: str | int) -> Call:
    return lambda: http.get(COHORT, params=params, headers=account.headers)


def _p50_ms(samples: list[float]) -> float:
    return percentile(samples, 0.5) * 1000


def _ratio(samples: dict[str, list[float]]) -> tuple[float, str]:
    large, small = _p50_ms(samples[LARGE_LABEL]), _p50_ms(samples[SMALL_LABEL])
    shown = (
        f"p50 {large:.1f} ms at {LARGE_LABEL} (n={len(samples[LARGE_LABEL])}), "
        f"{small:.1f} ms at {SMALL_LABEL} (n={len(samples[SMALL_LABEL])})"
    )
    return large / small, shown


def _outdate_everything(url: str) -> None:
    """As at everyone's midnight: every stored row's day is over."""
    db = Database(url, pool_size=1)
    try:
        with db.session(write=True) as session:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            session.execute(update(ready.PATIENTS).values(valid_until=past))
            session.commit()
    finally:
        db.engine.dispose()


def _as_autovacuum_would(url: str) -> None:
    """PostgreSQL: VACUUM ANALYZE, as autovacuum does soon after a mass update (the day
    change rewrote every row; planner statistics from before the fill say the marks table is
    full). SQLite keeps no statistics: nothing to do."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def figures(http: httpx.Client, url: str, engine: str, admin: Account) -> list[Figure]:
    large = client.create_clinician(http, admin, "clinician-outcomes-large")
    small = client.create_clinician(http, admin, "clinician-outcomes-small")
    started = time.monotonic()
    records = seed.outcome_cohort(
        url, [(large.user_id, PATIENTS), (small.user_id, SMALL)], PATIENTS
    )
    seeded_s = time.monotonic() - started
    print(f"    seeded {PATIENTS} patients, {records} diary records [{seeded_s:.0f} s]")
    note = [f"seeded in {seeded_s:.0f} s ({records} diary records, bulk inserts)"]
    out: list[Figure] = []

    # Recomputing a whole clinic in one request can outlast the shared client's timeout.
    with httpx.Client(base_url=http.base_url, timeout=3600) as patient_http:
        fill_s = timed(_page(patient_http, large, limit=1, summary="false"))
        _outdate_everything(url)
        day_s = timed(_page(patient_http, large, limit=1, summary="false"))
    _as_autovacuum_would(url)
    out.append(
        Figure(
            f"outcomes first fill, {PATIENTS} patients (s)",
            engine,
            Target.report(),
            fill_s,
            f"{fill_s * 1000 / PATIENTS:.2f} ms a patient; the first cohort read after seeding",
            note,
        )
    )
    out.append(
        Figure(
            f"outcomes brought up to date after a day change, {PATIENTS} patients (s)",
            engine,
            Target.report(),
            day_s,
            f"{day_s * 1000 / PATIENTS:.2f} ms a patient; every row out of date, then one "
            "cohort page read (a `paindiary` refresh just after midnight would take it off "
            "the first reader)",
        )
    )

    pages = {
        LARGE_LABEL: _page(http, large, limit=50, summary="false"),
        SMALL_LABEL: _page(http, small, limit=50, summary="false"),
    }
    interleaved(pages, rounds=4, budget=30)
    ratio, shown = _ratio(interleaved(pages, rounds=60, budget=60))
    out.append(
        Figure(
            f"cohort page (50 rows) p50 at {LARGE_LABEL} ÷ at {SMALL_LABEL}",
            engine,
            Target.at_most(1.5),
            ratio,
            shown,
            ["sequential httpx client, interleaved; summary=false"],
        )
    )

    summary = {LARGE_LABEL: _page(http, large, limit=1)}
    interleaved(summary, rounds=2, budget=30)
    samples = interleaved(summary, rounds=20, budget=60)[LARGE_LABEL]
    p50 = _p50_ms(samples)
    out.append(
        Figure(
            f"cohort summary over {PATIENTS} series p50 (ms)",
            engine,
            Target.at_most(300) if engine == "PostgreSQL" else Target.report(),
            p50,
            f"p50 {p50:.1f} ms (n={len(samples)}); first page, limit=1, with the summary",
        )
    )
    out.append(_patients_page(url, engine, large, small))
    return out


def _patients_page(url: str, engine: str, large: Account, small: Account) -> Figure:
    db = Database(url, pool_size=2)
    actors = {
        LARGE_LABEL: Actor(id=large.user_id, role="clinician", display_name="large"),
        SMALL_LABEL: Actor(id=small.user_id, role="clinician", display_name="small"),
    }

    def call(actor: Actor) -> Call:
        def run() -> httpx.Response:
            with db.session() as session:
                page = ready.patient_outcome_rows(
                    session,
                    actor,
                    db=db,
                    sort="relief_ended",
                    limit=50,
                    offset_or_cursor=None,
                    as_of=None,
                )
            assert len(page.items) == 50
            return httpx.Response(200)

        return run

    try:
        calls = {label: call(actor) for label, actor in actors.items()}
        interleaved(calls, rounds=4, budget=30)
        ratio, shown = _ratio(interleaved(calls, rounds=60, budget=60))
    finally:
        db.engine.dispose()
    return Figure(
        f"patients page (relief ended first, 50) p50 at {LARGE_LABEL} ÷ at {SMALL_LABEL}",
        engine,
        Target.at_most(1.5),
        ratio,
        shown,
        ["in process: ready.patient_outcome_rows (no HTTP, no auth), interleaved"],
    )


def main() -> int:
    """Only these figures: ``python -m bench.figures_outcomes [sqlite|postgresql]`` (each
    engine in a fresh database; BENCH_POSTGRES_URL names PostgreSQL's, as for make bench)."""
    wanted = set(sys.argv[1:]) or {"sqlite", "postgresql"}
    found: list[Figure] = []
    for engine in engines():
        if engine.name not in wanted:
            continue
        label = "SQLite" if engine.name == "sqlite" else "PostgreSQL"
        fresh_database(engine)
        with (
            Server(engine, secret=secrets.token_urlsafe(48)) as server,
            httpx.Client(base_url=server.base_url, timeout=600) as http,
        ):
            made = figures(http, engine.url, label, client.create_admin(server))
        for figure in made:
            print(
                f"{label}: {figure.name}: {figure.shown_ratio} ({figure.status}) {figure.absolute}"
            )
        found += made
    print(report.table(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
