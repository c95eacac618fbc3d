"""Web sessions of /clinic/ through HTTP (no browser): they end wherever a sign-in ends, the
sign-in form is throttled like the token endpoint, every page is no-store, errors are pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models import WebSession
from app.services.context import AppContext
from app.services.identity.sessions import end_all_sign_ins
from tests.helpers import PASSWORD, Account, Api

CLINIC = "/clinic"


@pytest.fixture
def browser_like(client: TestClient, app: FastAPI) -> Iterator[TestClient]:
    """A client over HTTPS (the cookie is Secure outside development) that does not follow
    redirects, after the ``client`` fixture emptied the tables."""
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as web:
        yield web


def sign_in(web: TestClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = web.get(f"{CLINIC}/sign-in")
    match = re.search(r'name="signin_token" value="([^"]+)"', form.text)
    assert match, form.text
    response: httpx.Response = web.post(
        f"{CLINIC}/sign-in",
        data={"email": email, "password": password, "signin_token": match.group(1)},
    )
    return response


def signed_in(web: TestClient, email: str, password: str = PASSWORD) -> None:
    response = sign_in(web, email, password)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{CLINIC}/"
    assert web.get(f"{CLINIC}/").status_code == 200


def is_signed_out(web: TestClient) -> bool:
    page = web.get(f"{CLINIC}/")
    return page.status_code == 303 and str(page.headers["location"]) == f"{CLINIC}/sign-in"


def test_the_cookie_and_the_pages_headers(api: Api, browser_like: TestClient) -> None:
    doctor = api.staff()
    response = sign_in(browser_like, doctor.email)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("paindiary_clinic=")
    for attribute in ("HttpOnly", "Path=/clinic", "SameSite=strict", "Secure"):
        assert attribute.lower() in cookie.lower(), cookie
    for path in ("/", "/cohort", "/sign-in"):
        page = browser_like.get(CLINIC + path)
        assert page.headers["cache-control"] == "no-store", path
        assert "script-src" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize("how", ["password_change", "password_reset", "erasure"])
def test_every_way_a_sign_in_ends_ends_the_web_session_too(
    api: Api, client: TestClient, browser_like: TestClient, ctx: AppContext, how: str
) -> None:
    doctor = api.staff()
    signed_in(browser_like, doctor.email)
    if how == "password_change":
        changed = client.post(
            "/api/v1/me/password",
            headers=doctor.headers,
            json={"current_password": PASSWORD, "new_password": "another long password"},
        )
        assert changed.status_code == 204
        assert client.get("/api/v1/me", headers=doctor.headers).status_code == 200  # kept
    elif how == "password_reset":
        # What POST /auth/password-reset/confirm does once the mailed code checks out.
        with ctx.db.session(write=True) as session:
            end_all_sign_ins(session, doctor.user_id, reason="password_reset")
            session.commit()
    else:
        erased = client.request(
            "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=doctor.headers
        )
        assert erased.status_code == 204
    assert is_signed_out(browser_like)
    expected = {"password_change": "password_changed", "erasure": "erased"}.get(how, how)
    with ctx.db.session() as session:
        reasons = list(session.scalars(select(WebSession.ended_reason)))
    # An erased account's sessions go with it (ON DELETE CASCADE).
    assert reasons == ([] if how == "erasure" else [expected])


def test_signing_out_ends_only_that_session(
    api: Api, app: FastAPI, browser_like: TestClient
) -> None:
    doctor = api.staff()
    signed_in(browser_like, doctor.email)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as other:
        signed_in(other, doctor.email)
        page = browser_like.get(f"{CLINIC}/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        out = browser_like.post(f"{CLINIC}/sign-out", data={"csrf_token": token.group(1)})
        assert out.status_code == 303
        assert is_signed_out(browser_like)
        assert other.get(f"{CLINIC}/").status_code == 200


def test_another_sessions_csrf_token_is_refused(
    api: Api, app: FastAPI, browser_like: TestClient
) -> None:
    doctor = api.staff()
    signed_in(browser_like, doctor.email)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as other:
        signed_in(other, doctor.email)
        foreign = re.search(r'name="csrf_token" value="([^"]+)"', other.get(f"{CLINIC}/").text)
        assert foreign
    refused = browser_like.post(f"{CLINIC}/sign-out", data={"csrf_token": foreign.group(1)})
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert browser_like.get(f"{CLINIC}/").status_code == 200


def test_the_sign_in_form_is_throttled_like_the_token_endpoint(
    api: Api, client: TestClient, browser_like: TestClient, ctx: AppContext
) -> None:
    doctor = api.staff()
    free = ctx.settings.login_free_failures_per_pair
    for _ in range(free):
        assert sign_in(browser_like, doctor.email, "wrong password!").status_code == 400
    throttled = sign_in(browser_like, doctor.email, PASSWORD)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) >= 1
    assert "Too many sign-in attempts" in throttled.text
    # The API's password grant counts the same failures (same client address, same account).
    token = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": doctor.email, "password": PASSWORD},
    )
    assert token.status_code == 429


def test_a_bad_page_number_and_an_unknown_sort_are_pages_not_json(
    api: Api, browser_like: TestClient
) -> None:
    doctor: Account = api.staff()
    signed_in(browser_like, doctor.email)
    for query in ("page=0", "page=abc", "sort=evil"):
        page = browser_like.get(f"{CLINIC}/?{query}")
        assert page.status_code == 422, query
        assert page.headers["content-type"].startswith("text/html")


def test_an_unknown_address_is_the_404_page_and_the_stylesheet_is_served(
    browser_like: TestClient,
) -> None:
    missing = browser_like.get(f"{CLINIC}/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in missing.text
    css = browser_like.get(f"{CLINIC}/static/clinic.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
