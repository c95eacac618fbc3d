"""CPU per authenticated episode PUT, in process: the ASGI app driven without sockets (no HTTP
parsing, no load generator), so a change to the write path shows in its own cost.

    python -m bench.profile_put [sqlite|postgresql] [--requests N] [--concurrency C] [--profile]

Prints the CPU milliseconds per PUT and per /healthz (lowest of three rounds) and their ratio;
``--profile`` writes a cProfile of one round to bench/out/put.prof (read it with pstats).
PostgreSQL: BENCH_POSTGRES_URL (recreated), default database paindiary_bench_profile.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

from app.db import normalise_url
from bench.client import episode_body
from bench.server import DEFAULT_POSTGRES_URL, OUT_DIR, Engine, fresh_database

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def _call(
    app: Asgi, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def _round(
    app: Asgi,
    make: Callable[[int], tuple[str, str, list[tuple[bytes, bytes]], bytes]],
    count: int,
    concurrency: int,
) -> float:
    """CPU seconds of this process per request."""
    counter = iter(range(count))

    async def worker() -> None:
        for n in counter:
            method, path, headers, body = make(n)
            status, out = await _call(app, method, path, headers, body)
            if status >= 300:
                raise RuntimeError(f"{method} {path}: {status} {out[:300]!r}")

    before = os.times()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    after = os.times()
    return (after.user - before.user + after.system - before.system) / count


async def main(engine_name: str, count: int, concurrency: int, profile: bool) -> None:
    if engine_name == "sqlite":
        engine = Engine("sqlite", f"sqlite:///{OUT_DIR / 'profile.db'}")
    else:
        given = os.environ.get("BENCH_POSTGRES_URL")
        url = make_url(normalise_url(given or DEFAULT_POSTGRES_URL))
        url = url if given else url.set(database="paindiary_bench_profile")
        engine = Engine("postgresql", url.render_as_string(hide_password=False))
    fresh_database(engine)
    os.environ.update(
        PAINDIARY_ENV="production",
        PAINDIARY_DATABASE_URL=engine.url,
        PAINDIARY_SECRET_KEY="profile-" + "k" * 48,
        PAINDIARY_AUDIT_KEY="audit-" + "a" * 48,
        PAINDIARY_ACCESS_TOKEN_MINUTES="60",
        PAINDIARY_EMAIL_VERIFICATION="off",
        PAINDIARY_MAIL_DIR=str(OUT_DIR / "mail"),
        PAINDIARY_REGISTER_MAX_PER_IP="100000",
    )
    from app.main import create_app

    app = create_app()
    statements: list[str] = []
    db = app.state.ctx.db
    for bind in {db.engine, db.session(write=True).get_bind()}:

        @event.listens_for(bind, "before_cursor_execute")
        def _count(_c: Any, _cur: Any, sql: str, *_args: Any) -> None:
            statements.append(sql.split()[0] if sql.split() else sql)

    async with app.router.lifespan_context(app):
        json_type = [(b"content-type", b"application/json")]
        email = f"profile-{uuid.uuid4().hex[:8]}@bench.example"
        register = {
            "email": email,
            "password": "bench-password-0123",
            "display_name": "p",
            "timezone": "Europe/Berlin",
        }
        status, out = await _call(
            app, "POST", "/api/v1/auth/register", json_type, json.dumps(register).encode()
        )
        assert status == 202, out
        form = f"grant_type=password&username={email}&password=bench-password-0123".encode()
        form_type = [(b"content-type", b"application/x-www-form-urlencoded")]
        status, out = await _call(app, "POST", "/api/v1/auth/token", form_type, form)
        assert status == 200, out
        token = json.loads(out)["access_token"]
        auth = [(b"authorization", f"Bearer {token}".encode())]
        status, out = await _call(app, "GET", "/api/v1/me", auth)
        pid = json.loads(out)["patient_id"]
        body = json.dumps(episode_body()).encode()
        headers = auth + json_type

        def put(_n: int) -> tuple[str, str, list[tuple[bytes, bytes]], bytes]:
            return "PUT", f"/api/v1/patients/{pid}/episodes/{uuid.uuid4()}", headers, body

        def health(_n: int) -> tuple[str, str, list[tuple[bytes, bytes]], bytes]:
            return "GET", "/healthz", [], b""

        await _round(app, put, 200, concurrency)  # warm up
        statements.clear()
        await _round(app, put, 100, 1)
        kinds = {k: statements.count(k) / 100 for k in sorted(set(statements))}
        print(f"statements per PUT: {len(statements) / 100:g} {kinds}")
        await _round(app, health, 200, concurrency)
        puts, healths = [], []
        for _ in range(3):
            puts.append(await _round(app, put, count, concurrency))
            healths.append(await _round(app, health, count, concurrency))
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await _round(app, put, count, concurrency)
            profiler.disable()
            Path(OUT_DIR).mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(str(OUT_DIR / "put.prof"))
    put_ms, health_ms = min(puts) * 1000, min(healths) * 1000
    rounds = ", ".join(f"{p * 1000:.3f}" for p in puts)
    print(
        f"{engine_name}: CPU per PUT {put_ms:.3f} ms (rounds {rounds}), "
        f"per /healthz {health_ms:.3f} ms; ratio {health_ms / put_ms:.4f} "
        f"(n={count}, concurrency {concurrency})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("engine", choices=["sqlite", "postgresql"], nargs="?", default="sqlite")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.engine, args.requests, args.concurrency, args.profile))
