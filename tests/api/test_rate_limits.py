"""Password checks are throttled so that strangers cannot turn the throttle against a user;
registration is limited per address. Counted in the database (all workers agree).

The clock of the limiter is moved forward instead of waiting (``clock``). Each test client has
an address of its own (``_from_ip``); the real-server test with loopback addresses is in
tests/security/test_lockout_by_strangers.py.
"""

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
WRONG = "wrong password!"
PAIR_FREE, IP_FREE, ACCOUNT_FREE = 5, 20, 100  # the defaults in app/settings.py
SHORT = 60  # the longest wait the shared (address, account) counts ever ask for


def _login(client: TestClient, email: str, password: str) -> httpx.Response:
    response: httpx.Response = client.post(
        TOKEN_URL, data={"grant_type": "password", "username": email, "password": password}
    )
    return response


def _fails(response: httpx.Response) -> None:
    """The answer to a wrong password: checked and refused, not throttled. (Its status, 400
    per RFC 6749, is test_auth.py's business; here it is the throttling that matters.)"""
    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] == "invalid_grant"


def _retry_after(response: httpx.Response) -> int:
    body = assert_problem(response, 429)
    assert body["type"].endswith("/rate-limited")
    return int(response.headers["retry-after"])


Clock = Callable[[float], None]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Move the limiter's clock forward by some seconds (tests never wait for real)."""
    offset = timedelta()

    def advance(seconds: float) -> None:
        nonlocal offset
        offset += timedelta(seconds=seconds)

    def shifted() -> datetime:
        return utcnow() + offset

    monkeypatch.setattr(rate_limit_module, "utcnow", shifted)
    return advance


def _from_ip(app: FastAPI, ip: str) -> TestClient:
    return TestClient(app, client=(ip, 40000))


def _fail_patiently(client: TestClient, email: str, times: int, clock: Clock) -> list[int]:
    """``times`` wrong passwords, each after waiting out the back-off; the waits asked for."""
    waits = []
    for _ in range(times):
        response = _login(client, email, WRONG)
        if response.status_code == 429:
            waits.append(_retry_after(response))
            clock(waits[-1])
            response = _login(client, email, WRONG)
        _fails(response)
    return waits


def test_lockout_by_strangers_fifty_failures_elsewhere_never_stop_the_owner(
    api: Api, app: FastAPI, clock: Clock
) -> None:
    """Finding 2: five wrong passwords locked an account for 15 minutes, the right password
    included, so anyone could lock any clinician out for good."""
    victim = api.staff("clinician")
    attacker = _from_ip(app, "198.51.100.66")
    waits = _fail_patiently(attacker, victim.email, 50, clock)
    # The attacker was slowed down more and more: 1, 2, 4 … seconds, up to 15 minutes.
    assert waits[:5] == [1, 2, 4, 8, 16]
    assert max(waits) == 900
    # The owner, from their own address, signs in at once.
    owner = _from_ip(app, "203.0.113.5")
    assert _login(owner, victim.email, PASSWORD).status_code == 200
    # And the attacker's next guess still waits (the owner's success cleared only their own).
    assert _retry_after(_login(attacker, victim.email, WRONG)) > 0


def test_pair_back_off_doubles_after_the_free_failures_and_success_clears_it(
    api: Api, app: FastAPI, clock: Clock
) -> None:
    account = api.register()
    client = _from_ip(app, "192.0.2.44")
    for _ in range(PAIR_FREE):
        _fails(_login(client, account.email, WRONG))
    # Counted before the password is checked: the right password waits as well.
    assert _retry_after(_login(client, account.email, PASSWORD)) == 1
    assert _retry_after(_login(client, account.email, WRONG)) == 1  # refused: not counted
    clock(1)
    _fails(_login(client, account.email, WRONG))
    assert _retry_after(_login(client, account.email, PASSWORD)) == 2
    clock(2)
    assert _login(client, account.email, PASSWORD).status_code == 200
    # A success clears the pair and the address: free failures again.
    for _ in range(PAIR_FREE):
        _fails(_login(client, account.email, WRONG))
    assert _retry_after(_login(client, account.email, WRONG)) == 1


def test_failures_are_forgotten_after_a_day(api: Api, app: FastAPI, clock: Clock) -> None:
    account = api.register()
    client = _from_ip(app, "192.0.2.45")
    _fail_patiently(client, account.email, PAIR_FREE + 8, clock)
    assert _retry_after(_login(client, account.email, PASSWORD)) > 60
    clock(86_400)
    assert _login(client, account.email, PASSWORD).status_code == 200


