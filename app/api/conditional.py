"""Conditional-request and idempotency headers, and the responses of versioned records."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.services.sync.idempotency import Outcome
from app.services.sync.preconditions import etag, require_if_match
from app.services.sync.records import RecordKind, Written

OutT = TypeVar("OutT", bound=BaseModel)

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='Write only if the record is still at this version (its ETag, e.g. "3").',
    ),
]


def _required_if_match(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='Required: the ETag of the version you read (e.g. "3"); the change '
            "applies only if the record is still at it (else 412). Without it: 428.",
        ),
    ] = None,
) -> str:
    return require_if_match(if_match)


# PATCH: the header is required (428 without it; app/api/openapi.py documents it as required).
# A dependency rather than a required header parameter, so that its absence is a 428, not the
# 422 of a missing parameter, and comes after the access checks (404/403 first).
RequiredIfMatch = Annotated[str, Depends(_required_if_match)]
IfNoneMatch = Annotated[
    str | None,
    Header(alias="If-None-Match", description="`*`: create only; 412 if the record exists."),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="A retry with the same key and body replays the first response (30 days).",
    ),
]

_ETAG_HEADER = {"ETag": {"description": 'The version, e.g. "3"', "schema": {"type": "string"}}}


def with_etag_docs(
    model: type[BaseModel] | None = None, **descriptions: str
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI success responses that carry an ETag: ``with_etag_docs(s200="…", s201="…")``.

    FastAPI documents the body of the route's own status code only; ``model`` documents it for
    every status given (a PUT answers 200 or 201 with the same record)."""
    return {
        int(name.removeprefix("s")): {"description": text, "headers": _ETAG_HEADER}
        | ({"model": model} if model is not None else {})
        for name, text in descriptions.items()
    }


def with_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def deleted(version: int) -> Response:
    """A DELETE's answer: 204 with the tombstone's version as ETag."""
    return Response(status_code=204, headers={"ETag": etag(version)})


def written(response: Response, kind: RecordKind[OutT], result: Written) -> OutT:
    """201 for a new record, 200 otherwise; the ETag of the stored version."""
    return written_as(response, result, kind.out(result.row))


def written_as(response: Response, result: Written, out: OutT) -> OutT:
    """As ``written``, for a representation the service built (a medication with its doses)."""
    response.status_code = 201 if result.status == "created" else 200
    with_etag(response, result.row["version"])
    return out


def outcome(request: Request, result: Outcome) -> JSONResponse:
    """A POST's response, the same bytes whether first sent or replayed."""
    headers = {"ETag": etag(int(result.body["version"]))}
    if result.status_code == 201:
        headers["Location"] = f"{request.url.path.rstrip('/')}/{result.body['id']}"
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)
