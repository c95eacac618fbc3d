"""DELETE /me: the account and everything of the person goes; old tokens stop working."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import Base
from app.dbmigrate import upgrade
from app.main import create_app
from app.models import AuditEntry, Grant, Patient
from app.services.care import audit_integrity
from app.services.context import AppContext
from app.services.identity.erasure import ERASED_NAME
from tests.conftest import make_settings
from tests.diary import episode, episode_url, new_id
from tests.exports_seed import PATIENT_NAME, seed_rich_patient
from tests.helpers import Account, Api, assert_problem

ME = "/api/v1/me"


def erase(client: TestClient, who: Account, password: str) -> Any:
    return client.request("DELETE", ME, json={"password": password}, headers=who.headers)


def rows_mentioning(ctx: AppContext, needles: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table in which any column holds (or contains) one of the needles."""
    found: dict[str, list[dict[str, Any]]] = {}
    with ctx.db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                texts = [str(v) for v in row.values() if v is not None]
                texts += [v.hex for v in row.values() if isinstance(v, uuid.UUID)]
                if any(needle.lower() in text.lower() for text in texts for needle in needles):
                    found.setdefault(table.name, []).append(dict(row))
    return found


def row_counts(ctx: AppContext) -> dict[str, int]:
    with ctx.db.session() as session:
        return {
            t.name: int(session.scalar(select(func.count()).select_from(t)) or 0)
            for t in Base.metadata.sorted_tables
        }


def test_erasure_leaves_no_row_of_the_patient_behind(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    alice = api.register(name=PATIENT_NAME)
    seed_rich_patient(client, alice)
    clinician = api.staff("clinician")
    api.grant(alice, to=clinician, access="write")
    partner = api.partner()
    api.grant(alice, to=partner)
    client.get(f"/api/v1/patients/{alice.patient_id}", headers=clinician.headers)
    keyed = {**alice.headers, "Idempotency-Key": "k-1"}
    assert client.post(episode_url(), json=episode(), headers=keyed).status_code == 201
    second_sign_in = api.token(alice.email)
    bob = api.register()
    client.put(episode_url(eid=new_id()), json=episode(), headers=bob.headers)
    needles = [str(alice.user_id), str(alice.patient_id), alice.email, PATIENT_NAME]
    assert {"users", "patients", "episodes", "grants", "auth_sessions"} <= set(
        rows_mentioning(ctx, needles)
    )

    # A wrong password deletes nothing (it only counts against the sign-in limit).
    before = row_counts(ctx)
    assert_problem(erase(client, alice, "not my password"), 401)
    after = row_counts(ctx)
    counters = ("audit_log", "rate_limits")
    assert {k: v for k, v in after.items() if k not in counters} == {
        k: v for k, v in before.items() if k not in counters
    }
    assert after["rate_limits"] > before["rate_limits"]

    r = erase(client, alice, alice.password)
    assert r.status_code == 204, r.text

    left = rows_mentioning(ctx, needles)
    # The one documented exception: the patient's own audit chain (who accessed the record).
    assert set(left) <= {"audit_log"}
    assert {row["patient_id"] for row in left.get("audit_log", [])} == {alice.patient_id}
    with ctx.db.session() as session:
        chain = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.patient_id == alice.patient_id)
            .order_by(AuditEntry.seq)
        ).all()
        assert session.get(Patient, alice.patient_id) is None
        assert audit_integrity.verify(session, ctx.settings.audit_signing_key()).ok
    last = chain[-1]
    assert (last.action, last.actor_name, last.resource) == ("erase", ERASED_NAME, "/me")
    assert last.actor_id not in (alice.user_id, alice.patient_id)
    assert {e.actor_id for e in chain} >= {clinician.user_id}  # the trail of access survives

    # Old credentials are dead.
    assert_problem(client.get(ME, headers=alice.headers), 401)
    assert_problem(
        client.get(ME, headers={"Authorization": f"Bearer {second_sign_in['access_token']}"}), 401
    )
    r = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": alice.refresh_token},
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
    r = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": alice.email, "password": alice.password},
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
    # Grantees lose the patient; others are untouched; the address can be used again.
    assert_problem(
        client.get(f"/api/v1/patients/{alice.patient_id}", headers=clinician.headers), 404
    )
    assert len(client.get(episode_url(), headers=bob.headers).json()["items"]) == 1
    r = client.post(
        "/api/v1/auth/register",
        json={
            "email": alice.email,
            "password": alice.password,
            "display_name": "New",
            "timezone": "UTC",
        },
    )
    assert r.status_code == 202
    assert api.token(alice.email, alice.password)["access_token"]


