"""OpenAPI declarations of problem+json error responses, shared by the routers.

Every error response refers to one ``Problem`` component (app/api/openapi.py adds it to the
document), so generated clients get one error type, and carries an example that app/problems.py
renders from the error that sends that status, so examples and responses cannot disagree.
"""

from __future__ import annotations

from typing import Any

from app.errors import (
    RETRY_AFTER_SECONDS,
    AppError,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from app.problems import DATABASE_UNAVAILABLE, PROBLEM_JSON, error_body, validation_body
from app.services.care.access import PATIENT_NOT_FOUND
from app.services.sync.changes import TOO_OLD
from app.services.sync.preconditions import IF_MATCH_REQUIRED
from app.services.sync.records import ID_TAKEN

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; every error of this API has this shape.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, for a human"},
        "instance": {"type": "string", "description": "The request path"},
        "errors": {
            "type": "array",
            "description": "Validation errors (422): where and what",
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

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not signed in, or the token is invalid or expired",
    403: "Known resource the caller may read but not change, or a partner token without the "
    "scope the operation needs",
    404: "No such resource, or the caller may not see it",
    409: "Conflict with the stored state",
    410: "Gone",
    412: "Stale If-Match / If-None-Match precondition",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "If-Match is required: send the ETag of the version you read",
    429: "Too many requests; retry after Retry-After seconds",
    503: "The database is unavailable; retry after Retry-After seconds",
}


def _example(error: AppError) -> dict[str, Any]:
    return error_body(error)


# What the API sends for each status, rendered by app/problems.py from the errors that send it.
EXAMPLES: dict[int, dict[str, Any]] = {
    example["status"]: example
    for example in (
        _example(AppError("The request cannot be processed.")),
        _example(Unauthorized("Sign in first: send an access token as 'Authorization: Bearer …'.")),
        _example(Forbidden("Your access to this patient is read-only.")),
        _example(NotFound(PATIENT_NOT_FOUND)),
        _example(Conflict(ID_TAKEN)),
        _example(Gone(TOO_OLD)),
        _example(
            PreconditionFailed("The record is at version 4; reload it and apply the change again.")
        ),
        _example(PreconditionRequired(IF_MATCH_REQUIRED)),
        _example(PayloadTooLarge("The body exceeds 1048576 bytes.")),
        _example(UnsupportedMediaType("Send the body as application/json.")),
        validation_body(
            [
                {
                    "loc": ["body", "intensity"],
                    "msg": "Input should be less than or equal to 10",
                    "type": "less_than_equal",
                }
            ]
        ),
        _example(TooManyRequests("Too many attempts; try again in 840 seconds.")),
        _example(ServiceUnavailable(DATABASE_UNAVAILABLE)),
    )
}

_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": 'The scheme to use, e.g. Bearer error="invalid_token"',
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until the limit lets this request through",
            "schema": {"type": "integer"},
        }
    },
    503: {
        "Retry-After": {
            "description": f"Seconds to wait before retrying (usually {RETRY_AFTER_SECONDS})",
            "schema": {"type": "integer"},
        }
    },
}


# Standard error responses live once under components/responses (app/api/openapi.py swaps
# each route's copy for a reference): the document stays readable and a third smaller.
RESPONSE_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    410: "Gone",
    412: "PreconditionFailed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationFailed",
    428: "PreconditionRequired",
    429: "TooManyRequests",
    503: "ServiceUnavailable",
}


def problem_response(
    status: int, description: str | None = None, example: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One error response: problem+json with the shared schema, an example and its headers."""
    response: dict[str, Any] = {
        "description": description or _DESCRIPTIONS.get(status, "Error"),
        "content": {
            PROBLEM_JSON: {
                "schema": PROBLEM_REF,
                "example": example or EXAMPLES[status],
            }
        },
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def problems(
    *statuses: int, examples: dict[int, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status documented as application/problem+json;
    ``examples`` replaces the default example of a status where the route says it better."""
    chosen = examples or {}
    return {status: problem_response(status, example=chosen.get(status)) for status in statuses}
