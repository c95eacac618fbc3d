"""Schemathesis' engine (what ``schemathesis run --checks all`` runs) against the in-process
app, signed in as a patient with a seeded diary, a clinician and a partner holding grants to
it, an admin, and throwaway accounts for the operations that end a sign-in or an account.

Used by tests/test_fuzz.py. Every check is enabled; ``config()`` is the one place where anything
about a check is configured, each with its reason. Path parameters name the seeded records most
of the time (a random id only ever meets the 404), so every operation gets its 2xx.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from app.dbmigrate import upgrade
from app.main import create_app
from app.services.identity.accounts import create_user_cli
from tests.conftest import make_settings

API = "/api/v1"
FUZZ_SEED = 20261206
MAX_EXAMPLES = 4
# The fuzz identities' password differs from the documented examples, so DELETE /me with the
# example body cannot end the run early (the throwaway accounts below use the examples).
FUZZ_PASSWORD = "fuzzing pass phrase 42"
# POST /me/password's documented example (current_password), see _ACCOUNT_RUNS.
EXAMPLE_OLD_PASSWORD = "the old pass phrase"

# Statuses positive_data_acceptance accepts beyond schemathesis' default
# (2xx, 3xx, 401, 403, 404, 409, 429, 5xx — 5xx is caught by not_a_server_error). Each is
# declared by the operations that answer it; status_code_conformance still fails any status an
# operation does not declare.
# 412: a schema-valid If-Match that names another version *is meant* to fail: whether a
#   precondition holds depends on the stored record, not on the request.
# 422: the rules JSON Schema cannot state: relative to the server's clock or the patient's
#   local day (started_at at most 10 minutes ahead, dates not in the future), between two
#   fields (from <= to, stopped_on >= started_on, an id in the body equal to the path's, a
#   grantee who is a clinician, per-instrument item counts), and opaque cursors only the server
#   issues (a pattern-valid string that no list handed out). Each has table-driven tests.
POSITIVE_EXTRA = ["412", "422"]
# POST /auth/verify and /auth/password-reset/confirm: a 6-digit code is schema-valid whether or
# not it is the one we mailed; only the mailbox knows it, so a made-up code is *meant* to get the
# documented 400 (schemathesis grants the token endpoint the same for credentials). The
# before_call hook below sends mailed codes too, so both operations also reach their 2xx.
CODE_OPERATIONS = ["verifyEmail", "confirmPasswordReset"]
MISSING_HEADER = ["400", "401", "403", "406", "415", "422", "428"]
# schemathesis' default for negative_data_rejection, and the batch's 200 (see config()).
BATCH_NEGATIVE = [
    *("400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"),
    "200",
]


def config(
    headers: dict[str, str], *, coverage: bool = False, stateful: bool = True
) -> SchemathesisConfig:
    statuses = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx", *POSITIVE_EXTRA]
    return SchemathesisConfig.from_dict(
        {
            "seed": FUZZ_SEED,
            "headers": headers,
            "generation": {"max-examples": MAX_EXAMPLES},
            # Every check on (the default for each); only positive_data_acceptance is tuned.
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": statuses},
                # schemathesis' default (400, 401, 403, 406, 415, 422) and 428: a PATCH without
                # its required If-Match is answered 428 Precondition Required, the status RFC
                # 6585 defines for exactly this (declared on every PATCH).
                "missing_required_header": {"expected-statuses": MISSING_HEADER},
            },
            # The coverage phase (every boundary value of every field) costs over a second per
            # operation and identity to build; it runs once, for the patient (see RUNS).
            # Stateful: follows the document's links (create -> read/update/delete); off for
            # the runs of single operations, which have no link to follow.
            "phases": {"coverage": {"enabled": coverage}, "stateful": {"enabled": stateful}},
            "operations": [
                {
                    "include-operation-id": CODE_OPERATIONS,
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*statuses, "400"]}
                    },
                },
                {
                    # The batch's items are documented as episodes (so generated clients send
                    # typed ones) but each is validated on its own, by contract: an item that is
                    # not a valid episode is answered in the 200 as `invalid` while the others
                    # are stored (one bad item never blocks an offline phone's upload). A body
                    # whose envelope is wrong (no `items` array, > 500 items) is still a 422.
                    "include-operation-id": ["uploadEpisodes"],
                    "checks": {"negative_data_rejection": {"expected-statuses": BATCH_NEGATIVE}},
                },
            ],
        }
    )


@dataclass
class Seeds:
    """What the patient's diary holds, by path parameter, and who may see it."""

    patient_id: str = ""
    ids: dict[str, list[str]] = field(default_factory=dict)
    dates: list[str] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    grant_ids: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    label: str
    seconds: float
    examples: int
    statuses: dict[str, Counter[int]]
    failures: list[str]
    errors: list[str]


