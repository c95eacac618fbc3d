"""Small helpers to drive the API like a real client would."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from app.services.accounts import create_user_cli
from app.services.context import AppContext

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


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is RFC 9457 problem+json with the given status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    for key in ("type", "title", "status", "detail"):
        assert key in body, body
    assert body["status"] == status
    return body


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
        assert r.status_code == 201, r.text
        body = r.json()
        tokens = self.token(email)
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
