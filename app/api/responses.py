"""OpenAPI declarations of problem+json error responses, shared by the routers."""

from __future__ import annotations

from typing import Any

from app.schemas.common import problem_example

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not signed in, or the token is invalid or expired",
    403: "Known resource the caller may read but not change",
    404: "No such resource, or the caller may not see it",
    409: "Conflict with the stored state",
    410: "Gone",
    412: "Stale If-Match / If-None-Match precondition",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
}

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
        "error": {"type": "string", "description": "RFC 6749 error code (token endpoint)"},
    },
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status documented as application/problem+json."""
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, "Error"),
            "content": {
                "application/problem+json": {
                    "schema": _PROBLEM_SCHEMA,
                    "example": problem_example(status, _DESCRIPTIONS.get(status, "Error"), "…"),
                }
            },
        }
        for status in statuses
    }
