"""Accounts and tokens through the real API (the way the app and clinicians get them)."""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass

import httpx

from bench.server import PAINDIARY, Server

PASSWORD = "bench-password-0123"
API = "/api/v1"


@dataclass(frozen=True)
class Account:
    email: str
    user_id: uuid.UUID
    patient_id: uuid.UUID | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _ok(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response


def sign_in(http: httpx.Client, email: str) -> str:
    form = {"grant_type": "password", "username": email, "password": PASSWORD}
    token: str = _ok(http.post(API + "/auth/token", data=form)).json()["access_token"]
    return token


def register_patient(http: httpx.Client, name: str, timezone: str = "Europe/Berlin") -> Account:
    email = f"{name}-{uuid.uuid4().hex[:8]}@bench.example"
    body = {"email": email, "password": PASSWORD, "display_name": name, "timezone": timezone}
    _ok(http.post(API + "/auth/register", json=body))  # 202, the same for every address
    token = sign_in(http, email)  # the bench server runs with verification off (env=test)
    user = _ok(http.get(API + "/me", headers={"Authorization": f"Bearer {token}"})).json()
    return Account(email, uuid.UUID(user["id"]), uuid.UUID(user["patient_id"]), token)


def create_admin(server: Server) -> Account:
    """The first admin comes from the CLI, as in production."""
    email = f"admin-{uuid.uuid4().hex[:8]}@bench.example"
    subprocess.run(
        [str(PAINDIARY), "create-user", email, "--role", "admin", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=server.env,
        check=True,
        capture_output=True,
    )
    with httpx.Client(base_url=server.base_url) as http:
        token = sign_in(http, email)
        me = _ok(http.get(API + "/me", headers={"Authorization": f"Bearer {token}"})).json()
    return Account(email, uuid.UUID(me["id"]), None, token)


def create_clinician(http: httpx.Client, admin: Account, name: str) -> Account:
    email = f"{name}-{uuid.uuid4().hex[:8]}@bench.example"
    body = {"email": email, "password": PASSWORD, "display_name": name, "role": "clinician"}
    user = _ok(http.post(API + "/admin/users", json=body, headers=admin.headers)).json()
    return Account(email, uuid.UUID(user["id"]), None, sign_in(http, email))


def grant(http: httpx.Client, patient: Account, grantee: Account, access: str = "read") -> None:
    body = {"grantee_email": grantee.email, "access": access}
    _ok(http.post(f"{API}/patients/me/grants", json=body, headers=patient.headers))


def episode_body(started_at: str = "2026-03-01T08:15:00+01:00") -> dict[str, object]:
    return {
        "started_at": started_at,
        "duration_seconds": 45,
        "attack_count": 2,
        "intensity": 7,
        "side": "right",
        "branches": ["V2"],
        "qualities": ["electric"],
        "triggers": ["chewing", "talking"],
    }
