"""The one place that renders errors as RFC 9457 problem+json: domain errors (app/errors.py),
request validation, Starlette's HTTP errors, an unreachable database and anything unexpected.

``problem_body`` builds every body this API sends or documents: the exception handlers below,
the request guard and CORS middleware (app/middleware.py) and the OpenAPI examples
(app/api/responses.py), so a status has one type and one title wherever it comes from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, ServiceUnavailable, ValidationFailed
from app.route_index import route_index

log = logging.getLogger("paindiary.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://paindiary.example/problems/"

DATABASE_UNAVAILABLE = "The database is unavailable; retry shortly."


def problem_body(
    status: int,
    type_: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The members of one problem: ``type`` (made absolute), ``title``, ``status``, ``detail``,
    the request path as ``instance`` when known, and any extension members."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + type_ if not type_.startswith(("http", "about:")) else type_,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return body


def error_body(error: AppError, instance: str | None = None) -> dict[str, Any]:
    """The problem a domain error stands for."""
    return problem_body(
        error.status, error.type, error.title, error.detail, instance=instance, extra=error.extra
    )


def validation_body(
    errors: Sequence[Mapping[str, Any]], instance: str | None = None
) -> dict[str, Any]:
    """A 422 naming every invalid input (``loc``, ``msg``, ``type``); the detail names the first."""
    first = errors[0] if errors else {"loc": [], "msg": "invalid"}
    detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return problem_body(
        422,
        ValidationFailed.type,
        ValidationFailed.title,
        detail,
        instance=instance,
        extra={"errors": list(errors)},
    )


def respond(body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A problem as a response (also an ASGI app: the middleware sends it as it is)."""
    return JSONResponse(
        jsonable_encoder(body),
        status_code=int(body["status"]),
        headers=dict(headers or {}),
        media_type=PROBLEM_JSON,
    )


def render(
    error: AppError, instance: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A domain error as its response, with the headers it carries (and any given)."""
    return respond(error_body(error, instance), {**error.headers, **(headers or {})})


class RaisedInBody(StarletteHTTPException):
    """A domain error raised where FastAPI lets only HTTP exceptions through: inside ``receive``
    while it reads the body (anything else there becomes a generic 400)."""

    def __init__(self, error: AppError) -> None:
        super().__init__(error.status, error.detail)
        self.error = error


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        errors.append(
            {
                "loc": [str(p) if not isinstance(p, int) else p for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return render(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return respond(validation_body(_validation_errors(exc), request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, RaisedInBody):
            return render(exc.error, request.url.path)
        status = exc.status_code
        if status == 400 and isinstance(exc.__cause__, ValueError):
            # A body that is not even text (FastAPI says 400): as invalid as bad JSON, so the
            # same 422 every other malformed body gets.
            return respond(
                problem_body(
                    422,
                    ValidationFailed.type,
                    ValidationFailed.title,
                    "body: the body could not be decoded",
                    instance=request.url.path,
                    extra={
                        "errors": [
                            {"loc": ["body"], "msg": "could not be decoded", "type": "json_invalid"}
                        ]
                    },
                )
            )
        headers = dict(exc.headers or {})
        if status == 405:
            # Starlette lists only the first route's methods; a path may have several routes.
            methods = route_index(request.app).methods_for(request.url.path)
            if methods:
                headers["Allow"] = ", ".join(sorted(methods))
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        detail = exc.detail if isinstance(exc.detail, str) else phrase
        body = problem_body(
            status, phrase.lower().replace(" ", "-"), phrase, detail, instance=request.url.path
        )
        return respond(body, headers)

    # The database is away, locked past the busy timeout, or the pool is exhausted: the client
    # may retry, so 503 with Retry-After, never a 500. OperationalError covers psycopg's
    # connection failures (refused, reset, admin shutdown) and SQLite's "database is locked";
    # InterfaceError a connection that is already closed; TimeoutError a pool with no free
    # connection; any other DBAPIError counts when SQLAlchemy saw the connection drop.
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _db_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable on %s: %s", request.url.path, exc.__class__.__name__)
        return database_unavailable(request.url.path)

    @app.exception_handler(DBAPIError)
    async def _db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _db_down(request, exc)
        log.exception("database error on %s", request.url.path)
        return _internal(request)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return _internal(request)


def database_unavailable(instance: str | None = None) -> JSONResponse:
    """The 503 every request gets while the database cannot serve it; clients retry."""
    return render(ServiceUnavailable(DATABASE_UNAVAILABLE), instance)


def _internal(request: Request) -> JSONResponse:
    return respond(
        problem_body(
            500,
            "internal-error",
            "Internal server error",
            "An unexpected error occurred; it has been logged.",
            instance=request.url.path,
        )
    )
