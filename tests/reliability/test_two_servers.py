"""Two ``paindiary serve`` processes on different ports and one PostgreSQL database behave as one
service: whatever a client does on one server, the other knows.

- sign-in throttling counts the failures of both servers together;
- an Idempotency-Key sent to one server is honoured by the other;
- a refresh token rotated on one server is spent on the other (reuse ends the sign-in on both);
- writes spread over both servers all appear in the change feed, in the same order on both.

PostgreSQL only (TEST_DATABASE_URL); each run gets a throwaway database with a uuid name.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db import normalise_url
from app.dbmigrate import upgrade
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET
from tests.helpers import PASSWORD
from tests.servers import _wait_until_up, free_port

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL (TEST_DATABASE_URL)"
)

API = "/api/v1"
TOKEN = API + "/auth/token"
SERVE = [sys.executable, "-m", "app.cli", "serve", "--log-level", "warning", "--no-access-log"]
FREE_FAILURES = 4  # per e-mail and address pair, then back-off (429)


@dataclass(frozen=True)
class Service:
    a: httpx.Client
    b: httpx.Client

    @property
    def both(self) -> tuple[httpx.Client, httpx.Client]:
        return self.a, self.b


def _admin(url: str) -> Any:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    server_url = normalise_url(os.environ["TEST_DATABASE_URL"])
    name = f"test_two_servers_{uuid.uuid4().hex[:12]}"
    db_url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    workdir = tmp_path_factory.mktemp("two-servers")
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PROMETHEUS_", "PAINDIARY_", "FORWARDED_ALLOW_IPS"))
    }
    # What must be the same on every server (README, "Running more than one server").
    environ.update(
        PAINDIARY_ENV="test",
        PAINDIARY_DATABASE_URL=db_url,
        PAINDIARY_SECRET_KEY=TEST_SECRET,
        PAINDIARY_AUDIT_KEY=TEST_AUDIT_KEY,
        PAINDIARY_ARGON2_TIME_COST="1",
        PAINDIARY_ARGON2_MEMORY_KIB="64",
        PAINDIARY_LOGIN_FREE_FAILURES_PER_PAIR=str(FREE_FAILURES),
        PAINDIARY_MAIL_DIR=str(workdir / "mail"),
    )
    processes: list[subprocess.Popen[bytes]] = []
    clients: list[httpx.Client] = []
    try:
        upgrade(db_url)
        for index in range(2):
            port = free_port()
            with (workdir / f"server{index}.err").open("wb") as errors:
                processes.append(
                    subprocess.Popen(
                        [*SERVE, "--port", str(port)],
                        env=environ,
                        cwd=workdir,
                        stderr=errors,
                    )
                )
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_up(base_url, processes[-1])
            clients.append(httpx.Client(base_url=base_url, timeout=30))
        yield Service(*clients)
    finally:
        for client in clients:
            client.close()
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _register(http: httpx.Client) -> dict[str, Any]:
    email = f"two-{uuid.uuid4().hex[:10]}@example.org"
    body = {"email": email, "password": PASSWORD, "display_name": "Two", "timezone": "UTC"}
    assert http.post(API + "/auth/register", json=body).status_code == 202
    return {"email": email, **_sign_in(http, email)}


def _sign_in(http: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    form = {"grant_type": "password", "username": email, "password": password}
    response = http.post(TOKEN, data=form)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _patient_id(http: httpx.Client, tokens: dict[str, Any]) -> str:
    me = http.get(API + "/me", headers=_bearer(tokens))
    assert me.status_code == 200, me.text
    return str(me.json()["patient_id"])


def _episode(intensity: int = 6) -> dict[str, Any]:
    return {
        "started_at": "2026-03-01T08:15:00+01:00",
        "duration_seconds": 30,
        "attack_count": 1,
        "intensity": intensity,
        "side": "right",
        "branches": ["V2"],
        "qualities": ["electric"],
        "triggers": ["chewing"],
    }


def test_sign_in_throttling_is_counted_across_both_servers(service: Service) -> None:
    account = _register(service.a)
    wrong = {"grant_type": "password", "username": account["email"], "password": "wrong-guess-1"}
    statuses = [
        service.both[n % 2].post(TOKEN, data=wrong).status_code for n in range(FREE_FAILURES)
    ]
    assert statuses == [400] * FREE_FAILURES
    # The free failures are used up on the two servers together: both now make the guesser wait.
    for http in service.both:
        blocked = http.post(TOKEN, data=wrong)
        assert blocked.status_code == 429, blocked.text
        assert int(blocked.headers["Retry-After"]) >= 1


def test_an_idempotency_key_is_honoured_by_the_other_server(service: Service) -> None:
    tokens = _register(service.a)
    pid = _patient_id(service.a, tokens)
    url = f"{API}/patients/{pid}/episodes"
    key = {"Idempotency-Key": uuid.uuid4().hex, **_bearer(tokens)}
    first = service.a.post(url, json=_episode(), headers=key)
    assert first.status_code == 201, first.text
    retry = service.b.post(url, json=_episode(), headers=key)
    assert retry.status_code == 201
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json() == first.json()
    other_body = service.b.post(url, json=_episode(intensity=9), headers=key)
    assert other_body.status_code == 422
    listed = service.b.get(url, headers=_bearer(tokens)).json()["items"]
    assert [e["id"] for e in listed] == [first.json()["id"]]


def test_refresh_tokens_rotate_across_servers_and_reuse_ends_the_sign_in(
    service: Service,
) -> None:
    tokens = _register(service.a)
    first = tokens["refresh_token"]
    rotated = service.b.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": first})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert service.a.get(API + "/me", headers=_bearer(second)).status_code == 200
    # The first token was spent on server B: server A treats it as stolen and ends the sign-in.
    reuse = service.a.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": first})
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    after = service.b.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    )
    assert after.status_code == 400
    for http in service.both:
        assert http.get(API + "/me", headers=_bearer(second)).status_code == 401


def test_writes_spread_over_both_servers_all_reach_the_change_feed_in_one_order(
    service: Service,
) -> None:
    tokens = _register(service.a)
    pid = _patient_id(service.a, tokens)
    headers = _bearer(tokens)
    episodes = f"{API}/patients/{pid}/episodes"
    ids = [str(uuid.uuid4()) for _ in range(40)]

    def put(index: int) -> int:
        http = service.both[index % 2]
        return http.put(f"{episodes}/{ids[index]}", json=_episode(), headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(put, range(len(ids)))) == [201] * len(ids)
    # Edits and deletions, also spread: the feed reports the newest state of each record.
    for index in range(0, 10):
        http = service.both[index % 2]
        edited = http.put(f"{episodes}/{ids[index]}", json=_episode(intensity=2), headers=headers)
        assert edited.status_code == 200
        deleted = service.both[1 - index % 2].delete(
            f"{episodes}/{ids[index + 10]}", headers=headers
        )
        assert deleted.status_code == 204

    def full_feed(start: int) -> list[tuple[str, int, bool]]:
        """Every change, paging with the cursor and alternating servers page by page."""
        seen: list[tuple[str, int, bool]] = []
        since: str | None = None
        page_number = start
        while True:
            params: dict[str, Any] = {"limit": 7} | ({"since": since} if since else {})
            http = service.both[page_number % 2]
            page = http.get(f"{API}/patients/{pid}/changes", params=params, headers=headers)
            assert page.status_code == 200, page.text
            body = page.json()
            seen += [(c["id"], c["version"], c["deleted"]) for c in body["changes"]]
            since, page_number = body["next_cursor"], page_number + 1
            if not body["has_more"]:
                return seen

    from_a, from_b = full_feed(0), full_feed(1)
    assert from_a == from_b
    assert sorted(c[0] for c in from_a) == sorted(ids)
    states = {c[0]: (c[1], c[2]) for c in from_a}
    assert all(states[i] == (2, False) for i in ids[:10])
    assert all(states[i] == (2, True) for i in ids[10:20])
    assert all(states[i] == (1, False) for i in ids[20:])
