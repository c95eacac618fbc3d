"""The patients-page figure of ``make bench``: signing in through the web form as a browser
does, and reporting "not measured" when the build has no web app."""

from __future__ import annotations

import secrets
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bench import figures_clinic
from bench.client import PASSWORD, Account
from bench.figures_clinic import cookie_header, set_cookies, sign_in_form

SIGN_IN_PAGE = """<!doctype html><html lang="en"><body>
<form method="post" action="/clinic/sign-in">
  <input type="hidden" name="csrf_token" value="tok-123">
  <label>E-mail <input type="email" name="email" autocomplete="username"></label>
  <label>Password <input type="password" name="password"></label>
  <button type="submit">Sign in</button>
</form></body></html>"""


def account(name: str) -> Account:
    return Account(f"{name}@bench.example", uuid.uuid4(), None, "unused-token")


def test_the_sign_in_form_is_read_with_its_hidden_fields() -> None:
    form = sign_in_form('<form action="/search"><input name="q"></form>' + SIGN_IN_PAGE)
    assert (form.action, form.method) == ("/clinic/sign-in", "post")
    assert form.fields == {"csrf_token": "tok-123"}
    assert (form.email_field, form.password_field) == ("email", "password")
    with pytest.raises(figures_clinic.NotAvailable):
        sign_in_form("<p>no form</p>")


def test_secure_cookies_are_carried_and_deleted_cookies_dropped() -> None:
    one = httpx.Response(200, headers=[("set-cookie", "csrf=abc; Path=/clinic; Secure")])
    two = httpx.Response(
        200,
        headers=[
            ("set-cookie", "session=s1; Path=/clinic; Secure; HttpOnly; SameSite=Strict"),
            ("set-cookie", "csrf=; Max-Age=0; Path=/clinic"),
        ],
    )
    jar = set_cookies([one, two])
    assert jar == {"session": "s1"}
    assert cookie_header(jar) == {"Cookie": "session=s1"}


def test_without_the_web_app_the_figures_say_not_measured(client: TestClient) -> None:
    figures = figures_clinic.patients_page(
        client, {50: account("c50"), 500: account("c500")}, "SQLite"
    )
    assert [figure.name for figure in figures] == [
        "clinician patients page p50, 50 granted patients (ms)",
        "clinician patients page p50, 500 granted patients (ms)",
        "clinician patients page p50, 500 granted patients ÷ 50",
    ]
    assert all(figure.ratio is None for figure in figures)
    assert all("GET /clinic/sign-in answered 404" in figure.note for figure in figures)


def tiny_clinic(rows: dict[str, int]) -> Starlette:
    """A stand-in for the web app's two routes: a CSRF-protected sign-in form setting a Secure
    session cookie, and a page listing as many rows as the clinician has patients."""
    sessions: dict[str, str] = {}

    def form_page() -> Response:
        page = HTMLResponse(SIGN_IN_PAGE)
        page.set_cookie("csrf", "tok-123", path="/clinic", secure=True, httponly=True)
        return page

    async def sign_in(request: Request) -> Response:
        if request.method == "GET":
            return form_page()
        form = await request.form()
        if (
            form.get("csrf_token") != request.cookies.get("csrf")
            or form.get("password") != PASSWORD
            or form.get("email") not in rows
        ):
            return HTMLResponse(SIGN_IN_PAGE, status_code=400)
        token = secrets.token_urlsafe(16)
        sessions[token] = str(form["email"])
        redirect = RedirectResponse("/clinic/", status_code=303)
        redirect.set_cookie("session", token, path="/clinic", secure=True, httponly=True)
        return redirect

    def page(request: Request) -> Response:
        email = sessions.get(request.cookies.get("session", ""))
        if email is None:
            return RedirectResponse("/clinic/sign-in", status_code=303)
        return HTMLResponse("<table>" + "<tr><td>p</td></tr>" * rows[email] + "</table>")

    return Starlette(
        routes=[
            Route("/clinic/sign-in", sign_in, methods=["GET", "POST"]),
            Route("/clinic/", page),
        ]
    )


def test_signs_in_through_the_form_and_measures_both_clinicians() -> None:
    c50, c500 = account("c50"), account("c500")
    app = tiny_clinic({c50.email: 50, c500.email: 500})
    with TestClient(app, base_url="http://127.0.0.1") as http:
        figures = figures_clinic.patients_page(http, {50: c50, 500: c500}, "SQLite")
    assert [figure.note for figure in figures] == ["", "", ""]
    p50_50, p50_500, ratio = (figure.ratio for figure in figures)
    assert p50_50 is not None
    assert p50_500 is not None
    assert ratio == pytest.approx(p50_500 / p50_50)
    assert "p50" in figures[2].absolute
    assert "with 50 patients" in figures[2].absolute


def test_a_refused_sign_in_is_not_measured() -> None:
    app = tiny_clinic({})  # nobody may sign in
    with TestClient(app, base_url="http://127.0.0.1") as http:
        figures = figures_clinic.patients_page(http, {50: account("c50")}, "SQLite")
    assert [figure.ratio for figure in figures] == [None, None]
    assert "signing in through" in figures[0].note
