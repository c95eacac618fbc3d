"""Liveness and readiness, outside the versioned API."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app import metrics as prometheus
from app.api.responses import problem_response
from app.errors import NotReady
from app.problems import error_body, render
from app.services import readiness
from app.services.context import AppContext

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz", operation_id="healthz", summary="Liveness: the process answers (no database)"
)
async def healthz() -> dict[str, str]:
    """For the orchestrator's liveness probe; no token. Always 200 `{"status": "ok"}` while
    the process serves requests, even when the database is down (see /readyz)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness: the database answers and its schema is at the newest migration",
    responses={
        503: problem_response(
            503,
            "Not ready: the database does not answer or its schema is behind; retry after "
            "Retry-After seconds",
            example=error_body(NotReady(readiness.SCHEMA_BEHIND)),
        )
    },
)
def readyz(request: Request) -> JSONResponse:
    """For the load balancer's readiness probe; no token. 200 with the schema revision when
    the database answers at the newest migration, else 503 problem+json with Retry-After."""
    ctx: AppContext = request.app.state.ctx
    try:
        schema = readiness.ready_schema(ctx.db)
    except NotReady as refusal:
        return render(refusal)
    return JSONResponse({"status": "ready", "schema": schema})


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics in text format (internal: do not expose it publicly)",
    response_class=Response,
    responses={
        200: {
            "description": "Request counts and latency by route template and status, DB pool",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def metrics(request: Request) -> Response:
    """Prometheus text format: request counts and latency by route template and status, the
    database pool. No token: for the internal scraper only; block it at the public proxy."""
    # No authentication: scrapers sit inside the network. The numbers carry no patient data,
    # but route-level traffic is still internal; block /metrics at the public proxy.
    ctx: AppContext = request.app.state.ctx
    return Response(prometheus.render(ctx.db.engine), media_type=prometheus.CONTENT_TYPE)