def test_lockout_by_strangers_one_nat_address_is_slowed_never_locked(
    api: Api, app: FastAPI, clock: Clock
) -> None:
    """Finding 2: the per-address counter locked everyone behind one proxy or NAT address
    once five sign-ins from it had failed."""
    clinic = _from_ip(app, "192.0.2.10")  # a clinic's staff behind one NAT address
    staff = [api.staff("clinician") for _ in range(8)]
    for person in staff:  # everyone mistypes twice, then gets it right
        _fails(_login(clinic, person.email, WRONG))
        _fails(_login(clinic, person.email, WRONG))
        assert _login(clinic, person.email, PASSWORD).status_code == 200

    # Someone behind the address sprays guesses over many accounts: the address is slowed
    # once its free failures are used up - never for more than a minute.
    targets = [api.unique_email("target") for _ in range(IP_FREE + 10)]
    for target in targets[:IP_FREE]:
        _fails(_login(clinic, target, WRONG))
    waits = []
    for target in targets[IP_FREE:]:
        response = _login(clinic, target, WRONG)
        waits.append(_retry_after(response))
        clock(waits[-1])
        _fails(_login(clinic, target, WRONG))
    assert waits == [1, 2, 4, 8, 16, 32, SHORT, SHORT, SHORT, SHORT]
    # A colleague waits at most that long, then signs in, which clears the address's count:
    # the next mistyped password from the clinic costs nothing.
    wait = _retry_after(_login(clinic, staff[0].email, PASSWORD))
    assert wait <= SHORT
    clock(wait)
    assert _login(clinic, staff[0].email, PASSWORD).status_code == 200
    _fails(_login(clinic, staff[1].email, WRONG))
    assert _login(clinic, staff[1].email, PASSWORD).status_code == 200
    # Addresses elsewhere never noticed.
    assert _login(_from_ip(app, "203.0.113.77"), staff[2].email, PASSWORD).status_code == 200


def test_the_account_wide_limit_only_slows(api: Api, app: FastAPI, clock: Clock) -> None:
    """Guessing spread over many addresses (a botnet) slows the account down - by at most a
    minute per attempt - but never locks its owner out."""
    account = api.register()
    for n in range(ACCOUNT_FREE):
        _fails(_login(_from_ip(app, f"10.1.{n // 250}.{n % 250}"), account.email, WRONG))
    wait = _retry_after(_login(_from_ip(app, "10.2.0.1"), account.email, WRONG))
    assert wait == 1
    clock(wait)
    _fails(_login(_from_ip(app, "10.2.0.1"), account.email, WRONG))
    for _ in range(10):
        response = _login(_from_ip(app, "10.2.0.2"), account.email, WRONG)
        clock(_retry_after(response))
        _fails(_login(_from_ip(app, "10.2.0.2"), account.email, WRONG))
    owner = _from_ip(app, "203.0.113.9")
    wait = _retry_after(_login(owner, account.email, PASSWORD))
    assert wait <= SHORT
    clock(wait)
    assert _login(owner, account.email, PASSWORD).status_code == 200


def test_unknown_account_is_throttled_exactly_like_a_known_one(api: Api, app: FastAPI) -> None:
    account = api.register()
    answers = []
    for email, ip in ((account.email, "198.51.100.1"), ("nobody@example.org", "198.51.100.2")):
        other = _from_ip(app, ip)
        for _ in range(PAIR_FREE):
            _fails(_login(other, email, WRONG))
        blocked = _login(other, email, WRONG)
        assert _retry_after(blocked) == 1
        answers.append({k: v for k, v in blocked.json().items() if k != "instance"})
    assert answers[0] == answers[1]


def test_concurrent_guesses_cannot_slip_past_the_limit(api: Api, app: FastAPI) -> None:
    account = api.register()
    guesser = _from_ip(app, "192.0.2.99")
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(
            pool.map(lambda _: _login(guesser, account.email, WRONG).status_code, range(12))
        )
    # Each attempt is counted before its password is checked: exactly the free ones are.
    assert statuses == [400] * PAIR_FREE + [429] * 7


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

    taken = api.register()
    for email in ("r0@example.org", taken.email, "r2@example.org"):
        assert register(email).status_code == 202
    wait = _retry_after(register("r3@example.org"))
    assert 0 < wait <= ctx.settings.register_window_seconds
    # The limit answers alike for a taken address: it reveals nothing either.
    assert _retry_after(register(taken.email)) == wait
    _fails(_login(client, "r3@example.org", PASSWORD))  # nothing was created
    # Another address may still register (the limit is per IP).
    client = _from_ip(app, "192.0.2.21")
    assert register("r3@example.org").status_code == 202
    assert _login(client, "r3@example.org", PASSWORD).status_code == 200


def test_password_checks_of_signed_in_people_are_throttled_like_sign_ins(
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

    for _ in range(PAIR_FREE):
        assert_problem(change(WRONG), 401)
    assert _retry_after(change(PASSWORD)) == 1
    # The same count as signing in from this address (the pair) ...
    assert _retry_after(_login(client, account.email, PASSWORD)) == 1
    # ... and nobody else's: from another address the owner signs in at once.
    assert _login(_from_ip(app, "192.0.2.30"), account.email, PASSWORD).status_code == 200
