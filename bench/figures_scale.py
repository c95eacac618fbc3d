"""The scale figures: cost at 100 000 records of history against 1 000, and the cohort.

The trend report, the cohort outcomes and the CSV export may not be on this branch yet: each is
measured when the running app declares its route, and reported as not measured otherwise.
"""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Callable

import httpx

from app.services.sync.changes import encode_cursor
from bench.client import API, Account
from bench.measure import Call, interleaved, peak_rss_growth_mib
from bench.report import Figure, Target, not_measured
from bench.seed import SeededSeries, as_of
from bench.server import Server
from bench.stats import percentile

TREND = "/patients/{pid}/series/{sid}/trend"
COURSES = "/patients/{pid}/courses"
CSV = "/patients/{pid}/export/episodes.csv"
COHORT = "/cohort/series-outcomes"
RSS_FLOOR_MIB = 1.0


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def routes(http: httpx.Client) -> set[str]:
    """The GET routes the running app declares, parameters blanked ({pid} → {})."""
    spec = http.get("/openapi.json").json()
    return {_shape(p) for p, ops in spec.get("paths", {}).items() if "get" in ops}


def _absent(name: str, engine: str, target: Target, path: str) -> Figure:
    return not_measured(name, engine, target, f"endpoint GET {API}{path} not present")


def _p50_ratio(samples: dict[str, list[float]], large: str, small: str) -> tuple[float, str]:
    p_large = percentile(samples[large], 0.5) * 1000
    p_small = percentile(samples[small], 0.5) * 1000
    shown = (
        f"p50 {p_large:.1f} ms at {large} (n={len(samples[large])}), "
        f"{p_small:.1f} ms at {small} (n={len(samples[small])})"
    )
    return p_large / p_small, shown


def change_feed(
    http: httpx.Client, engine: str, patients: dict[str, tuple[Account, SeededSeries]]
) -> Figure:
    """A change-feed page (the default 50) from a random position in the history."""
    rng = random.Random(3)

    def page(account: Account, seeded: SeededSeries) -> Call:
        def call() -> httpx.Response:
            since = encode_cursor(rng.randrange(0, seeded.records - 50))
            return http.get(
                f"{API}/patients/{account.patient_id}/changes",
                params={"since": since},
                headers=account.headers,
            )

        return call

    calls = {label: page(*pair) for label, pair in patients.items()}
    interleaved(calls, rounds=10, budget=20)  # warm-up
    samples = interleaved(calls, rounds=150, budget=40)
    ratio, shown = _p50_ratio(samples, "100 000 records", "1 000 records")
    return Figure(
        "change-feed page p50 at 100 000 records ÷ at 1 000",
        engine,
        Target.at_most(1.5),
        ratio,
        shown + "; pages of 50 from random positions",
        ["sequential httpx client, the two patients interleaved"],
    )


def trend(
    http: httpx.Client,
    engine: str,
    available: set[str],
    patients: dict[str, tuple[Account, SeededSeries]],
) -> Figure:
    """The trend of the latest of the patient's 4 series (a booster: it reads its course's
    reference baseline too)."""
    name = "trend report p50, 100 000 episodes of history ÷ 1 000 (same windows, 4 series)"
    target = Target.at_most(1.5)
    if _shape(API + TREND) not in available:
        return _absent(name, engine, target, TREND)
    day = as_of().isoformat()

    def report(account: Account, seeded: SeededSeries) -> Call:
        path = f"{API}/patients/{account.patient_id}/series/{seeded.series_id}/trend"
        return lambda: http.get(path, params={"as_of": day}, headers=account.headers)

    calls = {
        label.replace("records", "episodes"): report(*pair) for label, pair in patients.items()
    }
    interleaved(calls, rounds=3, budget=30)
    samples = interleaved(calls, rounds=60, budget=40)
    ratio, shown = _p50_ratio(samples, "100 000 episodes", "1 000 episodes")
    return Figure(name, engine, target, ratio, shown, ["sequential httpx client, interleaved"])


