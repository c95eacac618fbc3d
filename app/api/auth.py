"""Accounts and sign-in: register, the OAuth2 token endpoint, revocation, /me."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Form, Request, Response, status

from app.api.responses import problems
from app.deps import ClientIP, ContextDep, SessionDep
from app.errors import OAuthError
from app.problems import error_body
from app.schemas.auth import RegisterIn, TokenOut, UserOut
from app.services.care import clients
from app.services.identity import accounts, auth

router = APIRouter(tags=["auth"])

OptionalForm = Annotated[str | None, Form()]
FORM = "application/x-www-form-urlencoded"


def _form_examples(**examples: tuple[str, dict[str, str]]) -> dict[str, Any]:
    """``openapi_extra`` with named examples of a form body: name=(summary, fields)."""
    return {
        "requestBody": {
            "content": {
                FORM: {
                    "examples": {
                        name: {"summary": summary, "value": value}
                        for name, (summary, value) in examples.items()
                    }
                }
            }
        }
    }


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    operation_id="register",
    summary="Create a patient account and its patient record",
    responses=problems(409, 422, 429),
)
def register(data: RegisterIn, session: SessionDep, ctx: ContextDep, ip: ClientIP) -> UserOut:
    """Open to anyone (no token): creates a `patient` account and its patient record and
    answers 201 with the account; then sign in with `grant_type=password`. An e-mail that is
    already registered is a 409. Registrations per client IP are limited (429 with
    Retry-After)."""
    return accounts.register_patient(session, ctx, data, ip)


@router.post(
    "/auth/token",
    operation_id="issueToken",
    summary="OAuth2 token endpoint (password, refresh_token, client_credentials grants)",
    responses=problems(
        400,
        401,
        429,
        examples={
            400: error_body(OAuthError("invalid_grant", "The refresh token is not valid.")),
            401: error_body(OAuthError("invalid_client", clients.INVALID_CLIENT, status=401)),
        },
    ),
    response_model_exclude_none=True,
    openapi_extra=_form_examples(
        password=(
            "A person signs in",
            {
                "grant_type": "password",
                "username": "patient@example.org",
                "password": "correct horse battery",
            },
        ),
        refresh_token=(
            "Exchange a refresh token (single use) for new tokens",
            {"grant_type": "refresh_token", "refresh_token": "Hk3v0oR1bq9v7mWcQ2x8LZpJt5sYdUe4"},
        ),
        client_credentials=(
            "A partner signs in (prefer HTTP Basic for the client credentials)",
            {
                "grant_type": "client_credentials",
                "client_id": "3f0c6f1e-8a51-4c1b-9a8e-2f4d7c9b1a60",
                "client_secret": "n7Jq2VbX9rLs4TzW0cYe8HkA5mPd3GfU",
                "scope": "diary:read reports:read",
            },
        ),
    ),
)
def token(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    ip: ClientIP,
    grant_type: OptionalForm = None,
    username: OptionalForm = None,
    password: OptionalForm = None,
    refresh_token: OptionalForm = None,
    scope: OptionalForm = None,
    client_id: OptionalForm = None,
    client_secret: OptionalForm = None,
) -> TokenOut:
    """The OAuth2 token endpoint (RFC 6749), a form post. People sign in with
    `grant_type=password` (`username` = e-mail) and get a refresh token, which
    `grant_type=refresh_token` exchanges once (rotated; reusing a spent one ends the sign-in).
    Partners use `grant_type=client_credentials`, authenticating with HTTP Basic (or
    `client_id` and `client_secret` in the form), with an optional space-separated `scope`
    narrowing their registered scopes. Errors carry an RFC 6749 `error` member: 401
    `invalid_grant` / `invalid_client`, 400 for the rest; failed sign-ins are limited (429)."""
    if grant_type == "password":
        if not username or password is None:
            raise OAuthError("invalid_request", "username and password are required.")
        return auth.password_grant(session, ctx, username, password, ip)
    if grant_type == "refresh_token":
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required.")
        return auth.refresh_grant(session, ctx, refresh_token)
    if grant_type == "client_credentials":
        cid, secret = _client_credentials(
            request.headers.get("authorization"), client_id, client_secret
        )
        return clients.client_credentials_grant(session, ctx, cid, secret, scope)
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")


def _client_credentials(
    authorization: str | None, form_id: str | None, form_secret: str | None
) -> tuple[str, str]:
    """RFC 6749 §2.3.1: HTTP Basic (each part form-url-encoded) or the form, never both."""
    scheme, _, param = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        if form_id and form_secret:
            return form_id, form_secret
        raise OAuthError("invalid_client", "Client authentication is required.", status=401)
    try:
        decoded = base64.b64decode(param.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials.", 401) from exc
    raw_id, sep, raw_secret = decoded.partition(":")
    basic_id, basic_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if not sep or not basic_id:
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials.", 401)
    if form_secret is not None or (form_id is not None and form_id != basic_id):
        raise OAuthError(
            "invalid_request", "Authenticate the client once: HTTP Basic or the form, not both."
        )
    return basic_id, basic_secret


@router.post(
    "/auth/revoke",
    operation_id="revokeToken",
    summary="Revoke a refresh or access token (RFC 7009); unknown tokens are accepted",
    response_class=Response,
    responses={
        200: {"description": "Revoked, or not a token of ours (RFC 7009 §2.2)"},
        **problems(422),
    },
    openapi_extra=_form_examples(
        refresh_token=("End a sign-in", {"token": "Hk3v0oR1bq9v7mWcQ2x8LZpJt5sYdUe4"})
    ),
)
def revoke(
    token: Annotated[str, Form(min_length=1, max_length=4096)], session: SessionDep, ctx: ContextDep
) -> Response:
    """RFC 7009 revocation, a form post with `token` and no authentication: a refresh or
    access token ends the whole sign-in it belongs to (its access tokens stop working at
    once). Always 200 with an empty body, also for tokens that are not ours, so it cannot be
    used to probe tokens."""
    auth.revoke(session, ctx, token)
    return Response(status_code=status.HTTP_200_OK)
