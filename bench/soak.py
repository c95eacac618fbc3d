"""The soak: minutes of mixed load on PostgreSQL with two workers, then the books are checked.

Writers (the patients' apps) PUT and POST episodes, with Idempotency-Keys on POST, upload small
batches and edit earlier attacks, retrying whatever got no answer or a 5xx, as the app does;
sync readers follow each patient's change feed; a clinician with grants reads the episode lists
and, when the route exists, the trend report. Afterwards exactly the acknowledged (2xx) records
must be stored - no more, no fewer - and each patient's feed must report every one of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
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
    server_errors: int = 0
    unanswered: int = 0  # attempts with no HTTP answer (then retried)
    given_up: int = 0  # writes never acknowledged after every retry

    def count(self, kind: str, response: httpx.Response | None) -> None:
        self.requests[kind] = self.requests.get(kind, 0) + 1
        if response is None:
            self.unanswered += 1
        elif response.status_code >= 500:
            self.server_errors += 1


async def _send(
    http: httpx.AsyncClient, books: Books, kind: str, method: str, path: str, **kw: Any
) -> httpx.Response | None:
    """One write, retried on no answer, 5xx or 429 (the same body and key each time)."""
    pause = 0.05
    for _ in range(RETRIES):
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
    http: httpx.AsyncClient, patient: Account, books: Books, deadline: float, seed: int
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
                http, books, "PUT", "PUT", f"{base}/{episode_id}", content=body, headers=headers
            )
            if r is not None and r.is_success:
                mine.add(episode_id)
        elif roll < 0.8:
            body = json.dumps(episode_body(_started(rng)))
            keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
            r = await _send(http, books, "POST", "POST", base, content=body, headers=keyed)
            if r is not None and r.is_success:
                mine.add(uuid.UUID(r.json()["id"]))
        elif roll < 0.9:
            items = [{"id": str(uuid.uuid4()), **episode_body(_started(rng))} for _ in range(20)]
            payload = json.dumps({"items": items})
            r = await _send(
                http, books, "batch", "POST", f"{base}/batch", content=payload, headers=headers
            )
            if r is not None and r.is_success:
                for result in r.json()["results"]:
                    if result["status"] in ("created", "updated", "unchanged"):
                        mine.add(uuid.UUID(result["id"]))
        elif mine:
            episode_id = rng.choice(sorted(mine))
            body = json.dumps({**episode_body(_started(rng)), "intensity": rng.randint(1, 10)})
            await _send(
                http, books, "edit", "PUT", f"{base}/{episode_id}", content=body, headers=headers
            )


async def _sync_reader(
    http: httpx.AsyncClient, patient: Account, books: Books, deadline: float
) -> set[str]:
    seen: set[str] = set()
    since: str | None = None
    while time.monotonic() < deadline:
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
    http: httpx.AsyncClient,
    clinician: Account,
    patients: list[tuple[Account, SeededSeries]],
    books: Books,
    deadline: float,
    with_trend: bool,
) -> None:
    rng = random.Random(11)
    while time.monotonic() < deadline:
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
    base_url: str,
    patients: list[tuple[Account, SeededSeries]],
    clinician: Account,
    with_trend: bool,
    seconds: float,
) -> tuple[Books, dict[uuid.UUID, set[str]]]:
    books = Books()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
        writers = [
            _writer(http, p, books, deadline, seed=i * 100 + k)
            for i, (p, _) in enumerate(patients)
            for k in range(WRITERS_PER_PATIENT)
        ]
        readers = [
            _sync_reader(http, p, books, deadline) for p, _ in patients[: len(patients) // 2]
        ]
        clinicians = [
            _clinician(http, clinician, patients, books, deadline, with_trend) for _ in range(2)
        ]
        await asyncio.gather(*writers, *readers, *clinicians)
        feeds = {p.patient_id or uuid.uuid4(): await _full_feed(http, p) for p, _ in patients}
    return books, feeds


def run(
    base_url: str,
    db_url: str,
    patients: list[tuple[Account, SeededSeries]],
    clinician: Account,
    with_trend: bool,
) -> list[Figure]:
    ids = [p.patient_id for p, _ in patients]
    engine = create_engine(db_url)
    stored_before = _stored(engine, ids)
    import uvloop

    books, feeds = uvloop.run(_soak(base_url, patients, clinician, with_trend, SOAK_SECONDS))
    stored = _stored(engine, ids) - stored_before
    engine.dispose()
    acknowledged = set().union(*books.acknowledged.values())
    missing, extra = acknowledged - stored, stored - acknowledged
    in_feeds = {uuid.UUID(i) for seen in feeds.values() for i in seen}
    feed_missing = acknowledged - in_feeds
    total = sum(books.requests.values())
    mix = ", ".join(f"{k} {v}" for k, v in sorted(books.requests.items()))
    label = "PostgreSQL, 2 workers"
    note = (
        f"{SOAK_SECONDS:.0f} s, {total} requests ({mix}); {books.unanswered} unanswered "
        f"attempts retried, {books.given_up} writes never acknowledged"
    )
    return [
        Figure(
            f"soak {SOAK_SECONDS / 60:.1f} min mixed load: responses with status 5xx",
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
            "soak: acknowledged records a full sync of the change feed does not report",
            label,
            Target.at_most(0),
            float(len(feed_missing)),
            f"{len(in_feeds)} episodes reported by the patients' feeds",
        ),
    ]


def _stored(engine: Any, patient_ids: list[uuid.UUID | None]) -> set[uuid.UUID]:
    t = Episode.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.id).where(t.c.patient_id.in_(patient_ids), t.c.deleted_at.is_(None))
        )
        return {row[0] for row in rows}
