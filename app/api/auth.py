"""Accounts and sign-in: register, the OAuth2 token endpoint, revocation, /me."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Form, Request, Response, status

from app.api.responses import problem_response, problems
from app.deps import ClientIP, ContextDep, SessionDep
from app.errors import InvalidCode, OAuthError
from app.problems import PROBLEM_JSON, error_body
from app.schemas.auth import (
    AcceptedOut,
    CodeConfirmIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RegisterIn,
    TokenOut,
)
from app.services.care import clients
from app.services.identity import auth, registration
from app.services.identity.signin import INVALID_LOGIN

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


ACCEPTED = AcceptedOut(
    detail="If the address can receive mail, a message is on its way to it with what to do next."
)


def _problem_examples(
    status: int, description: str, examples: dict[str, tuple[str, dict[str, Any]]]
) -> dict[str, Any]:
    """One error response with several named examples (the shared helper takes one)."""
    response = problem_response(status, description=description)
    media = response["content"][PROBLEM_JSON]
    del media["example"]
    media["examples"] = {
        name: {"summary": summary, "value": value} for name, (summary, value) in examples.items()
    }
    return response


_INVALID_CODE_EXAMPLE = error_body(InvalidCode(registration.INVALID_CODE))


@router.post(
    "/auth/register",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="register",
    summary="Create a patient account; what happens next arrives by e-mail",
    responses=problems(422, 429),
)
def register(data: RegisterIn, session: SessionDep, ctx: ContextDep, ip: ClientIP) -> AcceptedOut:
    """Open to anyone (no token). Always answers **202 with the same body**, whether or not the
    address already has an account (having an account with a pain diary is itself health
    information): a new address gets a patient account and its patient record, and an e-mail
    with a 6-digit code to confirm it (`POST /auth/verify`); an address that already has an
    account gets an e-mail saying so, with the way back in (`POST /auth/password-reset`), and
    nothing changes. Where the server requires confirmed addresses (production default),
    password sign-in works once the code is entered; otherwise at once. Codes expire after 15
    minutes and allow 5 tries. Registrations per client address are limited (429 with
    Retry-After)."""
    registration.register(session, ctx, data, ip)
    return ACCEPTED


@router.post(
    "/auth/verify",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="verifyEmail",
    summary="Confirm an e-mail address with the code mailed to it",
    response_class=Response,
    responses={
        204: {"description": "Confirmed; password sign-in works now"},
        400: problem_response(
            400,
            description="The code is wrong, used up (5 tries), expired (15 minutes) or "
            "replaced by a newer one, or the address has no account - one answer for all",
            example=_INVALID_CODE_EXAMPLE,
        ),
        **problems(422, 429),
    },
)
def verify_email(
    data: CodeConfirmIn, session: SessionDep, ctx: ContextDep, ip: ClientIP
) -> Response:
    """Open to anyone (no token): the e-mail address and the 6-digit code from the message
    sent at registration (or after a sign-in that needed a confirmed address). A code works
    once; each wrong try uses up one of its 5, then it is dead and a new one is needed (a
    sign-in attempt with the right password mails one). Every failure is the same 400
    `invalid-code`, so it tells nothing about the address. Tries per client address are
    limited (429 with Retry-After)."""
    registration.verify_email(session, ctx, data, ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="requestPasswordReset",
    summary="Mail a password-reset code to an account's address",
    responses=problems(422, 429),
)
def request_password_reset(
    data: PasswordResetIn, session: SessionDep, ctx: ContextDep, ip: ClientIP
) -> AcceptedOut:
    """Open to anyone (no token). Always answers **202 with the same body**: if the address
    has an account, a 6-digit reset code is mailed to it (valid 15 minutes, 5 tries, replacing
    any earlier one); if not, a short notice saying no account uses it. Then
    `POST /auth/password-reset/confirm`. At most a few messages per address per hour are sent
    (further requests are answered alike and send nothing); requests per client address are
    limited (429 with Retry-After)."""
    registration.request_password_reset(session, ctx, data, ip)
    return ACCEPTED


@router.post(
    "/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="confirmPasswordReset",
    summary="Set a new password with the mailed code; every session of the account ends",
    response_class=Response,
    responses={
        204: {"description": "The new password is set; every sign-in of the account ended"},
        400: problem_response(
            400,
            description="The code is wrong, used up (5 tries), expired (15 minutes) or "
            "replaced by a newer one, or the address has no account - one answer for all",
            example=_INVALID_CODE_EXAMPLE,
        ),
        **problems(422, 429),
    },
)
def confirm_password_reset(
    data: PasswordResetConfirmIn, session: SessionDep, ctx: ContextDep, ip: ClientIP
) -> Response:
    """Open to anyone (no token): the e-mail address, the 6-digit code from the reset message
    and the new password (at least 10 characters). Answers 204; then sign in with the new
    password. Every sign-in of the account ends at once: refresh tokens are refused and
    access tokens stop working on their next request. The address counts as confirmed (the
    code reached it). Failures are one 400 `invalid-code` (see `POST /auth/verify`); tries per
    client address are limited (429 with Retry-After)."""
    registration.confirm_password_reset(session, ctx, data, ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def require_form(request: Request) -> None:
    """RFC 6749 §4: the token endpoint takes application/x-www-form-urlencoded. Anything else
    (a JSON body, say) would otherwise read as an empty form: say what is wrong instead."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != FORM:
        raise OAuthError("invalid_request", not_a_form(media))


