"""Small helpers to drive the API like a real client would."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from app.services.context import AppContext
from app.services.identity.accounts import create_user_cli

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@dataclass
class Account:
    email: str
    password: str
    user_id: uuid.UUID
    patient_id: uuid.UUID | None
    access_token: str
    refresh_token: str | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass
class Partner:
    client_id: str
    client_secret: str
    name: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is RFC 9457 problem+json with the given status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    for key in ("type", "title", "status", "detail"):
        assert key in body, body
    assert body["status"] == status
    return body


def patch_current(client: TestClient, url: str, *, json: Any, headers: dict[str, str]) -> Any:
    """PATCH as a careful client does (PATCH requires If-Match): read the record, then send its
    ETag back. For tests whose subject is the change itself, not the precondition (those send
    If-Match themselves)."""
    if any(name.lower() == "if-match" for name in headers):
        return client.patch(url, json=json, headers=headers)  # the caller's own precondition
    etag = client.get(url, headers=headers).headers.get("etag")
    # A record the caller cannot read (gone, someone else's): "*" (any version), so the test sees
    # the status the write itself gets.
    return client.patch(url, json=json, headers={**headers, "If-Match": etag or "*"})


class Api:
    def __init__(self, client: TestClient, ctx: AppContext) -> None:
        self.client = client
        self.ctx = ctx

    def unique_email(self, prefix: str = "user") -> str:
        return f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:6]}@example.org"

    def token(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        r = self.client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": email, "password": password},
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def register(self, *, timezone: str = "Europe/Berlin", name: str = "Test Patient") -> Account:
        email = self.unique_email("patient")
        r = self.client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": name, "timezone": timezone},
        )
        assert r.status_code == 202, r.text
        # Tests run with PAINDIARY_EMAIL_VERIFICATION off (the default outside production): the
        # new account signs in at once; who it is comes from /me (registration reveals nothing).
        tokens = self.token(email)
        body = self.client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).json()
        return Account(
            email=email,
            password=PASSWORD,
            user_id=uuid.UUID(body["id"]),
            patient_id=uuid.UUID(body["patient_id"]),
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    def staff(self, role: str = "clinician") -> Account:
        email = self.unique_email(role)
        with self.ctx.db.session(write=True) as session:
            user = create_user_cli(
                session, self.ctx, email=email, password=PASSWORD, role=role, timezone="UTC"
            )
        tokens = self.token(email)
        return Account(
            email=email,
            password=PASSWORD,
            user_id=user.id,
            patient_id=None,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    def staff_named(self, role: str, name: str) -> Account:
        """A staff account with a display name (create-user names accounts after the e-mail)."""
        admin = self.staff("admin")
        email = self.unique_email(role)
        r = self.client.post(
            "/api/v1/admin/users",
            json={"email": email, "password": PASSWORD, "display_name": name, "role": role},
            headers=admin.headers,
        )
        assert r.status_code == 201, r.text
        tokens = self.token(email)
        return Account(
            email=email,
            password=PASSWORD,
            user_id=uuid.UUID(r.json()["id"]),
            patient_id=None,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    def grant(
        self,
        owner: Account,
        *,
        to: Account | Partner,
        access: str = "read",
        expires_at: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"access": access}
        if isinstance(to, Partner):
            body["client_id"] = to.client_id
        else:
            body["grantee_email"] = to.email
        if expires_at is not None:
            body["expires_at"] = expires_at
        r = self.client.post("/api/v1/patients/me/grants", json=body, headers=owner.headers)
        assert r.status_code == 201, r.text
        grant: dict[str, Any] = r.json()
        return grant

    def client_token(self, client_id: str, secret: str, scope: str | None = None) -> dict[str, Any]:
        data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        if scope is not None:
            data["scope"] = scope
        r = self.client.post("/api/v1/auth/token", data=data)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def partner(
        self,
        scopes: tuple[str, ...] = ("diary:read", "diary:write", "reports:read"),
        *,
        name: str = "Clinic bridge",
    ) -> Partner:
        """A registered partner client holding a token with all of ``scopes``."""
        admin = self.staff("admin")
        r = self.client.post(
            "/api/v1/admin/clients",
            json={"name": name, "scopes": list(scopes)},
            headers=admin.headers,
        )
        assert r.status_code == 201, r.text
        body = r.json()
        token = self.client_token(body["client_id"], body["client_secret"])
        return Partner(
            client_id=body["client_id"],
            client_secret=body["client_secret"],
            name=name,
            access_token=token["access_token"],
        )

    def partner_token(self, partner: Partner, scope: str) -> dict[str, str]:
        """Headers for a token of ``partner`` narrowed to ``scope``."""
        token = self.client_token(partner.client_id, partner.client_secret, scope)
        return {"Authorization": f"Bearer {token['access_token']}"}
