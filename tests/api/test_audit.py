"""The audit trail: every look leaves a trace the patient can read, and tampering shows."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.exc import IntegrityError

from app import cli
from app.deps import route_template
from app.models import AuditEntry, AuditSeal, Patient
from app.services.care import audit, audit_integrity
from app.services.context import AppContext
from app.services.identity.actors import Actor
from app.settings import get_settings
from tests.conftest import TEST_AUDIT_KEY
from tests.helpers import Account, Api, assert_problem


def _log(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    r = client.get("/api/v1/patients/me/access-log?limit=500", headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


@pytest.fixture
def verify_cli(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[object]:
    """Run ``paindiary audit verify`` against the test database: (exit code, output)."""
    monkeypatch.setenv("PAINDIARY_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("PAINDIARY_AUDIT_KEY", TEST_AUDIT_KEY)
    get_settings.cache_clear()

    def run(*args: str) -> tuple[int, str]:
        code = cli.main(["audit", "verify", *args])
        return code, capsys.readouterr().out

    yield run
    get_settings.cache_clear()


def test_a_clinician_read_shows_up_in_the_patients_access_log(api: Api, client: TestClient) -> None:
    patient = api.register()
    doctor = api.staff_named("clinician", "Dr Lee")
    api.grant(patient, to=doctor, access="read")
    r = client.get(
        f"/api/v1/patients/{patient.patient_id}",
        headers={**doctor.headers, "X-Request-ID": "req-42"},
    )
    assert r.status_code == 200
    entries = [e for e in _log(client, patient.headers) if e["actor_id"] == str(doctor.user_id)]
    assert entries == [
        {
            "at": entries[0]["at"],
            "actor_id": str(doctor.user_id),
            "actor_role": "clinician",
            "actor_name": "Dr Lee",
            "action": "read",
            "resource": "/patients/{pid}",
            "resource_id": None,
            "outcome": "success",
        }
    ]
    assert str(entries[0]["at"]).endswith("Z")


def test_denied_attempts_and_failed_writes_are_logged(api: Api, client: TestClient) -> None:
    patient, nosy_patient = api.register(), api.register(name="Mallory")
    stranger = api.staff_named("clinician", "Dr Nobody")
    url = f"/api/v1/patients/{patient.patient_id}"
    assert_problem(client.get(url, headers=stranger.headers), 404)
    v1 = {"If-Match": '"1"'}
    assert_problem(
        client.patch(url, json={"weight_kg": 1}, headers={**nosy_patient.headers, **v1}), 404
    )
    # The owner's own failed writes (stale If-Match, invalid body) are attempts too.
    r = client.patch(url, json={"weight_kg": 70}, headers={**patient.headers, "If-Match": '"9"'})
    assert_problem(r, 412)
    r = client.patch(url, json={"weight_kg": -1}, headers={**patient.headers, **v1})
    assert_problem(r, 422)
    r = client.patch(url, json={"weight_kg": 70}, headers={**patient.headers, **v1})
    assert r.status_code == 200

    log = _log(client, patient.headers)
    summary = [(e["actor_name"], e["action"], e["outcome"]) for e in reversed(log)]
    assert summary == [
        ("Dr Nobody", "read", "denied"),
        ("Another patient", "update", "denied"),  # who, not which other patient
        ("Test Patient", "update", "failed"),
        ("Test Patient", "update", "failed"),
        ("Test Patient", "update", "success"),
        ("Test Patient", "read", "success"),  # this very read of the log
    ]
    assert log[0]["resource"] == "/patients/{pid}/access-log"


def test_access_log_is_the_patients_alone_and_pages_newest_first(
    api: Api, client: TestClient
) -> None:
    patient, doctor, other = api.register(), api.staff(), api.register()
    api.grant(patient, to=doctor, access="write")
    for _ in range(3):
        client.get(f"/api/v1/patients/{patient.patient_id}", headers=doctor.headers)
    assert_problem(
        client.get(f"/api/v1/patients/{patient.patient_id}/access-log", headers=doctor.headers),
        403,
    )
    assert_problem(
        client.get(f"/api/v1/patients/{patient.patient_id}/access-log", headers=other.headers),
        404,
    )
    first = client.get("/api/v1/patients/me/access-log?limit=2", headers=patient.headers).json()
    second = client.get(
        "/api/v1/patients/me/access-log",
        params={"limit": 2, "cursor": first["next_cursor"]},
        headers=patient.headers,
    ).json()
    times = [e["at"] for e in first["items"] + second["items"]]
    assert times == sorted(times, reverse=True)
    log = "/patients/{pid}/access-log"
    assert [(e["resource"], e["outcome"]) for e in first["items"] + second["items"]] == [
        (log, "success"),  # the patient's first page
        (log, "denied"),  # the other patient
        (log, "denied"),  # the doctor
        ("/patients/{pid}", "success"),
    ]


def test_listing_patients_is_a_read_of_each_listed_patient(api: Api, client: TestClient) -> None:
    doctor = api.staff()
    alice, bob = api.register(), api.register()
    for p in (alice, bob):
        api.grant(p, to=doctor)
    assert len(client.get("/api/v1/patients", headers=doctor.headers).json()["items"]) == 2
    for p in (alice, bob):
        entries = [e for e in _log(client, p.headers) if e["actor_id"] == str(doctor.user_id)]
        assert [(e["resource"], e["action"]) for e in entries] == [("/patients", "read")]


def test_entries_never_hold_data_tokens_or_passwords(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    patient = api.register()
    secret_name = "Zelda-Unique-Name"
    r = client.patch(
        "/api/v1/patients/me",
        json={"display_name": secret_name},
        headers={**patient.headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200
    client.post(
        "/api/v1/patients/me/grants",
        json={"grantee_email": "probe@example.org", "access": "read"},
        headers=patient.headers,
    )
    with ctx.db.session() as session:
        rows = session.execute(select(AuditEntry)).scalars().all()
    dump = " ".join(str(vars(row)) for row in rows)
    assert len(rows) == 2
    for needle in (secret_name, "probe@example.org", patient.access_token, patient.password):
        assert needle not in dump


def test_verify_passes_then_names_the_tampered_entry(
    api: Api, client: TestClient, ctx: AppContext, verify_cli: object
) -> None:
    run = verify_cli
    assert callable(run)
    patient, doctor = api.register(), api.staff()
    api.grant(patient, to=doctor)
    for _ in range(3):
        client.get(f"/api/v1/patients/{patient.patient_id}", headers=doctor.headers)
    other = api.register()
    client.get("/api/v1/patients/me", headers=other.headers)
    code, out = run()
    assert (code, out.strip()) == (0, "ok 5 entries in 2 chains")

    _tamper(
        ctx,
        "UPDATE audit_log SET actor_name = 'Nobody' WHERE patient_id = :p AND seq = 3",
        patient.patient_id,
    )
    code, out = run()
    assert code == 1
    assert f"patient {patient.patient_id} seq 3" in out
    assert "altered" in out


def test_verify_detects_a_deleted_entry_and_a_cut_off_tail(
    api: Api, client: TestClient, ctx: AppContext, verify_cli: object
) -> None:
    run = verify_cli
    assert callable(run)
    patient = api.register()
    for _ in range(4):
        client.get("/api/v1/patients/me", headers=patient.headers)
    _tamper(ctx, "DELETE FROM audit_log WHERE patient_id = :p AND seq = 4", patient.patient_id)
    code, out = run()
    assert (code, f"patient {patient.patient_id} seq 4" in out) == (1, True)
    _tamper(ctx, "DELETE FROM audit_log WHERE patient_id = :p AND seq = 2", patient.patient_id)
    code, out = run()
    assert (code, f"patient {patient.patient_id} seq 2" in out) == (1, True)


def test_the_trail_cannot_be_changed_quietly(api: Api, client: TestClient, ctx: AppContext) -> None:
    patient = api.register()
    client.get("/api/v1/patients/me", headers=patient.headers)
    statements = ("UPDATE audit_log SET outcome = 'denied'", "DELETE FROM audit_log")
    if not ctx.db.is_sqlite:
        # PostgreSQL refuses outright (a trigger); TRUNCATE stays for operators and tests.
        for statement in statements:
            with pytest.raises(Exception, match="append-only"), ctx.db.engine.begin() as conn:
                conn.execute(text(statement))
        with ctx.db.session() as session:
            assert audit_integrity.verify(session, ctx.settings.audit_signing_key()).ok
        return
    # SQLite has no such guard: the hash chain gives the change away.
    for statement in statements:
        with ctx.db.engine.begin() as conn:
            conn.execute(text(statement))
        with ctx.db.session() as session:
            result = audit_integrity.verify(session, ctx.settings.audit_signing_key())
        assert (result.ok, result.broken_patient, result.broken_seq) == (
            False,
            patient.patient_id,
            1,
        )


def test_concurrent_appends_keep_one_unbroken_chain(api: Api, ctx: AppContext) -> None:
    patient = api.register()
    actor = audit.RequestInfo(action="read", resource="/patients/{pid}")
    assert patient.patient_id is not None
    item = audit.AuditEvent(
        patient_id=patient.patient_id,
        actor_id=uuid.uuid4(),
        actor_role="clinician",
        actor_name="Dr Thread",
        client_id=None,
        action=actor.action,
        resource=actor.resource,
        resource_id=None,
        request_id=None,
        ip=None,
        outcome="success",
    )
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                audit.record(ctx.db, [item])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with ctx.db.session() as session:
        seqs = session.scalars(
            select(AuditEntry.seq).where(AuditEntry.patient_id == patient.patient_id)
        ).all()
        result = audit_integrity.verify(session, ctx.settings.audit_signing_key())
        length = session.scalar(select(Patient.audit_seq).where(Patient.id == patient.patient_id))
    assert sorted(seqs) == list(range(1, 21))
    assert length == 20
    assert result.ok, result


def _tamper(ctx: AppContext, statement: str, patient_id: uuid.UUID | None) -> None:
    """What someone with database access could do behind the application's back."""
    pid = patient_id.hex if ctx.db.is_sqlite and patient_id else patient_id
    with ctx.db.engine.begin() as conn:
        if not ctx.db.is_sqlite:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text(statement), {"p": pid})
        if not ctx.db.is_sqlite:
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def test_update_on_a_patient_row_leaves_the_chain_head_alone(api: Api, ctx: AppContext) -> None:
    """The ORM never writes audit_seq back: a profile edit cannot rewind the chain."""
    api.register()
    with ctx.db.begin() as session:
        session.execute(update(Patient).values(audit_seq=Patient.audit_seq))
    with ctx.db.session() as session:
        assert audit_integrity.verify(session, ctx.settings.audit_signing_key()).ok


