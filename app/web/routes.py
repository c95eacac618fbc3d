"""The clinician web app's pages: sign-in and sign-out, patients, a patient, a series report,
the cohort, and the CSV/FHIR downloads - each on the same services as the API.

Every page needs a live web session (else a redirect to the sign-in form) and reads a patient
only through ``session.web_patient`` (an active grant, checked on this request, and audited like
the API's reads). Errors are HTML pages with the problem's status (``WebRoute``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, StreamingResponse
from fastapi.routing import APIRoute

from app.deps import ClientIP, ContextDep, SessionDep, request_info
from app.errors import AppError, InvalidCredentials, TooManyRequests
from app.reports.km import render_relief_km
from app.services.care import audit
from app.services.exports import episodes_csv, fhir_bundle
from app.services.identity import web_sessions
from app.services.outcomes import clinic, cohort, trends
from app.services.outcomes.overview import SORTS, Sort, patients_overview
from app.trends import days
from app.web import report_frame
from app.web.pages import PAGE_HEADERS, PREFIX, error_page, page
from app.web.session import (
    COOKIE,
    CSRF_FIELD,
    SIGNIN_COOKIE,
    Caller,
    MaybeCaller,
    SignInRequired,
    WebPatient,
    check_csrf,
    clear_cookie,
    new_signin_token,
    set_cookie,
    signin_token_ok,
)

SIGNIN_TOKEN_SECONDS = 3600
PAGE_SIZE = 25


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(PREFIX + path, status_code=303, headers=PAGE_HEADERS)


class WebRoute(APIRoute):
    """Errors as pages: no session → the sign-in form; a domain error → an HTML page with its
    status (a patient without a grant is the same 404 page as one that does not exist)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return _redirect("/sign-in")
            except RequestValidationError:
                caller = getattr(request.state, "web_caller", None)
                return error_page(
                    422, "Invalid request", "The address or the form is not valid.", caller
                )
            except AppError as error:
                caller = getattr(request.state, "web_caller", None)
                title = "Not found" if error.status == 404 else error.title
                response = error_page(error.status, title, error.detail or title, caller)
                if "Retry-After" in error.headers:
                    response.headers["Retry-After"] = error.headers["Retry-After"]
                return response

        return route


router = APIRouter(prefix=PREFIX, route_class=WebRoute, include_in_schema=False)


# --- sign-in and sign-out -----------------------------------------------------------------


def _sign_in_form(
    ctx: ContextDep, *, status: int = 200, message: str | None = None, email: str = ""
) -> Response:
    token = new_signin_token()
    response = page(
        "sign_in.html",
        {"caller": None, "message": message, "email": email, "signin_token": token},
        status=status,
    )
    set_cookie(response, ctx, SIGNIN_COOKIE, token, SIGNIN_TOKEN_SECONDS)
    return response


@router.get("/sign-in")
def sign_in_form(ctx: ContextDep, caller: MaybeCaller, signed_out: bool = False) -> Response:
    if caller is not None:
        return _redirect("/")
    message = "You have signed out." if signed_out else None
    return _sign_in_form(ctx, message=message)


