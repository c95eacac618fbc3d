"""Against the real server (``paindiary serve``) over real sockets: an attacker on another
loopback address cannot lock the victim out, and X-Forwarded-For counts only from a configured
trusted proxy. Engine: SQLite (a file of its own); what is tested is about addresses, not SQL.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import PASSWORD
from tests.servers import Served, serve

TOKEN_URL = "/api/v1/auth/token"
WRONG = "wrong password!"


def _client(server: Served, local_address: str | None = None) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    return httpx.Client(base_url=server.base_url, transport=transport, timeout=30)


def _login(
    http: httpx.Client, email: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return http.post(
        TOKEN_URL,
        data={"grant_type": "password", "username": email, "password": password},
        headers=headers,
    )


def test_lockout_by_strangers_an_attacker_on_another_address_cannot_stop_the_victim(
    tmp_path: Path,
) -> None:
    email = "dr.victim@example.org"
    with serve(tmp_path) as server:
        # A clinician, made by the operator as in production.
        command = ["create-user", email, "--role", "clinician", "--password-stdin"]
        created = subprocess.run(
            [sys.executable, "-m", "app.cli", *command],
            input=PASSWORD + "\n",
            text=True,
            env=server.env,
            cwd=tmp_path,
            capture_output=True,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        with _client(server) as victim:
            assert _login(victim, email, PASSWORD).status_code == 200

        with _client(server, local_address="127.0.0.2") as attacker:
            answers = [_login(attacker, email, WRONG) for _ in range(50)]
        statuses = [r.status_code for r in answers]
        assert {r.json()["error"] for r in answers[:5]} == {"invalid_grant"}
        assert set(statuses[5:]) <= {400, 429}
        assert 429 in statuses
        assert all(
            0 < int(r.headers["retry-after"]) <= 900 for r in answers if r.status_code == 429
        )
        # The attacker is still held back, the victim (127.0.0.1) signs in at once.
        with _client(server, local_address="127.0.0.2") as attacker:
            assert _login(attacker, email, PASSWORD).status_code == 429
        with _client(server, local_address="127.0.0.1") as victim:
            assert _login(victim, email, PASSWORD).status_code == 200
        # make run tells where mail goes (here: files under the working directory's var/).
        assert f"mail goes to .eml files in {tmp_path / 'var' / 'mail'}" in server.stderr_so_far()


def _spray(http: httpx.Client, forwarded_prefix: str) -> list[int]:
    """Six wrong passwords for six accounts, each 'forwarded for' another address."""
    return [
        _login(
            http,
            f"nobody{n}@example.org",
            WRONG,
            headers={"X-Forwarded-For": f"{forwarded_prefix}.{n}"},
        ).status_code
        for n in range(6)
    ]


@pytest.mark.parametrize("trusted", [False, True], ids=["no-proxy-configured", "proxy-trusted"])
def test_smaller_x_forwarded_for_counts_only_from_a_trusted_proxy(
    tmp_path: Path, trusted: bool
) -> None:
    """Finding 6: X-Forwarded-For was trusted from 127.0.0.1 by default, so a local proxy
    passing it through let anyone rotate addresses past the limits."""
    env = {"PAINDIARY_LOGIN_FREE_FAILURES_PER_IP": "3"}
    if trusted:
        env["PAINDIARY_TRUSTED_PROXIES"] = "127.0.0.1"
    with serve(tmp_path, env) as server:
        with _client(server, local_address="127.0.0.1") as http:
            statuses = _spray(http, "203.0.113")
        if trusted:
            # Each forwarded address has a count of its own.
            assert statuses == [400] * 6
        else:
            # The header is ignored: all six come from 127.0.0.1, throttled after three.
            assert statuses == [400] * 3 + [429] * 3
        # A peer that is not a trusted proxy never chooses its address, either way.
        with _client(server, local_address="127.0.0.2") as http:
            assert _spray(http, "198.51.100") == [400] * 3 + [429] * 3
        expected = "127.0.0.1" if trusted else "none"
        assert f"X-Forwarded-For trusted from: {expected}" in server.stderr_so_far()