def test_route_templates_are_rebuilt_from_the_url() -> None:
    pid, rid = str(uuid.uuid4()), str(uuid.uuid4())
    assert route_template(f"/api/v1/patients/{pid}", {"pid": pid}) == "/patients/{pid}"
    assert (
        route_template(
            f"/api/v1/patients/me/series/{rid}/sessions/{rid}", {"pid": "me", "sid": rid, "id": rid}
        )
        == "/patients/{pid}/series/{sid}/sessions/{id}"
    )
    assert (
        route_template(
            "/api/v1/patients/me/checkins/2026-03-01", {"pid": "me", "date": "2026-03-01"}
        )
        == "/patients/{pid}/checkins/{date}"
    )


def test_a_write_whose_commit_fails_is_recorded_as_failed(
    api: Api, client: TestClient, ctx: AppContext
) -> None:
    """The staged entry survives a failed commit; the attempt is still on the record."""
    patient = api.register()
    with ctx.db.session(write=True) as session:
        info = audit.RequestInfo(action="update", resource="/patients/{pid}")
        assert patient.patient_id is not None
        actor = Actor(
            id=patient.user_id, role="patient", display_name="P", patient_id=patient.patient_id
        )
        audit.stage(session, audit.event_for(actor, patient.patient_id, info, "success"))
        session.add(Patient(id=patient.patient_id, display_name="dup", timezone="UTC"))
        with pytest.raises(IntegrityError):
            session.commit()
        audit.settle(ctx.db, session, failed=True)
    with ctx.db.session() as session:
        outcomes = session.scalars(
            select(AuditEntry.outcome).where(AuditEntry.patient_id == patient.patient_id)
        ).all()
    assert list(outcomes) == ["failed"]