@router.post("/sign-in")
def sign_in(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    client_ip: ClientIP,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    signin_token: Annotated[str | None, Form()] = None,
) -> Response:
    if not signin_token_ok(request, signin_token):
        return _sign_in_form(
            ctx,
            status=403,
            message="The form had expired or was not sent from this site. Please sign in again.",
            email=email,
        )
    try:
        signed = web_sessions.sign_in(
            session, ctx, email=email, password=password, client_ip=client_ip
        )
    except InvalidCredentials as exc:
        return _sign_in_form(ctx, status=400, message=exc.detail, email=email)
    except TooManyRequests as exc:
        response = _sign_in_form(
            ctx,
            status=429,
            message="Too many sign-in attempts. Wait a little, then try again.",
            email=email,
        )
        response.headers.update({k: v for k, v in exc.headers.items() if k == "Retry-After"})
        return response
    if signed.token is None:
        response = page("patient_app.html", {"caller": None, "name": signed.display_name})
    else:
        response = _redirect("/")
        set_cookie(response, ctx, COOKIE, signed.token, ctx.settings.web_absolute_timeout_seconds)
    clear_cookie(response, ctx, SIGNIN_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(
    request: Request,
    ctx: ContextDep,
    session: SessionDep,
    caller: Caller,
    csrf_token: Annotated[str | None, Form(alias=CSRF_FIELD)] = None,
) -> Response:
    check_csrf(caller, csrf_token)
    web_sessions.sign_out(session, request.cookies.get(COOKIE))
    response = _redirect("/sign-in?signed_out=true")
    clear_cookie(response, ctx, COOKIE)
    return response


# --- pages ----------------------------------------------------------------------------------


@router.get("")
def root() -> Response:
    return _redirect("/")


@router.get("/")
def patients_page(
    request: Request,
    caller: Caller,
    session: SessionDep,
    ctx: ContextDep,
    sort: Annotated[Sort, Query()] = "attention",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    overview = patients_overview(
        session, caller.actor, db=ctx.db, sort=sort, page=page_number, page_size=PAGE_SIZE
    )
    # The rows shown are patient data read: each is on that patient's access log.
    info = request_info(request, "read")
    audit.record(
        ctx.db,
        [audit.event_for(caller.actor, row.patient_id, info, "success") for row in overview.rows],
    )
    return page(
        "patients.html",
        {"caller": caller, "overview": overview, "sorts": SORTS, "csrf_field": CSRF_FIELD},
    )


@router.get("/patients/{pid}")
def patient_page(pid: str, patient: WebPatient, caller: Caller, session: SessionDep) -> Response:
    view = clinic.patient_page(session, patient)
    charts = {course_id: report_frame.inline_svg(svg) for course_id, svg in view.charts.items()}
    return page(
        "patient.html",
        {
            "caller": caller,
            "csrf_field": CSRF_FIELD,
            "patient": patient,
            "view": view,
            "charts": charts,
        },
    )


@router.get("/patients/{pid}/series/{sid}/report")
def report_page(
    pid: str,
    sid: uuid.UUID,
    request: Request,
    patient: WebPatient,
    caller: Caller,
    session: SessionDep,
) -> Response:
    html = trends.series_report(session, patient, sid, None, report_url=str(request.url))
    parts = report_frame.split_report(html)
    return page(
        "report.html",
        {
            "caller": caller,
            "csrf_field": CSRF_FIELD,
            "patient": patient,
            "report": parts,
        },
    )


COHORT_PAGE_ROWS = 50


@router.get("/cohort")
def cohort_page(
    request: Request,
    caller: Caller,
    session: SessionDep,
    ctx: ContextDep,
    cursor: Annotated[str | None, Query(pattern=cohort.ORDER.pattern, max_length=2_200)] = None,
) -> Response:
    """The summary and the Kaplan-Meier curve over the whole cohort; the series table a page of
    rows at a time (``cursor`` from the previous page's "next" link)."""
    result = cohort.series_outcomes(
        session,
        ctx.db,
        caller.actor,
        request_info(request, "read"),
        modality=None,
        as_of=None,
        limit=COHORT_PAGE_ROWS,
        cursor=cursor,
        with_summary=cursor is None,
    )
    first_series, boosters = cohort.relief_curves(session, caller.actor)
    return page(
        "cohort.html",
        {
            "caller": caller,
            "csrf_field": CSRF_FIELD,
            "result": result,
            "km": report_frame.inline_svg(render_relief_km(first_series, boosters)),
            "page_rows": COHORT_PAGE_ROWS,
        },
    )


# --- downloads ------------------------------------------------------------------------------


def _attachment(name: str) -> dict[str, str]:
    return PAGE_HEADERS | {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/cohort/series-outcomes.csv")
def cohort_csv(request: Request, caller: Caller, session: SessionDep, ctx: ContextDep) -> Response:
    rows = cohort.every_row(
        session, ctx.db, caller.actor, request_info(request, "export"), modality=None, as_of=None
    )
    return Response(
        cohort.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers=_attachment("series-outcomes.csv"),
    )


@router.get("/patients/{pid}/export/episodes.csv")
def episodes_download(patient: WebPatient, caller: Caller, ctx: ContextDep) -> Response:
    body = episodes_csv.export_episodes(ctx, patient, caller.actor)
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8; header=present",
        headers=_attachment(f"paindiary-episodes-{days.utc_today().isoformat()}.csv"),
    )


@router.get("/patients/{pid}/export/fhir")
def fhir_download(patient: WebPatient, caller: Caller, ctx: ContextDep) -> Response:
    body = fhir_bundle.export_bundle(ctx, patient, caller.actor)
    return StreamingResponse(
        body,
        media_type=fhir_bundle.FHIR_JSON,
        headers=_attachment(f"paindiary-fhir-{days.utc_today().isoformat()}.json"),
    )


@router.get("/{rest:path}")
def unknown_page(rest: str, caller: MaybeCaller) -> Response:
    """Any other address under /clinic/: the 404 page (the same as for a patient you may not
    see), never the API's problem+json."""
    del rest
    return error_page(404, "Not found", "Not found", caller)
