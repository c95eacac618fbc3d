"""The soak: minutes of mixed load on two servers (``paindiary serve``, two workers each) sharing
one PostgreSQL database, then the books are checked.

Every request of every simulated user goes to one of the servers at random, and a retry goes to
the next one, so a POST retried with its Idempotency-Key usually lands on the other server.
Writers (the patients' apps) PUT and POST episodes, with Idempotency-Keys on POST, upload small
batches and edit earlier attacks, retrying whatever got no answer or a 5xx, as the app does;
sync readers follow each patient's change feed; a clinician with grants reads the episode lists
and, when the route exists, the trend report. Afterwards exactly the acknowledged (2xx) records
must be stored - no more, no fewer - and each patient's feed, read in full from every server,
must report every one of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import create_engine, select

from app.models import Episode
from bench.client import API, Account, episode_body
from bench.report import Figure, Target
from bench.seed import SeededSeries, as_of

SOAK_SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "180"))
WRITERS_PER_PATIENT = 1
FEED_PAGE = 200
RETRIES = 8


@dataclass
class Books:
    acknowledged: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    per_server: dict[str, int] = field(default_factory=dict)
    server_errors: int = 0
    unanswered: int = 0  # attempts with no HTTP answer (then retried)
    given_up: int = 0  # writes never acknowledged after every retry

    def count(self, kind: str, response: httpx.Response | None) -> None:
        self.requests[kind] = self.requests.get(kind, 0) + 1
        if response is not None:
            server = str(response.request.url.port)
            self.per_server[server] = self.per_server.get(server, 0) + 1
        if response is None:
            self.unanswered += 1
        elif response.status_code >= 500:
            self.server_errors += 1


Servers = list[httpx.AsyncClient]


async def _send(
    servers: Servers,
    rng: random.Random,
    books: Books,
    kind: str,
    method: str,
    path: str,
    **kw: Any,
) -> httpx.Response | None:
    """One write to a server picked at random, retried on no answer, 5xx or 429 (the same body
    and key each time) on the next server."""
    pause = 0.05
    first = rng.randrange(len(servers))
    for attempt in range(RETRIES):
        http = servers[(first + attempt) % len(servers)]
        try:
            response: httpx.Response | None = await http.request(method, path, **kw)
        except httpx.HTTPError:
            response = None
        books.count(kind, response)
        if response is not None and response.status_code < 500 and response.status_code != 429:
            return response
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)
    books.given_up += 1
    return None


def _started(rng: random.Random) -> str:
    at = time.time() - rng.randint(3600, 20 * 86400)
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(at))


async def _writer(
    servers: Servers, patient: Account, books: Books, deadline: float, seed: int
) -> None:
    rng = random.Random(seed)
    mine = books.acknowledged.setdefault(patient.patient_id or uuid.uuid4(), set())
    base = f"{API}/patients/{patient.patient_id}/episodes"
    headers = {**patient.headers, "Content-Type": "application/json"}
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.55:
            episode_id = uuid.uuid4()
            body = json.dumps(episode_body(_started(rng)))
            r = await _send(
                servers,
                rng,
                books,
                "PUT",
                "PUT",
                f"{base}/{episode_id}",
                content=body,
                headers=headers,
            )
            if r is not None and r.is_success:
                mine.add(episode_id)
        elif roll < 0.8:
            body = json.dumps(episode_body(_started(rng)))
            keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
            r = await _send(servers, rng, books, "POST", "POST", base, content=body, headers=keyed)
            if r is not None and r.is_success:
                mine.add(uuid.UUID(r.json()["id"]))
        elif roll < 0.9:
            items = [{"id": str(uuid.uuid4()), **episode_body(_started(rng))} for _ in range(20)]
            payload = json.dumps({"items": items})
            r = await _send(
                servers,
                rng,
                books,
                "batch",
                "POST",
                f"{base}/batch",
                content=payload,
                headers=headers,
            )
            if r is not None and r.is_success:
                for result in r.json()["results"]:
                    if result["status"] in ("created", "updated", "unchanged"):
                        mine.add(uuid.UUID(result["id"]))
        elif mine:
            episode_id = rng.choice(sorted(mine))
            body = json.dumps({**episode_body(_started(rng)), "intensity": rng.randint(1, 10)})
            await _send(
                servers,
                rng,
                books,
                "edit",
                "PUT",
                f"{base}/{episode_id}",
                content=body,
                headers=headers,
            )


async def _sync_reader(
    servers: Servers, patient: Account, books: Books, deadline: float, seed: int
) -> set[str]:
    """A phone syncing: each page from whichever server the load balancer picks."""
    rng = random.Random(seed)
    seen: set[str] = set()
    since: str | None = None
    while time.monotonic() < deadline:
        http = rng.choice(servers)
        params = {"limit": FEED_PAGE} | ({"since": since} if since else {})
        try:
            r: httpx.Response | None = await http.get(
                f"{API}/patients/{patient.patient_id}/changes",
                params=params,
                headers=patient.headers,
            )
        except httpx.HTTPError:
            r = None
        books.count("changes", r)
        if r is None or not r.is_success:
            await asyncio.sleep(0.2)
            continue
        page = r.json()
        seen.update(c["id"] for c in page["changes"] if c["kind"] == "episode" and not c["deleted"])
        since = page["next_cursor"]
        if not page["has_more"]:
            await asyncio.sleep(0.2)
    return seen


async def _clinician(
    servers: Servers,
    clinician: Account,
    patients: list[tuple[Account, SeededSeries]],
    books: Books,
    deadline: float,
    with_trend: bool,
) -> None:
    rng = random.Random(11)
    while time.monotonic() < deadline:
        http = rng.choice(servers)
        patient, seeded = rng.choice(patients)
        try:
            r: httpx.Response | None = await http.get(
                f"{API}/patients/{patient.patient_id}/episodes",
                params={"limit": 50},
                headers=clinician.headers,
            )
        except httpx.HTTPError:
            r = None
        books.count("list", r)
        if with_trend:
            path = f"{API}/patients/{patient.patient_id}/series/{seeded.series_id}/trend"
            try:
                r = await http.get(
                    path, params={"as_of": as_of().isoformat()}, headers=clinician.headers
                )
            except httpx.HTTPError:
                r = None
            books.count("trend", r)
        await asyncio.sleep(0.05)


async def _full_feed(http: httpx.AsyncClient, patient: Account) -> set[str]:
    seen: set[str] = set()
    since: str | None = None
    while True:
        params = {"limit": 500} | ({"since": since} if since else {})
        r = await http.get(
            f"{API}/patients/{patient.patient_id}/changes", params=params, headers=patient.headers
        )
        r.raise_for_status()
        page = r.json()
        seen.update(c["id"] for c in page["changes"] if c["kind"] == "episode" and not c["deleted"])
        since = page["next_cursor"]
        if not page["has_more"]:
            return seen


async def _soak(
    base_urls: list[str],
    patients: list[tuple[Account, SeededSeries]],
    clinician: Account,
    with_trend: bool,
    seconds: float,
) -> tuple[Books, dict[str, set[str]]]:
    """The load, then every patient's full feed read from each server (by base URL)."""
    books = Books()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=64)
    async with AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=30, limits=limits)
            )
            for url in base_urls
        ]
        writers = [
            _writer(servers, p, books, deadline, seed=i * 100 + k)
            for i, (p, _) in enumerate(patients)
            for k in range(WRITERS_PER_PATIENT)
        ]
        readers = [
            _sync_reader(servers, p, books, deadline, seed=500 + i)
            for i, (p, _) in enumerate(patients[: len(patients) // 2])
        ]
        clinicians = [
            _clinician(servers, clinician, patients, books, deadline, with_trend) for _ in range(2)
        ]
        await asyncio.gather(*writers, *readers, *clinicians)
        feeds: dict[str, set[str]] = {}
        for url, http in zip(base_urls, servers, strict=True):
            feeds[url] = set()
            for p, _ in patients:
                feeds[url] |= await _full_feed(http, p)
    return books, feeds


def run(
    base_urls: list[str],
    db_url: str,
    patients: list[tuple[Account, SeededSeries]],
    clinician: Account,
    with_trend: bool,
    seconds: float = SOAK_SECONDS,
) -> list[Figure]:
    ids = [p.patient_id for p, _ in patients]
    engine = create_engine(db_url)
    stored_before = _stored(engine, ids)
    import uvloop

    books, feeds = uvloop.run(_soak(base_urls, patients, clinician, with_trend, seconds))
    stored = _stored(engine, ids) - stored_before
    engine.dispose()
    acknowledged = set().union(*books.acknowledged.values())
    missing, extra = acknowledged - stored, stored - acknowledged
    # Each server's full sync must report every acknowledged record, wherever it was written.
    feed_missing = {url: acknowledged - {uuid.UUID(i) for i in seen} for url, seen in feeds.items()}
    worst = max(len(m) for m in feed_missing.values())
    total = sum(books.requests.values())
    mix = ", ".join(f"{k} {v}" for k, v in sorted(books.requests.items()))
    spread = " / ".join(str(n) for _, n in sorted(books.per_server.items()))
    label = f"PostgreSQL, {len(base_urls)} servers, 2 workers each"
    note = (
        f"{seconds:.0f} s, {total} requests ({mix}; answered per server {spread}); "
        f"{books.unanswered} unanswered attempts retried, {books.given_up} writes never "
        "acknowledged"
    )
    reported = ", ".join(str(len(seen)) for seen in feeds.values())
    return [
        Figure(
            f"soak {seconds / 60:.1f} min mixed load: responses with status 5xx",
            label,
            Target.at_most(0),
            float(books.server_errors),
            note,
        ),
        Figure(
            "soak: records stored but not acknowledged, or acknowledged but not stored",
            label,
            Target.at_most(0),
            float(len(missing) + len(extra)),
            f"{len(acknowledged)} acknowledged, {len(stored)} stored, {len(missing)} missing, "
            f"{len(extra)} extra",
        ),
        Figure(
            "soak: acknowledged records a full sync of the change feed does not report "
            "(worst server)",
            label,
            Target.at_most(0),
            float(worst),
            f"episodes reported by the patients' feeds, per server: {reported}",
        ),
    ]


def _stored(engine: Any, patient_ids: list[uuid.UUID | None]) -> set[uuid.UUID]:
    t = Episode.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.id).where(t.c.patient_id.in_(patient_ids), t.c.deleted_at.is_(None))
        )
        return {row[0] for row in rows}
