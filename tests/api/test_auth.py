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
from sqlalchemy import select, update

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
    assert r.status_code == 202, r.text
    assert r.headers["cache-control"] == "no-store"
    token = api.token(email.upper())["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    body = me.json()
    assert body["role"] == "patient"
    assert body["email"] == email.lower()
    assert body["patient_id"]
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
    assert client.post("/api/v1/auth/register", json=payload).status_code == 202
    assert api.token(payload["email"])["access_token"]


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
        # RFC 6749 §5.2: an invalid grant is a 400, whatever made it invalid.
        body = assert_problem(r, 400)
        assert body["error"] == "invalid_grant"
        assert body["type"].endswith("/oauth/invalid_grant")

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
    assert assert_problem(r, 400)["error"] == "invalid_grant"
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


def test_token_errors_have_rfc_6749_statuses(api: Api, client: TestClient) -> None:
    """RFC 6749 §5.2, as API.md states: 400 for every error but bad client credentials."""
    account = api.register()
    cases: list[tuple[dict[str, str], int, str]] = [
        ({"grant_type": "password", "username": account.email, "password": "wrong one!"}, 400,
         "invalid_grant"),
        ({"grant_type": "password", "username": "nobody@example.org", "password": "x" * 12}, 400,
         "invalid_grant"),
        ({"grant_type": "refresh_token", "refresh_token": "spent-or-unknown"}, 400,
         "invalid_grant"),
        ({"grant_type": "client_credentials", "client_id": str(uuid.uuid4()),
          "client_secret": "nope"}, 401, "invalid_client"),
        ({"grant_type": "implicit"}, 400, "unsupported_grant_type"),
        ({"grant_type": "password", "username": account.email}, 400, "invalid_request"),
        ({"grant_type": "password", "username": account.email, "password": PASSWORD,
          "scope": "diary:read"}, 400, "invalid_scope"),
    ]  # fmt: skip
    for form, status, error in cases:
        body = assert_problem(client.post(TOKEN_URL, data=form), status)
        assert body["error"] == error, (form, body)
        assert body["type"].endswith(f"/oauth/{error}")
    partner = api.partner(("diary:read",))
    r = client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": partner.client_id,
            "client_secret": partner.client_secret,
            "scope": "diary:write",
        },
    )
    assert assert_problem(r, 400)["error"] == "invalid_scope"
    # A 401 for the client names its scheme; a 400 is no challenge.
    bad_client = client.post(TOKEN_URL, data=cases[3][0])
    assert bad_client.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{{"grant_type": "password", "username": "{email}", "password": "wrong one!"}}',
         "application/json"),
        ("grant_type=password&username={email}&password=wrong+one%21", "text/plain"),
        ("grant_type=password&username={email}&password=wrong+one%21", None),
    ],
)  # fmt: skip
def test_a_token_request_that_is_not_a_form_is_told_to_send_one(
    api: Api, client: TestClient, content: str, content_type: str | None
) -> None:
    account = api.register()
    headers = {"Content-Type": content_type} if content_type else {}
    for _ in range(3):
        r = client.post(TOKEN_URL, content=content.format(email=account.email), headers=headers)
        body = assert_problem(r, 400)
        assert body["error"] == "invalid_request"
        assert "application/x-www-form-urlencoded" in body["detail"]
    # Nothing was counted against the account: after four wrong passwords (one short of the
    # back-off) the right one still signs in at once.
    for _ in range(4):
        wrong = {"grant_type": "password", "username": account.email, "password": "wrong one!"}
        assert assert_problem(client.post(TOKEN_URL, data=wrong), 400)["error"] == "invalid_grant"
    assert api.token(account.email)["access_token"]


_MAX_DATETIME = 253_402_300_799  # 9999-12-31T23:59:59Z


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", 10**20),  # the finding: past the platform limit, a 500 in the decoder
        ("exp", _MAX_DATETIME + 1),
        ("exp", 1e300),
        ("exp", float("inf")),
        ("exp", -1),
        ("exp", "1900000000"),
        ("exp", True),
        ("exp", [1]),
        ("exp", 1.5e9),
        ("iat", 10**20),
        ("iat", -(10**20)),
        ("iat", float("inf")),
        ("iat", "yesterday"),
        ("iat", "+60 minutes"),
        ("nbf", 10**20),
        ("nbf", -(10**20)),
        ("nbf", "now"),
        ("nbf", "+60 minutes"),
    ],
)
def test_500s_jwt_claims_out_of_range_are_401(
    api: Api, client: TestClient, ctx: AppContext, claim: str, value: object
) -> None:
    account = api.register()
    sid = jwt.get_unverified_claims(account.access_token)["sid"]
    if value == "+60 minutes":  # valid type, but issued / valid only in an hour
        value = int(time.time()) + 3600
    claims = _claims(ctx, account.user_id, sid=sid, **{claim: value})
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    # The same claims with sane times pass, so the 401 is about the claim.
    fine = jwt.encode(_claims(ctx, account.user_id, sid=sid), TEST_SECRET, algorithm="HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {fine}"}).status_code == 200


def test_smaller_revoke_ends_a_client_credentials_token(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    partner = api.partner(("diary:read",))
    patient = api.register()
    api.grant(patient, to=partner)
    other = api.client_token(partner.client_id, partner.client_secret)["access_token"]
    assert client.get("/api/v1/patients", headers=partner.headers).status_code == 200

    r = client.post("/api/v1/auth/revoke", data={"token": partner.access_token})
    assert r.status_code == 200
    r = client.get("/api/v1/patients", headers=partner.headers)
    assert_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    from app.models import RevokedToken  # (here, so that the finding's test runs on old code)

    # Only that token: the partner's other token, and a new one, still work.
    other_headers = {"Authorization": f"Bearer {other}"}
    assert client.get("/api/v1/patients", headers=other_headers).status_code == 200
    # Revoking again is fine (RFC 7009), and so is a token that expired meanwhile.
    assert client.post("/api/v1/auth/revoke", data={"token": partner.access_token}).status_code == (
        200
    )
    # The entry lasts as long as the token would have: then it is purged on the way.
    with ctx.db.session() as session:
        entries = session.execute(select(RevokedToken.jti, RevokedToken.expires_at)).all()
    claims = jwt.get_unverified_claims(partner.access_token)
    assert [(jti, int(at.timestamp())) for jti, at in entries] == [(claims["jti"], claims["exp"])]
    with ctx.db.session(write=True) as session:
        session.execute(
            update(RevokedToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    assert client.post("/api/v1/auth/revoke", data={"token": other}).status_code == 200
    with ctx.db.session() as session:
        assert session.scalars(select(RevokedToken.jti)).all() == [
            jwt.get_unverified_claims(other)["jti"]
        ]
    assert_problem(client.get("/api/v1/patients", headers=other_headers), 401)