# --- finding 3: a chain rewritten by someone with write access to the database -----------------


@pytest.fixture
def audit_cli(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[object]:
    """``paindiary audit …`` against the test database: (exit code, output)."""
    monkeypatch.setenv("PAINDIARY_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("PAINDIARY_AUDIT_KEY", TEST_AUDIT_KEY)
    get_settings.cache_clear()

    def run(*args: str) -> tuple[int, str]:
        code = cli.main(["audit", *args])
        return code, capsys.readouterr().out

    yield run
    get_settings.cache_clear()


def _reads(client: TestClient, who: Account, n: int) -> None:
    for _ in range(n):
        assert client.get("/api/v1/patients/me", headers=who.headers).status_code == 200


def _behind_the_back(ctx: AppContext) -> Iterator[Connection]:
    """A connection of someone with write access to the database (the trigger lifted)."""
    with ctx.db.engine.begin() as conn:
        if not ctx.db.is_sqlite:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        yield conn
        if not ctx.db.is_sqlite:
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def _recompute(conn: Connection, patient_id: uuid.UUID, digest: Callable[[str, Any], str]) -> None:
    """Rewrite every hash of the chain with ``digest`` (what an attacker who changed an entry
    does so that the links match again)."""
    columns = [getattr(AuditEntry, name) for name in (*audit.HASHED_FIELDS, "prev_hash", "hash")]
    rows = conn.execute(
        select(*columns).where(AuditEntry.patient_id == patient_id).order_by(AuditEntry.seq)
    ).mappings()
    prev = audit.GENESIS_HASH
    for row in list(rows):
        new = digest(prev, row)
        conn.execute(
            update(AuditEntry)
            .where(AuditEntry.patient_id == patient_id, AuditEntry.seq == row["seq"])
            .values(prev_hash=prev, hash=new)
        )
        prev = new


def test_audit_chain_rewritable_truncation_shows_against_the_checkpoint(
    api: Api, client: TestClient, ctx: AppContext, audit_cli: object, tmp_path: Path
) -> None:
    """Finding 3: deleting the newest entries and lowering ``patients.audit_seq`` leaves a
    chain that verifies; the checkpoint outside the database still knows how long it was."""
    run = audit_cli
    assert callable(run)
    checkpoints = tmp_path / "audit-checkpoints.jsonl"
    patient, other = api.register(), api.register()
    _reads(client, patient, 5)
    _reads(client, other, 2)
    assert run("checkpoint", "--file", str(checkpoints))[0] == 0
    _reads(client, patient, 2)  # seq 6 and 7: the entries the attacker wants gone
    code, out = run("checkpoint", "--file", str(checkpoints))
    assert code == 0, out
    assert "1 of 2 chain heads appended" in out  # the other chain did not move

    for conn in _behind_the_back(ctx):
        conn.execute(
            delete(AuditEntry).where(
                AuditEntry.patient_id == patient.patient_id, AuditEntry.seq > 4
            )
        )
        conn.execute(update(Patient).where(Patient.id == patient.patient_id).values(audit_seq=4))
    code, out = run("verify")
    assert code == 0  # the database alone cannot tell
    code, out = run("verify", "--checkpoints", str(checkpoints))
    assert code == 1
    assert f"patient {patient.patient_id} seq 5: shorter than its checkpoint" in out
    assert "(seq 7)" in out
    assert str(other.patient_id) not in out
    # Nor does a new checkpoint paper over it.
    size = checkpoints.stat().st_size
    code, out = run("checkpoint", "--file", str(checkpoints))
    assert (code, checkpoints.stat().st_size) == (1, size)
    assert "no checkpoint written" in out


def test_audit_chain_rewritable_an_edit_recomputed_without_the_key_never_verifies(
    api: Api, client: TestClient, ctx: AppContext, audit_cli: object, tmp_path: Path
) -> None:
    """Finding 3: an entry edited and its chain recomputed with plain SHA-256 (as the trail
    used to be hashed), or with any key but the real one, does not verify - with or without
    checkpoints, and a forged seal does not help."""
    run = audit_cli
    assert callable(run)
    checkpoints = tmp_path / "audit-checkpoints.jsonl"
    patient, doctor = api.register(), api.staff_named("clinician", "Dr Nosy")
    api.grant(patient, to=doctor)
    client.get(f"/api/v1/patients/{patient.patient_id}", headers=doctor.headers)
    _reads(client, patient, 2)
    assert run("checkpoint", "--file", str(checkpoints))[0] == 0
    pid = patient.patient_id
    assert pid is not None

    def plain(prev: str, row: Any) -> str:
        return hashlib.sha256(
            (prev + audit._canonical({n: row[n] for n in audit.HASHED_FIELDS})).encode()
        ).hexdigest()

    def guessed_key(prev: str, row: Any) -> str:
        return audit.chain_hash(b"a guess at the audit key, 32 bytes+", prev, row)

    for digest in (plain, guessed_key):
        for conn in _behind_the_back(ctx):
            conn.execute(  # the doctor's look becomes someone else's
                update(AuditEntry)
                .where(AuditEntry.patient_id == pid, AuditEntry.actor_name == "Dr Nosy")
                .values(actor_name="Test Patient", actor_id=patient.user_id)
            )
            _recompute(conn, pid, digest)
        code, out = run("verify")
        assert code == 1, out
        assert f"patient {pid} seq 1:" in out
        assert "not sealed" in out if digest is plain else "entry altered" in out
        code, out = run("verify", "--checkpoints", str(checkpoints))
        assert code == 1
        if digest is plain:  # every link matches; the head is not the one checkpointed
            assert f"patient {pid} seq 4: differs from its checkpoint" in out
        else:
            assert f"patient {pid} seq 1: entry altered" in out

    # A seal the attacker writes for their unkeyed chain is no seal.
    with ctx.db.begin() as session:
        head = session.scalars(
            select(AuditEntry).where(AuditEntry.patient_id == pid).order_by(AuditEntry.seq)
        ).all()[-1]
        session.add(
            AuditSeal(
                patient_id=pid,
                seq=head.seq,
                hash=head.hash,
                sealed_at=head.at,
                mac=plain("seal", {n: getattr(head, n) for n in audit.HASHED_FIELDS}),
            )
        )
    code, out = run("verify")
    assert code == 1
    assert f"patient {pid} seq {head.seq}: seal does not verify" in out


def test_audit_chain_rewritable_a_dropped_erased_chain_shows_as_vanished(
    api: Api, client: TestClient, ctx: AppContext, audit_cli: object, tmp_path: Path
) -> None:
    """Finding 3: an erased patient's chain has no patient row left to say it existed;
    dropped, only the checkpoint (which holds erased patients' chains too) shows it."""
    run = audit_cli
    assert callable(run)
    checkpoints = tmp_path / "audit-checkpoints.jsonl"
    gone, stays = api.register(), api.register()
    _reads(client, gone, 3)
    _reads(client, stays, 1)
    r = client.request(
        "DELETE", "/api/v1/me", json={"password": gone.password}, headers=gone.headers
    )
    assert r.status_code == 204
    assert run("checkpoint", "--file", str(checkpoints))[0] == 0
    lines = [json.loads(line) for line in checkpoints.read_text().splitlines()]
    assert {line["patient_id"] for line in lines} == {str(gone.patient_id), str(stays.patient_id)}
    assert {line["seq"] for line in lines if line["patient_id"] == str(gone.patient_id)} == {4}
    assert checkpoints.stat().st_mode & 0o777 == 0o600

    for conn in _behind_the_back(ctx):
        conn.execute(delete(AuditEntry).where(AuditEntry.patient_id == gone.patient_id))
    assert run("verify")[0] == 0  # nothing in the database shows it
    code, out = run("verify", "--checkpoints", str(checkpoints))
    assert code == 1
    assert f"patient {gone.patient_id} seq 1: vanished: checkpointed at seq 4" in out
    assert str(stays.patient_id) not in out


def test_checkpoints_append_only_what_moved_and_survive_a_torn_line(
    api: Api, client: TestClient, audit_cli: object, tmp_path: Path
) -> None:
    run = audit_cli
    assert callable(run)
    checkpoints = tmp_path / "audit-checkpoints.jsonl"
    alice = api.register()
    _reads(client, alice, 2)
    assert run("checkpoint", "--file", str(checkpoints))[0] == 0
    first = checkpoints.read_text()
    code, out = run("checkpoint", "--file", str(checkpoints))
    assert (code, checkpoints.read_text()) == (0, first)  # nothing moved, nothing written
    assert "0 of 1 chain heads appended" in out
    with checkpoints.open("a") as handle:  # a crash in the middle of an append
        handle.write('{"at": "2026-')
    _reads(client, alice, 1)
    code, out = run("verify", "--checkpoints", str(checkpoints))
    assert code == 0, out
    assert run("checkpoint", "--file", str(checkpoints))[0] == 0
    lines = checkpoints.read_text().splitlines()
    assert lines[0] == first.strip()
    assert lines[1] == '{"at": "2026-'
    assert json.loads(lines[2])["seq"] == 3  # three reads: the chain moved on
    assert run("verify", "--checkpoints", str(checkpoints))[0] == 2  # a bad line mid-file
    assert run("verify", "--checkpoints", str(tmp_path / "none-yet.jsonl"))[0] == 0