def not_a_form(media: str) -> str:
    sent = f"not {media}" if media else "with a Content-Type header"
    return f"Send the token request as {FORM} (RFC 6749), {sent}."


@router.post(
    "/auth/token",
    operation_id="issueToken",
    summary="OAuth2 token endpoint (password, refresh_token, client_credentials grants)",
    dependencies=[Depends(require_form)],
    responses={
        400: _problem_examples(
            400,
            "RFC 6749 §5.2 error, named in the `error` member",
            {
                "invalid_grant": (
                    "Wrong e-mail or password (the same for an unknown e-mail), or a refresh "
                    "token that is unknown, spent, expired or revoked",
                    error_body(OAuthError("invalid_grant", INVALID_LOGIN)),
                ),
                "invalid_request": (
                    "Not a form body (e.g. JSON), or a required field missing",
                    error_body(OAuthError("invalid_request", not_a_form("application/json"))),
                ),
                "unsupported_grant_type": (
                    "A grant_type other than password, refresh_token, client_credentials",
                    error_body(
                        OAuthError(
                            "unsupported_grant_type", "grant_type 'implicit' is not supported."
                        )
                    ),
                ),
                "invalid_scope": (
                    "A scope the client is not registered for (or any scope for a person)",
                    error_body(
                        OAuthError(
                            "invalid_scope", "The client is not registered for: diary:write."
                        )
                    ),
                ),
            },
        ),
        401: problem_response(
            401,
            description="RFC 6749 §5.2 `invalid_client`: unknown client, wrong secret or a "
            "disabled client (with a `WWW-Authenticate: Basic` challenge)",
            example=error_body(OAuthError("invalid_client", clients.INVALID_CLIENT, status=401)),
        ),
        **problems(429),
    },
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
    narrowing their registered scopes. The body must be `application/x-www-form-urlencoded`.

    Errors are problem+json with an RFC 6749 §5.2 `error` member: wrong e-mail or password
    (identical for an unknown e-mail) and a bad or spent refresh token are 400
    `invalid_grant`; bad client credentials 401 `invalid_client`; a body that is not a form
    400 `invalid_request`; also `unsupported_grant_type` and `invalid_scope` (400).

    Failed password checks are throttled so that strangers cannot lock anyone out: per
    (account, client address) a few free failures, then delays doubling up to 15 minutes;
    per client address and per account (from anywhere) far more, and then only short delays.
    A throttled attempt is a 429 with `Retry-After` (seconds), whatever the password; a
    correct password clears its address's counts. Where confirmed e-mail addresses are
    required, an unconfirmed account fails like a wrong password and a new code is mailed to
    the address."""
    if grant_type in ("password", "refresh_token") and scope and scope.strip():
        raise OAuthError("invalid_scope", "Tokens of people carry no scopes; leave scope out.")
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
        refresh_token=("End a sign-in", {"token": "Hk3v0oR1bq9v7mWcQ2x8LZpJt5sYdUe4"}),
        partner_access_token=(
            "Revoke a partner's access token",
            {"token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIzZjBjNmYxZSJ9.c2ln"},
        ),
    ),
)
def revoke(
    token: Annotated[str, Form(min_length=1, max_length=4096)], session: SessionDep, ctx: ContextDep
) -> Response:
    """RFC 7009 revocation, a form post with `token` and no authentication: a refresh token or
    a person's access token ends the whole sign-in it belongs to (its access tokens stop
    working at once); a partner's client-credentials access token is refused from its next
    request on, on every server, until it would have expired anyway. Always 200 with an
    empty body, also for tokens that are not ours, so it cannot be used to probe tokens."""
    auth.revoke(session, ctx, token)
    return Response(status_code=status.HTTP_200_OK)
