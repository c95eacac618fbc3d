"""The application factory. ``uvicorn --factory app.main:create_app`` serves it."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import __version__
from app.api import (
    access_log,
    admin,
    assessments,
    auth,
    changes,
    checkins,
    cohort,
    episodes,
    exports,
    grants,
    me,
    medications,
    ops,
    patients,
    treatments,
    trends,
)
from app.api.docs import install_docs
from app.api.openapi import install_openapi
from app.metrics import MetricsMiddleware, forget_process
from app.middleware import (
    ProblemCORSMiddleware,
    RequestGuardMiddleware,
    ResponseHeadersMiddleware,
)
from app.problems import install_error_handlers
from app.route_index import route_index
from app.services.context import AppContext
from app.settings import Settings, get_settings

API_PREFIX = "/api/v1"

DESCRIPTION = """
The backend of a trigeminal-neuralgia pain diary: the patient's app syncs attacks, check-ins,
medications, questionnaires and ketamine treatment series; clinicians and partners with the
patient's grant read before/after trends per treatment series.

All errors are RFC 9457 `application/problem+json`. Timestamps need an offset; responses are UTC.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    problem = settings.mail_problem()
    if problem is not None:
        raise RuntimeError(problem)
    ctx = AppContext.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Fewer threads for the sync endpoints: less contention for the GIL and the DB pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        route_index(app)  # build the OpenAPI document now, not on the first request
        # What starting allocated (modules, routes, schemas: some 200 000 objects) lives as long
        # as the process, yet every full garbage collection walks it again (~100 ms here, for
        # every request in flight). Frozen, later collections only walk what came after.
        gc.collect()
        gc.freeze()
        yield
        ctx.mailer.close()  # mail queued by the last requests still goes out
        ctx.db.dispose()
        forget_process()

    app = FastAPI(
        title="paindiary API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Swagger UI and ReDoc from assets installed with the project (app/api/docs.py).
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "auth", "description": "Accounts, sign-in and tokens"},
            {"name": "me", "description": "The signed-in account"},
            {"name": "admin", "description": "Clinician accounts and partner clients"},
            {"name": "patients", "description": "Patient records, diagnosis and access grants"},
            {
                "name": "episodes",
                "description": "Pain attacks: create-or-replace by client id, batch upload",
            },
            {"name": "checkins", "description": "Daily check-ins, one per local day"},
            {"name": "medications", "description": "Maintenance medications"},
            {"name": "assessments", "description": "Validated questionnaires with totals"},
            {
                "name": "treatments",
                "description": "Treatment series (e.g. ketamine infusions) and their sessions",
            },
            {"name": "sync", "description": "The change feed offline clients pull"},
            {"name": "exports", "description": "CSV and FHIR R4 exports of a patient's record"},
            {
                "name": "trends",
                "description": "Before/after trends of treatment series, reports, cohort outcomes",
            },
            {"name": "operations", "description": "Liveness, readiness and metrics"},
        ],
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    install_openapi(app)
    install_docs(app)

    app.include_router(ops.router)
    for router in (
        auth.router,
        me.router,
        admin.router,
        patients.router,
        grants.router,
        access_log.router,
        episodes.router,
        checkins.router,
        medications.router,
        assessments.router,
        treatments.router,
        changes.router,
        exports.router,
        trends.router,
        cohort.router,
    ):
        app.include_router(router, prefix=API_PREFIX)

    def body_limit(path: str) -> int:
        if path.endswith("/batch"):
            return settings.max_batch_body_bytes
        if path == API_PREFIX + "/me/import":
            return settings.max_import_body_bytes
        return settings.max_body_bytes

    app.add_middleware(RequestGuardMiddleware, limit_for=body_limit)
    if settings.cors_origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-Request-Id",
            ],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-Id"],
        )
    app.add_middleware(ResponseHeadersMiddleware)
    # Outermost, so the latency it records includes every other middleware.
    app.add_middleware(MetricsMiddleware)
    if settings.trusted_proxies:
        # The client address (rate limits, audit trail) and scheme (HSTS) from X-Forwarded-For
        # and X-Forwarded-Proto, only when the connecting peer is a configured proxy; with none
        # configured nobody can choose the address we see. Before everything else runs.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
