"""The web session behind the browser's cookie, CSRF checks, and the patient a page is about.

The cookie holds an opaque token (``services/identity/web_sessions.py`` keeps its hash and ends
it): ``HttpOnly`` (no script can read it), ``SameSite=Strict`` (no other site's page sends it),
``Secure`` outside development, path ``/clinic``. Every state-changing form carries the
session's CSRF token (synchronizer-token pattern); the sign-in form, before any session exists,
a random token also set as a short-lived cookie (double submit), against login CSRF.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.deps import ContextDep, SessionDep, request_info
from app.errors import AppError, Forbidden
from app.models import Patient
from app.security.tokens import constant_time_equal
from app.services.care import audit
from app.services.care.access import AccessPolicy, authorise_read
from app.services.context import AppContext
from app.services.identity import web_sessions
from app.services.identity.web_sessions import WebCaller
from app.web.pages import PREFIX

COOKIE = "paindiary_clinic"
SIGNIN_COOKIE = "paindiary_clinic_signin"
CSRF_FIELD = "csrf_token"
# Pages read what the API's report routes read (a partner would need reports:read).
READ_POLICY = AccessPolicy.of("read", "reports:read")


class SignInRequired(AppError):
    """No live web session: the page answers with a redirect to the sign-in form."""

    status, type, title = 401, "sign-in-required", "Sign in"


class CsrfRejected(Forbidden):
    """A state-changing form without the right CSRF token."""


def set_cookie(response: Response, ctx: AppContext, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.env != "development",
    )


def clear_cookie(response: Response, ctx: AppContext, name: str) -> None:
    response.delete_cookie(
        name,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.env != "development",
    )


def new_signin_token() -> str:
    return secrets.token_urlsafe(32)


def signin_token_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(SIGNIN_COOKIE)
    return bool(cookie and submitted and constant_time_equal(cookie, submitted))


def get_caller(request: Request, ctx: ContextDep) -> WebCaller | None:
    caller = web_sessions.resolve(ctx, request.cookies.get(COOKIE))
    request.state.web_caller = caller
    return caller


MaybeCaller = Annotated[WebCaller | None, Depends(get_caller)]


async def require_caller(caller: MaybeCaller) -> WebCaller:
    if caller is None:
        raise SignInRequired("Your session has ended; sign in again.")
    return caller


Caller = Annotated[WebCaller, Depends(require_caller)]


def check_csrf(caller: WebCaller, submitted: str | None) -> None:
    if not web_sessions.csrf_ok(caller, submitted):
        raise CsrfRejected(
            "This form was not sent from a page of this session (its security token is "
            "missing or wrong); nothing was changed. Go back, reload the page and try again."
        )


async def web_patient(
    pid: str, request: Request, caller: Caller, session: SessionDep, ctx: ContextDep
) -> Patient:
    """The patient of ``{pid}`` if the signed-in caller may read them (an active grant, checked
    now), audited like the API's reads; otherwise the 404 page (the same for a patient who does
    not exist)."""
    info: audit.RequestInfo = request_info(request)
    return await run_in_threadpool(
        authorise_read, ctx.db, session, caller.actor, pid, READ_POLICY, info
    )


WebPatient = Annotated[Patient, Depends(web_patient)]
