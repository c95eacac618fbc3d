"""Schemathesis' engine with every check, as an integration partner runs it (``schemathesis run
--checks all``), against the in-process app on each engine: as the patient of a seeded diary,
as a clinician and a partner client with grants to it, as an admin, and for the operations that
end a sign-in or an account as throwaway accounts. 0 failures, and every operation answers a
2xx at least once (one that only ever meets 404/401 was never really exercised).

Deterministic: a fixed seed and a bounded number of examples per operation (tests/fuzz_harness.py,
where the checks are configured). New endpoints join automatically when their routers are
mounted. Run alone: ``pytest tests/test_fuzz.py -s`` prints the figures per identity.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.db import normalise_url
from tests.conftest import ENGINES
from tests.fuzz_harness import EXAMPLE_OLD_PASSWORD, Fuzz, Outcome
from tests.helpers import PASSWORD

# Operations that end the signed-in account or its other sign-ins: fuzzed last, as throwaway
# accounts whose passwords are the documented examples (so the examples reach their 2xx).
ACCOUNT_ENDING = ["deleteMyAccount", "changePassword"]
ADMIN_ONLY = r"^/api/v1/admin/"
NO_SIGN_IN = r"^/api/v1/auth/"


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fuzz.db'}"
        return
    base = normalise_url(os.environ["TEST_DATABASE_URL"])
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_every_operation_passes_every_check_and_reaches_a_2xx(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fuzz = Fuzz(db_url, tmp_path / "mail")
    outcomes: list[Outcome] = []
    try:
        who = fuzz.seed()
        for name in ("patient", "clinician", "partner"):
            schema = fuzz.schema(who[name], owner=name == "patient")
            schema = schema.exclude(operation_id=ACCOUNT_ENDING).exclude(path_regex=ADMIN_ONLY)
            schema = schema.exclude(path_regex=NO_SIGN_IN)
            outcomes.append(fuzz.run(name, schema, who[name]))
        ids = fuzz.operations()
        admin_only = [op for op, path in ids.items() if re.match(ADMIN_ONLY, path)]
        no_sign_in = [op for op, path in ids.items() if re.match(NO_SIGN_IN, path)]
        admin = fuzz.only(fuzz.schema(who["admin"]), admin_only)
        outcomes.append(fuzz.run("admin", admin, who["admin"]))
        # No sign-in: registration, codes from the mail folder, tokens (the documented
        # password grant's account exists), revocation.
        fuzz.register("patient@example.org", PASSWORD)
        anonymous = fuzz.only(fuzz.schema({}, stateful=False), no_sign_in)
        outcomes.append(fuzz.run("anonymous", anonymous, {}))
        # An import fills an empty account only (409 otherwise): a fresh patient's.
        importer = fuzz.register("fuzz.importer@example.org")
        schema = fuzz.only(fuzz.schema(importer, owner=True, stateful=False), ["importMyData"])
        outcomes.append(fuzz.run("import", schema, importer))
        changer = fuzz.register("fuzz.changer@example.org", EXAMPLE_OLD_PASSWORD)
        schema = fuzz.only(fuzz.schema(changer, stateful=False), ["changePassword"])
        outcomes.append(fuzz.run("password change", schema, changer))
        leaver = fuzz.register("fuzz.leaver@example.org", PASSWORD)
        schema = fuzz.only(fuzz.schema(leaver, stateful=False), ["deleteMyAccount"])
        outcomes.append(fuzz.run("account deletion", schema, leaver))
    finally:
        fuzz.close()
    statuses: dict[str, Counter[int]] = {}
    for outcome in outcomes:
        for label, counts in outcome.statuses.items():
            statuses.setdefault(label, Counter()).update(counts)
    with capsys.disabled():
        for outcome in outcomes:
            sys.stderr.write(
                f"\nfuzz [{db_url.split(':')[0]}] {outcome.label}: {len(outcome.statuses)} "
                f"operations, {outcome.examples} requests, {outcome.seconds:.1f} s\n"
            )
    failures = [failure for outcome in outcomes for failure in outcome.failures]
    errors = [error for outcome in outcomes for error in outcome.errors]
    unreached = {
        label: dict(counts)
        for label, counts in sorted(statuses.items())
        if not any(200 <= status < 300 for status in counts)
    }
    assert not errors, "\n".join(errors)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])
    assert not unreached, f"operations that never answered a 2xx: {unreached}"
    assert len(statuses) == len(fuzz.operations())