def test_a_clinician_can_erase_their_account(api: Api, client: TestClient, ctx: AppContext) -> None:
    alice = api.register()
    clinician = api.staff("clinician")
    api.grant(alice, to=clinician, access="write")
    keyed = {**clinician.headers, "Idempotency-Key": "c-1"}
    assert (
        client.post(episode_url(alice.patient_id), json=episode(), headers=keyed).status_code == 201
    )
    assert_problem(erase(client, clinician, "wrong password!"), 401)
    assert erase(client, clinician, clinician.password).status_code == 204
    assert_problem(client.get(ME, headers=clinician.headers), 401)
    left = rows_mentioning(ctx, [str(clinician.user_id), clinician.email])
    # What stays: the audit trail of what they did in the patient's record (a legal record).
    assert set(left) <= {"audit_log"}
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Grant)) == 0
    # The patient's diary, including the episode the clinician wrote, is untouched.
    assert len(client.get(episode_url(), headers=alice.headers).json()["items"]) == 1


def test_partners_and_bad_bodies(api: Api, client: TestClient) -> None:
    partner = api.partner()
    assert_problem(
        client.request("DELETE", ME, json={"password": "x"}, headers=partner.headers), 403
    )
    alice = api.register()
    assert_problem(client.request("DELETE", ME, json={}, headers=alice.headers), 422)
    assert_problem(
        client.request("DELETE", ME, json={"password": "x", "also": 1}, headers=alice.headers), 422
    )
    assert_problem(client.request("DELETE", ME, json={"password": alice.password}), 401)
    huge = {"password": "x" * (2 * 1024 * 1024)}
    assert_problem(client.request("DELETE", ME, json=huge, headers=alice.headers), 413)
    form = {**alice.headers, "Content-Type": "text/plain"}
    assert_problem(client.request("DELETE", ME, content=b"password", headers=form), 415)
    assert client.get(ME, headers=alice.headers).status_code == 200


def test_password_guesses_through_erasure_share_the_sign_in_limit(
    api: Api, client: TestClient
) -> None:
    alice = api.register()
    for _ in range(5):
        assert_problem(erase(client, alice, "wrong password!"), 401)
    # Locked out: even the right password is refused, and nothing is deleted.
    r = erase(client, alice, alice.password)
    assert_problem(r, 429)
    assert int(r.headers["retry-after"]) > 0
    assert client.get(ME, headers=alice.headers).status_code == 200


def test_erased_text_lingers_in_neither_the_sqlite_file_nor_its_wal(tmp_path: Path) -> None:
    """Finding 6 (erased text in the SQLite WAL): after an erasure the patient's words are in
    no byte of the database file or its write-ahead log, while the server is still running."""
    path = tmp_path / "erasure.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    secret = f"Quokka-{uuid.uuid4().hex}"

    def stored_bytes() -> bytes:
        files = [path, Path(f"{path}-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())

    with TestClient(create_app(make_settings(url))) as http:
        api = Api(http, http.app.state.ctx)  # type: ignore[attr-defined]
        alice = api.register()
        for day in range(1, 6):
            body = episode(started_at=f"2026-03-0{day}T08:15:00+01:00", note=f"{secret} {day}")
            r = http.put(episode_url(eid=new_id()), json=body, headers=alice.headers)
            assert r.status_code == 201, r.text
        # Some of it in the database file itself (an earlier checkpoint), some in the log.
        with sqlite3.connect(path) as raw:
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)")
        assert secret.encode() in path.read_bytes()
        r = http.put(episode_url(eid=new_id()), json=episode(note=secret), headers=alice.headers)
        assert r.status_code == 201, r.text
        assert secret.encode() in Path(f"{path}-wal").read_bytes()
        assert erase(http, alice, alice.password).status_code == 204
        assert secret.encode() not in stored_bytes()
        # Explicit, not left to how SQLite was built (Debian's has it on, others off).
        with http.app.state.ctx.db.engine.connect() as conn:  # type: ignore[attr-defined]
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        # The server works on: the next patient's writes land as usual.
        bob = api.register()
        r = http.put(episode_url(eid=new_id()), json=episode(), headers=bob.headers)
        assert r.status_code == 201
