"""Prometheus metrics: requests by route template and status, latency, database pool.

Workers: each uvicorn worker is its own process with its own registry, so with ``--workers N``
a scrape would see one random worker's numbers (and counters would seem to jump). ``paindiary
serve`` with several workers therefore sets PROMETHEUS_MULTIPROC_DIR (see app/cli.py) before
the workers start: every worker writes its values to files there and a scrape sums them all.
The pool gauges are the exception: they describe the worker that answers the scrape.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.route_index import route_template

CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED = "unmatched"  # one label for every unknown path: no cardinality blow-up from scans

REQUESTS = Counter(
    "paindiary_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "paindiary_http_request_duration_seconds",
    "Time from request to the end of the response, by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
IN_PROGRESS = Gauge(
    "paindiary_http_requests_in_progress",
    "Requests being served right now",
    multiprocess_mode="livesum",
)


class MetricsMiddleware:
    """Times every HTTP request and labels it with the route *template*
    (``/api/v1/patients/{pid}``), never the concrete path, so label values stay few."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def _template(self, scope: Scope) -> str:
        path = str(scope["path"])
        if scope.get("route") is None:
            # The app's own static pages (/docs, /openapi.json) do not always record a route.
            static = {getattr(r, "path", None) for r in getattr(scope.get("app"), "routes", ())}
            return path if path in static else UNMATCHED
        return route_template(path, scope.get("path_params", {}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app dies before answering
        start = time.perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, record_status)
        finally:
            IN_PROGRESS.dec()
            labels = (scope["method"], self._template(scope), str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - start)


class PoolCollector(Collector):
    """The SQLAlchemy pool of this process, read at scrape time (cheap: a few attribute reads)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[Metric]:
        pool = self.engine.pool
        gauge = GaugeMetricFamily(
            "paindiary_db_pool_connections",
            "Database connections of the answering worker's pool, by state",
            labels=["state"],
        )
        for state in ("checkedout", "checkedin", "overflow"):
            reader = getattr(pool, state, None)
            if callable(reader):
                gauge.add_metric([state], float(reader()))
        size = getattr(pool, "size", None)
        if callable(size):
            gauge.add_metric(["size"], float(size()))
        yield gauge


def forget_process() -> None:
    """A worker that stops takes its in-progress gauge with it (multiprocess mode only)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def render(engine: Engine) -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        requests = generate_latest(registry)
    else:
        requests = generate_latest(REGISTRY)
    pool = CollectorRegistry()
    pool.register(PoolCollector(engine))
    return requests + generate_latest(pool)
