"""Sign-in, registration and password checks are throttled, counted in the database."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.security import rate_limit as rate_limit_module
from app.services.context import AppContext
from app.trends.days import utcnow
from tests.helpers import PASSWORD, Api, assert_problem

TOKEN_URL = "/api/v1/auth/token"
WINDOW = 15 * 60


def _login(client: TestClient, email: str, password: str) -> httpx.Response:
    response: httpx.Response = client.post(
        TOKEN_URL, data={"grant_type": "password", "username": email, "password": password}
    )
    return response


def _retry_after(response: httpx.Response) -> int:
    body = assert_problem(response, 429)
    assert body["type"].endswith("/rate-limited")
    return int(response.headers["retry-after"])


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Move the rate limiter's clock forward (the window is 15 minutes; tests don't wait)."""
    offset = timedelta()

    def advance(by: timedelta) -> None:
        nonlocal offset
        offset += by

    def shifted() -> datetime:
        return utcnow() + offset

    monkeypatch.setattr(rate_limit_module, "utcnow", shifted)
    return advance


def _from_ip(app: FastAPI, ip: str) -> TestClient:
    return TestClient(app, client=(ip, 40000))


def test_five_failures_lock_the_account_even_for_the_right_password(
    api: Api, client: TestClient, app: FastAPI, clock: Callable[[timedelta], None]
) -> None:
    account = api.register()
    for _ in range(5):
        assert_problem(_login(client, account.email, "wrong password!"), 401)

    wait = _retry_after(_login(client, account.email, PASSWORD))
    assert 0 < wait <= WINDOW
    # From another address too: the account is limited, not just the IP.
    elsewhere = _from_ip(app, "198.51.100.7")
    assert 0 < _retry_after(_login(elsewhere, account.email, PASSWORD)) <= WINDOW

    clock(timedelta(seconds=wait))
    assert _login(elsewhere, account.email, PASSWORD).status_code == 200


def test_unknown_account_is_throttled_exactly_like_a_known_one(
    api: Api, client: TestClient, app: FastAPI
) -> None:
    account = api.register()
    answers = []
    for email, ip in ((account.email, "198.51.100.1"), ("nobody@example.org", "198.51.100.2")):
        other = _from_ip(app, ip)
        for _ in range(5):
            assert_problem(_login(other, email, "wrong password!"), 401)
        blocked = _login(other, email, "wrong password!")
        _retry_after(blocked)
        answers.append({k: v for k, v in blocked.json().items() if k != "detail"})
    assert answers[0] == answers[1]


def test_success_resets_the_account_counter(
    api: Api, app: FastAPI, clock: Callable[[timedelta], None]
) -> None:
    account = api.register()
    # Different addresses, so only the account's counter is in play.
    for round_ in range(3):
        client = _from_ip(app, f"203.0.113.{round_}")
        for _ in range(4):
            assert_problem(_login(client, account.email, "wrong password!"), 401)
        assert _login(client, account.email, PASSWORD).status_code == 200
    client = _from_ip(app, "203.0.113.99")
    for _ in range(5):
        assert_problem(_login(client, account.email, "wrong password!"), 401)
    _retry_after(_login(client, account.email, PASSWORD))


def test_failures_from_one_ip_block_every_account_from_it(api: Api, app: FastAPI) -> None:
    victims = [api.register() for _ in range(5)]
    guesser = _from_ip(app, "192.0.2.66")
    for victim in victims:
        assert_problem(_login(guesser, victim.email, "wrong password!"), 401)
    fresh = api.register()
    _retry_after(_login(guesser, fresh.email, PASSWORD))
    # The same accounts from another address are fine: each has only one failure.
    assert _login(_from_ip(app, "192.0.2.67"), fresh.email, PASSWORD).status_code == 200


def test_successful_sign_ins_do_not_use_up_the_ip_allowance(api: Api, app: FastAPI) -> None:
    account = api.register()
    shared = _from_ip(app, "192.0.2.10")  # a clinic behind one NAT address
    for _ in range(12):
        assert _login(shared, account.email, PASSWORD).status_code == 200
    for _ in range(5):
        assert_problem(_login(shared, account.email, "wrong password!"), 401)
    _retry_after(_login(shared, account.email, PASSWORD))


def test_concurrent_guesses_cannot_slip_past_the_limit(api: Api, app: FastAPI) -> None:
    account = api.register()
    guesser = _from_ip(app, "192.0.2.99")
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(
            pool.map(
                lambda _: _login(guesser, account.email, "wrong password!").status_code, range(12)
            )
        )
    # Each attempt is counted before its password is checked: exactly five get checked.
    assert statuses == [401] * 5 + [429] * 7


def test_registration_is_limited_per_ip(
    api: Api, app: FastAPI, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ctx.settings, "register_max_per_ip", 3)
    client = _from_ip(app, "192.0.2.20")

    def register(email: str) -> httpx.Response:
        response: httpx.Response = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": "R", "timezone": "UTC"},
        )
        return response

    for i in range(3):
        assert register(f"r{i}@example.org").status_code == 201
    wait = _retry_after(register("r3@example.org"))
    assert 0 < wait <= ctx.settings.register_window_seconds
    assert_problem(_login(client, "r3@example.org", PASSWORD), 401)  # nothing was created
    assert register("r3@example.org").status_code == 429
    # Another address may still register (the limit is per IP).
    client = _from_ip(app, "192.0.2.21")
    assert register("r3@example.org").status_code == 201


def test_wrong_current_password_counts_as_a_failed_sign_in(
    api: Api, client: TestClient, app: FastAPI
) -> None:
    account = api.register()

    def change(current: str) -> httpx.Response:
        response: httpx.Response = client.post(
            "/api/v1/me/password",
            headers=account.headers,
            json={"current_password": current, "new_password": "a brand new password"},
        )
        return response

    for _ in range(5):
        assert_problem(change("wrong password!"), 401)
    _retry_after(change(PASSWORD))
    _retry_after(_login(_from_ip(app, "192.0.2.30"), account.email, PASSWORD))