def courses(
    http: httpx.Client,
    engine: str,
    available: set[str],
    patients: dict[str, tuple[Account, SeededSeries]],
) -> Figure:
    """GET /courses: every series' relief and the outlook, for a patient with 4 series."""
    name = "courses p50, 100 000 episodes of history ÷ 1 000 (same 4 series)"
    target = Target.at_most(1.5)
    if _shape(API + COURSES) not in available:
        return _absent(name, engine, target, COURSES)
    day = as_of().isoformat()

    def overview(account: Account) -> Call:
        path = f"{API}/patients/{account.patient_id}/courses"
        return lambda: http.get(path, params={"as_of": day}, headers=account.headers)

    calls = {
        label.replace("records", "episodes"): overview(account)
        for label, (account, _) in patients.items()
    }
    interleaved(calls, rounds=3, budget=30)
    samples = interleaved(calls, rounds=60, budget=40)
    ratio, shown = _p50_ratio(samples, "100 000 episodes", "1 000 episodes")
    return Figure(name, engine, target, ratio, shown, ["sequential httpx client, interleaved"])


def _export_growth(new_server: Callable[[], Server], account: Account, warm: Account) -> float:
    with new_server() as server, httpx.Client(base_url=server.base_url, timeout=300) as http:
        tiny = f"{API}/patients/{warm.patient_id}/export/episodes.csv"
        for _ in range(4):  # the code paths loaded in both workers, on a tiny export
            http.get(tiny, headers=warm.headers)
        path = f"{API}/patients/{account.patient_id}/export/episodes.csv"
        return peak_rss_growth_mib(server, lambda: http.get(path, headers=account.headers))


def csv_export(
    new_server: Callable[[], Server],
    engine: str,
    available: set[str],
    patients: dict[str, tuple[Account, SeededSeries]],
    warm: Account,
) -> Figure:
    """Peak RSS growth of the serving worker during the export, each on fresh workers (Python
    keeps memory it freed, so an earlier export would hide the next one's peak)."""
    name = "CSV export peak RSS growth, 100 000 episodes ÷ 1 000"
    target = Target.at_most(1.5)
    if _shape(API + CSV) not in available:
        return _absent(name, engine, target, CSV)
    growth = {
        label: statistics.median(_export_growth(new_server, account, warm) for _ in range(2))
        for label, (account, _) in patients.items()
    }
    large, small = growth["100 000 records"], growth["1 000 records"]
    return Figure(
        name,
        engine,
        target,
        large / max(small, RSS_FLOOR_MIB),
        f"growth {large:.1f} MiB at 100 000, {small:.1f} MiB at 1 000 (median of 2, fresh "
        f"workers each; a growth under {RSS_FLOOR_MIB:g} MiB counts as {RSS_FLOOR_MIB:g})",
        ["paindiary serve restarted before each export; VmHWM of its workers"],
    )


def cohort(
    http: httpx.Client, engine: str, available: set[str], clinicians: dict[int, Account]
) -> list[Figure]:
    p50_name = "cohort outcomes for 500 patients, p50 (ms)"
    growth_name = "cohort outcomes p50, 500 patients ÷ 50"
    if _shape(API + COHORT) not in available:
        return [
            _absent(p50_name, engine, Target.report(), COHORT),
            _absent(growth_name, engine, Target.report(), COHORT),
        ]

    # The whole table on one page (limit 500) with its summary, from the stored outcomes
    # (each patient's today: an explicit as_of would compute every patient for that day).
    def outcomes(account: Account) -> Call:
        return lambda: http.get(f"{API}{COHORT}", params={"limit": 500}, headers=account.headers)

    calls = {f"{n} patients": outcomes(account) for n, account in clinicians.items()}
    interleaved(calls, rounds=1, budget=60)
    samples = interleaved(calls, rounds=15, budget=60)
    p500 = percentile(samples["500 patients"], 0.5) * 1000
    ratio, shown = _p50_ratio(samples, "500 patients", "50 patients")
    return [
        Figure(p50_name, engine, Target.report(), p500, shown),
        Figure(growth_name, engine, Target.report(), ratio, shown + " (linear would be 10)"),
    ]
