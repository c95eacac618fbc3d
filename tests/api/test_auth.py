"""Registration, sign-in, tokens: what a client and an attacker would try."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from jose import jwt

from app.services.context import AppContext
from tests.conftest import TEST_SECRET
from tests.helpers import PASSWORD, Api, assert_problem

TOKEN_URL = "/api/v1/auth/token"


def test_register_creates_patient_and_me_returns_it(api: Api, client: TestClient) -> None:
    email = "Alex.Example@Example.org"
    r = client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "display_name": "Alex",
            "timezone": "Asia/Kolkata",
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["role"] == "patient"
    assert body["email"] == email.lower()
    assert body["patient_id"]
    token = api.token(email.upper())["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json() == body
    assert me.headers["cache-control"] == "no-store"
    patient = client.get("/api/v1/patients/me", headers={"Authorization": f"Bearer {token}"})
    assert patient.json()["timezone"] == "Asia/Kolkata"
    assert patient.json()["display_name"] == "Alex"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "short"),
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", "CEST"),
        ("email", "not-an-email"),
        ("display_name", ""),
    ],
)
def test_register_rejects_bad_input_and_stores_nothing(
    api: Api, client: TestClient, field: str, value: str
) -> None:
    payload = {
        "email": "someone@example.org",
        "password": PASSWORD,
        "display_name": "Someone",
        "timezone": "Europe/Berlin",
    }
    payload[field] = value
    body = assert_problem(client.post("/api/v1/auth/register", json=payload), 422)
    assert any(err["loc"][-1] == field for err in body["errors"]), body
    # Nothing was written: the e-mail is still free.
    payload[field] = {
        "password": PASSWORD,
        "timezone": "UTC",
        "email": "someone@example.org",
        "display_name": "Someone",
    }[field]
    assert client.post("/api/v1/auth/register", json=payload).status_code == 201


def test_register_rejects_unknown_fields(client: TestClient) -> None:
    body = assert_problem(
        client.post(
            "/api/v1/auth/register",
            json={
                "email": "a@example.org",
                "password": PASSWORD,
                "display_name": "A",
                "timezone": "UTC",
                "role": "admin",
            },
        ),
        422,
    )
    assert body["errors"][0]["loc"][-1] == "role"


def test_register_duplicate_email_is_conflict(api: Api, client: TestClient) -> None:
    account = api.register()
    r = client.post(
        "/api/v1/auth/register",
        json={
            "email": account.email.upper(),
            "password": PASSWORD,
            "display_name": "B",
            "timezone": "UTC",
        },
    )
    assert_problem(r, 409)


def test_login_failures_identical_for_unknown_user_and_bad_password(
    api: Api, client: TestClient
) -> None:
    account = api.register()
    wrong = client.post(
        TOKEN_URL,
        data={"grant_type": "password", "username": account.email, "password": "wrong password!"},
    )
    unknown = client.post(
        TOKEN_URL,
        data={
            "grant_type": "password",
            "username": "nobody@example.org",
            "password": "wrong password!",
        },
    )
    for r in (wrong, unknown):
        body = assert_problem(r, 401)
        assert body["error"] == "invalid_grant"

    def strip(body: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in body.items() if k != "instance"}

    assert strip(wrong.json()) == strip(unknown.json())
    assert wrong.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")


def test_unknown_user_costs_a_password_hash(api: Api, client: TestClient, ctx: AppContext) -> None:
    # Timing parity by construction: the unknown-e-mail path verifies against a dummy hash.
    calls: list[str | None] = []
    original = ctx.passwords.verify

    def spy(password: str, password_hash: str | None) -> bool:
        calls.append(password_hash)
        return original(password, password_hash)

    object.__setattr__(ctx.passwords, "verify", spy)
    try:
        client.post(
            TOKEN_URL,
            data={
                "grant_type": "password",
                "username": "ghost@example.org",
                "password": "whatever123",
            },
        )
    finally:
        object.__delattr__(ctx.passwords, "verify")
    assert calls == [None]


def test_token_endpoint_oauth_errors(client: TestClient) -> None:
    body = assert_problem(client.post(TOKEN_URL, data={"grant_type": "magic"}), 400)
    assert body["error"] == "unsupported_grant_type"
    body = assert_problem(client.post(TOKEN_URL, data={}), 400)
    assert body["error"] == "invalid_request"
    body = assert_problem(client.post(TOKEN_URL, data={"grant_type": "password"}), 400)
    assert body["error"] == "invalid_request"
    body = assert_problem(
        client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": "nope"}), 400
    )
    assert body["error"] == "invalid_grant"


def _claims(ctx: AppContext, account_id: uuid.UUID, **changes: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ctx.settings.jwt_issuer,
        "aud": ctx.settings.jwt_audience,
        "sub": str(account_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "knd": "user",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_forged_and_misused_tokens_are_401(api: Api, client: TestClient, ctx: AppContext) -> None:
    account = api.register()
    good = jwt.get_unverified_claims(account.access_token)
    sid = good["sid"]
    assert client.get("/api/v1/me", headers=account.headers).status_code == 200

    def sign(claims: dict[str, object], key: str = TEST_SECRET, alg: str = "HS256") -> str:
        return str(jwt.encode(claims, key, algorithm=alg))

    base = _claims(ctx, account.user_id, sid=sid)
    # A correctly signed token passes, so the failures below are about what we changed.
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {sign(base)}"}).status_code
        == 200
    )

    header, payload, signature = account.access_token.split(".")
    tampered_payload = dict(good, sub=str(uuid.uuid4()))
    forged = {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "wrong key": sign(base, key="another-secret-key-that-is-long-enough-000000"),
        "tampered payload": f"{header}.{_b64(tampered_payload)}.{signature}",
        "expired": sign(
            _claims(
                ctx,
                account.user_id,
                sid=sid,
                exp=int(time.time()) - 60,
                iat=int(time.time()) - 1000,
            )
        ),
        "wrong audience": sign(_claims(ctx, account.user_id, sid=sid, aud="someone-else")),
        "wrong issuer": sign(_claims(ctx, account.user_id, sid=sid, iss="evil")),
        "no jti": sign(_claims(ctx, account.user_id, sid=sid, jti=None)),
        "no exp": sign(_claims(ctx, account.user_id, sid=sid, exp=None)),
        "refresh type": sign(_claims(ctx, account.user_id, sid=sid, typ="refresh")),
        "other alg": sign(base, alg="HS512"),
        "refresh token as bearer": account.refresh_token or "",
        "garbage": "not.a.jwt",
    }
    for name, token in forged.items():
        r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        body = assert_problem(r, 401)
        assert r.headers["www-authenticate"].startswith("Bearer"), name
        assert "traceback" not in json.dumps(body).lower()


def test_missing_token_is_401_with_challenge(client: TestClient) -> None:
    r = client.get("/api/v1/me")
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_access_token_lifetime_is_15_minutes(api: Api) -> None:
    account = api.register()
    claims = jwt.get_unverified_claims(account.access_token)
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert {"exp", "iat", "sub", "aud", "iss", "jti"} <= claims.keys()
    assert jwt.get_unverified_header(account.access_token)["alg"] == "HS256"


def test_refresh_rotates_and_reuse_revokes_the_family(api: Api, client: TestClient) -> None:
    account = api.register()
    first = account.refresh_token
    assert first
    r1 = client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": first})
    assert r1.status_code == 200, r1.text
    second = r1.json()["refresh_token"]
    assert second
    assert second != first
    new_access = r1.json()["access_token"]
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {new_access}"}).status_code
        == 200
    )

    # The spent token comes back (stolen?): refused, and the whole family ends.
    reuse = client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": first})
    assert assert_problem(reuse, 400)["error"] == "invalid_grant"
    after = client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": second})
    assert assert_problem(after, 400)["error"] == "invalid_grant"
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {new_access}"}).status_code
        == 401
    )
    assert client.get("/api/v1/me", headers=account.headers).status_code == 401
    # Another sign-in is unaffected by the ended family.
    assert (
        client.get(
            "/api/v1/me",
            headers={"Authorization": f"Bearer {api.token(account.email)['access_token']}"},
        ).status_code
        == 200
    )


def test_revoke_ends_the_session(api: Api, client: TestClient) -> None:
    account = api.register()
    other = api.token(account.email)
    r = client.post("/api/v1/auth/revoke", data={"token": account.refresh_token})
    assert r.status_code == 200
    assert client.get("/api/v1/me", headers=account.headers).status_code == 401
    assert (
        assert_problem(
            client.post(
                TOKEN_URL,
                data={"grant_type": "refresh_token", "refresh_token": account.refresh_token},
            ),
            400,
        )["error"]
        == "invalid_grant"
    )
    # Revoking by access token works too, and unknown tokens are accepted silently (RFC 7009).
    headers = {"Authorization": f"Bearer {other['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert (
        client.post("/api/v1/auth/revoke", data={"token": other["access_token"]}).status_code == 200
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.post("/api/v1/auth/revoke", data={"token": "unknown"}).status_code == 200


def test_password_change_ends_other_sessions(api: Api, client: TestClient) -> None:
    account = api.register()
    other = api.token(account.email)
    bad = client.post(
        "/api/v1/me/password",
        headers=account.headers,
        json={"current_password": "wrong password", "new_password": "a new password!"},
    )
    assert_problem(bad, 401)
    r = client.post(
        "/api/v1/me/password",
        headers=account.headers,
        json={"current_password": PASSWORD, "new_password": "a new password!"},
    )
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=account.headers).status_code == 200
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {other['access_token']}"}
        ).status_code
        == 401
    )
    assert (
        assert_problem(_refresh_response(client, other["refresh_token"]), 400)["error"]
        == "invalid_grant"
    )
    r = client.post(
        TOKEN_URL, data={"grant_type": "password", "username": account.email, "password": PASSWORD}
    )
    assert_problem(r, 401)
    assert api.token(account.email, "a new password!")["access_token"]


def _refresh_response(client: TestClient, token: str) -> httpx.Response:
    response: httpx.Response = client.post(
        TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": token}
    )
    return response


def test_admin_creates_clinician_and_patient_cannot(api: Api, client: TestClient) -> None:
    admin = api.staff("admin")
    patient = api.register()
    payload = {
        "email": "dr.who@example.org",
        "password": PASSWORD,
        "display_name": "Dr Who",
        "role": "clinician",
    }
    assert_problem(client.post("/api/v1/admin/users", json=payload, headers=patient.headers), 403)
    assert_problem(client.post("/api/v1/admin/users", json=payload), 401)
    r = client.post("/api/v1/admin/users", json=payload, headers=admin.headers)
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "clinician"
    assert r.json()["patient_id"] is None
    assert api.token("dr.who@example.org")["access_token"]
    bad = dict(payload, role="patient", email="x@example.org")
    assert_problem(client.post("/api/v1/admin/users", json=bad, headers=admin.headers), 422)