def _valid(name: str, value: Any) -> bool:
    """Whether a generated path parameter is valid by the document (ids are UUIDs, {date} a
    date, {pid} any non-empty segment)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        if name == "date":
            date.fromisoformat(value)
        elif name != "pid":
            uuid.UUID(value)
    except ValueError:
        return False
    return True


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Fuzz:
    def __init__(self, db_url: str, mail_dir: Path) -> None:
        upgrade(db_url)
        self.mail_dir = mail_dir
        self.app: FastAPI = create_app(
            make_settings(
                db_url,
                mail_dir=mail_dir,
                # The fuzzer signs in, registers and tries codes hundreds of times from one
                # address; the limits have tests of their own.
                login_free_failures_per_ip=1_000_000,
                register_max_per_ip=1_000_000,
                code_attempts_per_ip=1_000_000,
            )
        )
        self.client = TestClient(self.app)
        self.client.__enter__()
        self.seeds = Seeds()
        self.rng = random.Random(FUZZ_SEED)

    def close(self) -> None:
        self.client.__exit__(None, None, None)

    # --- identities -------------------------------------------------------------------------
    def _post(self, path: str, expect: int, **kwargs: Any) -> Any:
        r = self.client.post(API + path, **kwargs)
        assert r.status_code == expect, (path, r.status_code, r.text)
        return r.json() if r.content else None

    def sign_in(self, email: str, password: str = FUZZ_PASSWORD) -> dict[str, str]:
        body = self._post(
            "/auth/token",
            200,
            data={"grant_type": "password", "username": email, "password": password},
        )
        return {"Authorization": f"Bearer {body['access_token']}"}

    def register(self, email: str, password: str = FUZZ_PASSWORD) -> dict[str, str]:
        self._post(
            "/auth/register",
            202,
            json={"email": email, "password": password, "display_name": "Fuzz", "timezone": "UTC"},
        )
        return self.sign_in(email, password)

    def staff(self, role: str, email: str) -> dict[str, str]:
        ctx = self.app.state.ctx
        with ctx.db.session(write=True) as session:
            create_user_cli(
                session, ctx, email=email, password=FUZZ_PASSWORD, role=role, timezone="UTC"
            )
        return self.sign_in(email)

    # --- the seeded diary -------------------------------------------------------------------
    def seed(self) -> dict[str, dict[str, str]]:
        """The identities' headers, after seeding the patient's diary and the grants."""
        patient = self.register("fuzz.patient@example.org")
        self.patient = patient
        me = self.client.get(API + "/me", headers=patient).json()
        self.seeds.patient_id = me["patient_id"]
        admin = self.staff("admin", "fuzz.admin@example.org")
        clinician = self.staff("clinician", "fuzz.clinician@example.org")
        # The grantee of createGrant's documented example exists, so that example is a 201 (a
        # generated address is a 422: no such clinician), whatever else the run generates.
        self.staff("clinician", "dr.lee@clinic.example")
        partner = self._post(
            "/admin/clients",
            201,
            json={"name": "Fuzz bridge", "scopes": ["diary:read", "diary:write", "reports:read"]},
            headers=admin,
        )
        for n in range(4):  # spare clients for DELETE /admin/clients/{client_id}
            spare = self._post(
                "/admin/clients",
                201,
                json={"name": f"Spare {n}", "scopes": ["diary:read"]},
                headers=admin,
            )
            self.seeds.client_ids.append(spare["client_id"])
        token = self._post(
            "/auth/token",
            200,
            data={
                "grant_type": "client_credentials",
                "client_id": partner["client_id"],
                "client_secret": partner["client_secret"],
            },
        )
        partner_headers = {"Authorization": f"Bearer {token['access_token']}"}
        self._post(
            "/patients/me/grants",
            201,
            json={"grantee_email": "fuzz.clinician@example.org", "access": "write"},
            headers=patient,
        )
        self._post(
            "/patients/me/grants",
            201,
            json={"client_id": partner["client_id"], "access": "write"},
            headers=patient,
        )
        for n in range(6):  # grants DELETE /patients/{pid}/grants/{gid} may revoke
            other = self.staff("clinician", f"fuzz.other{n}@example.org")
            assert other
            grant = self._post(
                "/patients/me/grants",
                201,
                json={"grantee_email": f"fuzz.other{n}@example.org", "access": "read"},
                headers=patient,
            )
            self.seeds.grant_ids.append(grant["id"])
        self._seed_diary(patient)
        return {
            "patient": patient,
            "clinician": clinician,
            "partner": partner_headers,
            "admin": admin,
        }

    def _put(self, path: str, body: dict[str, Any]) -> None:
        r = self.client.put(API + "/patients/me" + path, json=body, headers=self.patient)
        assert r.status_code in (200, 201), (path, r.text)

    def _seed_diary(self, patient: dict[str, str]) -> None:
        now = _now()
        ids: dict[str, list[str]] = defaultdict(list)
        for n in range(60):
            eid = str(uuid.uuid4())
            self._put(
                f"/episodes/{eid}",
                {
                    "started_at": (now - timedelta(days=n % 40, hours=2 + n % 7)).isoformat(),
                    "duration_seconds": 30 + n,
                    "intensity": 1 + n % 10,
                    "triggers": ["eating"],
                },
            )
            ids["episode_id"].append(eid)
        today = now.date()
        for n in range(1, 45):
            day = (today - timedelta(days=n)).isoformat()
            self._put(
                f"/checkins/{day}", {"no_attacks": False, "background_pain": n % 10, "mood": 5}
            )
            self.seeds.dates.append(day)
        for n in range(40):
            mid = str(uuid.uuid4())
            self._put(
                f"/medications/{mid}",
                {"name": "carbamazepine", "dose_mg_per_day": 200 + n, "started_on": "2025-11-01"},
            )
            ids["medication_id"].append(mid)
        for n in range(40):
            aid = str(uuid.uuid4())
            self._put(
                f"/assessments/{aid}",
                {
                    "instrument": "gad7",
                    "taken_at": (now - timedelta(days=n)).isoformat(),
                    "items": [1, 0, 2, 1, 0, 1, n % 4],
                },
            )
            ids["assessment_id"].append(aid)
        for n in range(30):
            sid = str(uuid.uuid4())
            self._put(
                f"/series/{sid}",
                {"name": f"Ketamine IV {n}", "modality": "ketamine_iv", "baseline_days": 14},
            )
            ids["sid"].append(sid)
            for k in range(2 if n != 10 else 12):  # n == 10: the sessions DELETE takes
                session_id = str(uuid.uuid4())
                self._put(
                    f"/series/{sid}/sessions/{session_id}",
                    {
                        "started_at": (now - timedelta(days=10 + k, hours=n)).isoformat(),
                        "duration_minutes": 40,
                        "route": "iv",
                        "dose_mg": 35,
                    },
                )
                ids["session_id"].append(session_id)
                ids[f"session_id@{sid}"].append(session_id)
        for n in range(10):  # planned, no session yet: their readiness
            sid = str(uuid.uuid4())
            self._put(
                f"/series/{sid}",
                {
                    "name": f"Planned {n}",
                    "modality": "ketamine_iv",
                    "baseline_days": 14,
                    "planned_start": (today + timedelta(days=7 + n)).isoformat(),
                },
            )
            ids["sid"].append(sid)
        self.seeds.ids = dict(ids)

    # --- hooks ------------------------------------------------------------------------------
    def path_parameters(
        self, parameters: dict[str, Any], owner: bool, method: str
    ) -> list[dict[str, Any]]:
        """Mostly the seeded records (a random id only ever meets the 404), sometimes the
        generated values unchanged. ``owner``: the patient, who may also say "me". DELETE
        takes the first third of each pool, every other method the rest, so that deletions
        never starve the reads and writes of their records."""
        if not all(_valid(name, value) for name, value in parameters.items()):
            return [parameters]  # a negative case: leave what makes it invalid
        seeds = self.seeds
        pids = ["me", seeds.patient_id] if owner else [seeds.patient_id]

        def pick(pool: list[str]) -> str:
            third = len(pool) // 3
            return self.rng.choice(pool[:third] if method == "DELETE" else pool[third:])

        choices: list[dict[str, Any]] = [parameters]
        for _ in range(7):
            chosen = dict(parameters)
            for name in parameters:
                if name == "pid":
                    chosen[name] = self.rng.choice(pids)
                elif name == "date":
                    chosen[name] = pick(seeds.dates)
                elif name == "client_id":
                    chosen[name] = self.rng.choice(seeds.client_ids)
                elif name == "gid":
                    chosen[name] = self.rng.choice(seeds.grant_ids)
                elif name in seeds.ids:
                    chosen[name] = pick(seeds.ids[name])
            if "sid" in chosen and "session_id" in chosen:
                if method == "DELETE":  # a session of a series no DELETE of series picks
                    chosen["sid"] = seeds.ids["sid"][len(seeds.ids["sid"]) // 3]
                sessions = seeds.ids.get(f"session_id@{chosen['sid']}")
                if sessions:
                    chosen["session_id"] = self.rng.choice(sessions)
            choices.append(chosen)
        return choices

    def before_call(self, case: Any, auth: dict[str, str]) -> None:
        """If-Match: three times in four the record's current ETag (read just before), so writes
        with a precondition get past it; mailed codes for verify/confirm now and then."""
        headers = case.headers or {}
        name = next((k for k in headers if k.lower() == "if-match"), None)
        if name is not None and case.method.upper() in ("PATCH", "PUT", "DELETE"):
            digest = hashlib.sha256(repr(headers[name]).encode()).digest()
            if digest[0] % 4 != 0:
                current = self._etag(case, auth)
                if current is not None:
                    headers[name] = current
        operation_id = case.operation.definition.raw.get("operationId")
        if operation_id in CODE_OPERATIONS and isinstance(case.body, dict):
            digest = hashlib.sha256(repr(case.body).encode()).digest()
            if digest[0] % 3 == 0:
                self._mailed_code(case, operation_id)

    def _etag(self, case: Any, auth: dict[str, str]) -> str | None:
        r = self.client.get(case.formatted_path, headers=auth)
        etag: str | None = r.headers.get("etag") if r.status_code == 200 else None
        return etag

    def _mailed_code(self, case: Any, operation_id: str) -> None:
        email = f"fuzz.code.{uuid.uuid4().hex[:10]}@example.org"
        password = "fuzz code pass phrase"
        if operation_id == "verifyEmail":
            self._post(
                "/auth/register",
                202,
                json={"email": email, "password": password, "display_name": "C", "timezone": "UTC"},
            )
        else:
            self.register(email, password)
            self._post("/auth/password-reset", 202, json={"email": email})
        code = self.code_for(email)
        case.body["email"] = email
        case.body["code"] = code

    def code_for(self, email: str) -> str:
        ctx = self.app.state.ctx
        assert ctx.mailer.wait(30)
        for message in sorted(self.mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime):
            text = message.read_text()
            if f"To: {email}" in text:
                code = next(line.strip() for line in text.splitlines() if line.strip().isdigit())
        return code

    def operations(self) -> dict[str, str]:
        """Every operation's id, by path (to pick runs by path)."""
        document = self.app.openapi()
        methods = {"get", "put", "post", "patch", "delete"}
        return {
            operation["operationId"]: path
            for path, operations in document["paths"].items()
            for method, operation in operations.items()
            if method in methods
        }

    def only(self, schema: Any, operation_ids: list[str]) -> Any:
        """``schema`` with just these operations (``include`` keeps them all in this version
        of schemathesis; ``exclude`` of the others does not)."""
        others = [op for op in self.operations() if op not in operation_ids]
        return schema.exclude(operation_id=others)

    # --- running ----------------------------------------------------------------------------
    def schema(
        self,
        headers: dict[str, str],
        *,
        owner: bool = False,
        coverage: bool = False,
        stateful: bool = True,
    ) -> Any:
        cfg = config(headers, coverage=coverage, stateful=stateful)
        schema = schemathesis.openapi.from_asgi("/openapi.json", self.app, config=cfg)
        fuzz = self

        @schema.hook
        def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
            if not path_parameters:
                return st.just(path_parameters)
            method = context.operation.method.upper() if context.operation else "GET"
            return st.sampled_from(fuzz.path_parameters(path_parameters, owner, method))

        @schema.hook
        def before_add_examples(context: Any, examples: list[Any]) -> None:
            # The documented examples, sent to the seeded records (their ids are made up).
            for case in examples:
                if case.path_parameters:
                    choices = fuzz.path_parameters(case.path_parameters, owner, case.method.upper())
                    case.path_parameters = choices[-1]

        return schema

    def run(self, label: str, schema: Any, headers: dict[str, str]) -> Outcome:
        _ACTIVE.append((self, headers))
        try:
            return self._run(label, schema)
        finally:
            _ACTIVE.pop()

    def _run(self, label: str, schema: Any) -> Outcome:
        started = time.monotonic()
        statuses: dict[str, Counter[int]] = defaultdict(Counter)
        failures: list[str] = []
        errors: list[str] = []
        examples = 0
        for event in from_schema(schema).execute():
            if isinstance(event, events.NonFatalError):
                errors.append(f"{event.label}: {event.value!r}")
            elif isinstance(event, events.FatalError):
                errors.append(f"fatal: {event.exception!r}")
            recorder = getattr(event, "recorder", None)
            if recorder is None or not isinstance(
                event, events.ScenarioFinished | events.FuzzScenarioFinished
            ):
                continue
            for case_id, interaction in recorder.interactions.items():
                node = recorder.cases.get(case_id)
                if interaction.response is None or node is None:
                    continue
                examples += 1
                statuses[node.value.operation.label][interaction.response.status_code] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    node = recorder.cases.get(case_id)
                    where = node.value.operation.label if node is not None else recorder.label
                    failure = check.failure_info.failure
                    failures.append(
                        f"[{label}] {where}: {check.name}: {failure.title}\n"
                        f"  {str(failure.message)[:400]}\n  {check.failure_info.code_sample[:600]}"
                    )
        return Outcome(
            label, time.monotonic() - started, examples, dict(statuses), failures, errors
        )


# before_call hooks can only be global: the run in progress (runs are sequential).
_ACTIVE: list[tuple[Fuzz, dict[str, str]]] = []


@schemathesis.hook
def before_call(_context: Any, case: Any, _kwargs: Any) -> None:
    if _ACTIVE:
        fuzz, headers = _ACTIVE[-1]
        fuzz.before_call(case, headers)
