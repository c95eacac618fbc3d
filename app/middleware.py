"""ASGI middleware: body limits, media types and response headers, before any endpoint runs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import AppError, PayloadTooLarge, UnsupportedMediaType
from app.problems import RaisedInBody, internal_error, render
from app.security.headers import API_CSP

# DELETE too: DELETE /me carries a body ({password}), which must be capped like any other.
BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH", b"DELETE"})
FORM_PATHS = ("/api/v1/auth/token", "/api/v1/auth/revoke")
# Sent before any endpoint (or the header middleware's rule for /api/) sees the request.
_NO_STORE = {"Cache-Control": "no-store"}

log = logging.getLogger("paindiary.errors")


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The body exceeds {limit} bytes.")


async def _send_problem(scope: Scope, receive: Receive, send: Send, error: AppError) -> None:
    await render(error, scope["path"], _NO_STORE)(scope, receive, send)


class RequestGuardMiddleware:
    """413 for oversized bodies (counted as they stream, not trusted from Content-Length),
    415 for non-JSON bodies on JSON endpoints."""

    def __init__(self, app: ASGIApp, *, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"].encode() not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.limit_for(path)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_problem(scope, receive, send, _too_large(limit))
            return
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        has_body = declared not in (None, b"0") or b"transfer-encoding" in headers
        if (
            has_body
            and path.startswith("/api/v1/")
            and path not in FORM_PATHS
            and not (ctype == b"application/json" or ctype.endswith(b"+json"))
        ):
            await _send_problem(
                scope, receive, send, UnsupportedMediaType("Send the body as application/json.")
            )
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises HTTP exceptions met while reading the body, so the
                    # problem+json handler answers 413 instead of a generic 400.
                    raise RaisedInBody(_too_large(limit))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except RaisedInBody as exc:
            if not started:
                await _send_problem(scope, receive, send, exc.error)


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, but a refused preflight is problem+json like every other error.

    Only the configured origins are ever echoed in Access-Control-Allow-Origin; others get no
    CORS headers at all, so the browser keeps the response from the foreign page.
    """

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-type", "content-length")
        }
        # Starlette refuses a preflight with a plain-text 400 naming what it disallows.
        return render(AppError(bytes(response.body).decode() + "."), headers=headers)


class ResponseHeadersMiddleware:
    """Request ids, no caching of API responses, and the baseline security headers - on every
    response, the 500 for an unexpected error included (answered here rather than by
    Starlette's outermost error middleware, which would send it without them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"")
        request_id = (
            incoming.decode("latin-1")[:64] if incoming and incoming.isascii() else uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        is_api = path.startswith("/api/")
        is_https = scope.get("scheme") == "https"

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", API_CSP.encode()))
                if b"x-frame-options" not in names:
                    headers.append((b"x-frame-options", b"DENY"))
                if is_https:
                    # Only over HTTPS (uvicorn takes the scheme from a trusted proxy's header).
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                if is_api and b"cache-control" not in names:
                    # API responses carry health data or credentials: never cache them.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if started:  # too late for a response of our own; the server logs and cuts it
                raise
            log.exception("unhandled error on %s", path)
            await internal_error(path)(scope, receive, send_with_headers)
