"""Accounts and sign-in: register, the OAuth2 token endpoint, revocation, /me."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import APIRouter, Form, Request, Response, status

from app.api.responses import problems
from app.deps import ClientIP, ContextDep, CurrentActor, SessionDep
from app.errors import OAuthError
from app.schemas.auth import PasswordChangeIn, RegisterIn, TokenOut, UserOut
from app.services import accounts, auth, clients

router = APIRouter(tags=["auth"])

OptionalForm = Annotated[str | None, Form()]


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    operation_id="register",
    summary="Create a patient account and its patient record",
    responses=problems(409, 422, 429),
)
def register(data: RegisterIn, session: SessionDep, ctx: ContextDep, ip: ClientIP) -> UserOut:
    return accounts.register_patient(session, ctx, data, ip)


@router.post(
    "/auth/token",
    operation_id="issueToken",
    summary="OAuth2 token endpoint (password, refresh_token, client_credentials grants)",
    responses=problems(400, 401, 429),
    response_model_exclude_none=True,
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
)
def revoke(
    token: Annotated[str, Form(min_length=1, max_length=4096)], session: SessionDep, ctx: ContextDep
) -> Response:
    auth.revoke(session, ctx, token)
    return Response(status_code=status.HTTP_200_OK)


@router.get(
    "/me",
    operation_id="getMe",
    summary="The signed-in account",
    tags=["me"],
    responses=problems(401),
)
def me(actor: CurrentActor, session: SessionDep) -> UserOut:
    return accounts.get_me(session, actor)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="changePassword",
    summary="Change the password; every other session of the account ends",
    tags=["me"],
    responses=problems(401, 422, 429),
)
def change_password(
    data: PasswordChangeIn, actor: CurrentActor, session: SessionDep, ctx: ContextDep
) -> Response:
    accounts.change_password(session, ctx, actor, data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
