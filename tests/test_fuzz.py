"""Schemathesis against the in-process app: every operation of the OpenAPI document, fuzzed
with a signed-in patient's token, passes every default check (no 500, documented statuses,
content types, headers and bodies, invalid input rejected, valid input accepted).

Engine: SQLite only (a file of its own). The fuzzer finds contract bugs, which do not depend
on the engine; the engine-specific behaviour has its own tests on both engines. Deterministic:
a fixed seed and a bounded number of examples per operation keep it fast and repeatable.
New endpoints join automatically when their routers are mounted.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from app.dbmigrate import upgrade
from app.main import create_app
from app.schemas.common import TIME_ZONE_FORMAT
from tests.conftest import make_settings
from tests.helpers import PASSWORD

FUZZ_SEED = 20261125
MAX_EXAMPLES = 50


# Built at import, as schemathesis needs the schema while collecting; building the app and
# its OpenAPI document touches no database. The file is migrated by the fixture below.
_DB_DIR = Path(tempfile.mkdtemp(prefix="paindiary-fuzz-"))
atexit.register(shutil.rmtree, _DB_DIR, True)
_DB_URL = f"sqlite:///{_DB_DIR / 'fuzz.db'}"
app = create_app(
    # The fuzzer signs in and registers hundreds of times from one address.
    make_settings(
        _DB_URL,
        login_free_failures_per_ip=100_000,
        register_max_per_ip=100_000,
        code_attempts_per_ip=100_000,
    )
)
EXPECTED_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": FUZZ_SEED,
        "generation": {"max-examples": MAX_EXAMPLES},
        # The coverage phase (every boundary value of every field) is built while collecting
        # and costs over a second per operation; with the whole API that alone would take
        # minutes. The examples and fuzzing phases run, with every default check.
        "phases": {"coverage": {"enabled": False}},
        "checks": {
            "positive_data_acceptance": {
                # A schema-valid If-Match that names another version is *meant* to get 412:
                # whether a precondition holds depends on the stored state, not on the schema.
                # 422 too, for the rules OpenAPI cannot express and that are tested table-driven
                # elsewhere: opaque cursors only the server issues, dates not in the future of
                # the patient's local day (clock skew), stopped_on >= started_on, per-instrument
                # item counts and ranges, from <= to, a grantee that must be a clinician, ids in
                # a body that must equal the path. Everything else stays checked: no 5xx,
                # documented statuses/content types/headers/bodies, invalid input rejected.
                # (schemathesis' default list, plus 412 and 422)
                "expected-statuses": EXPECTED_STATUSES
            }
        },
        "operations": [
            {
                # A 6-digit code is schema-valid whether or not it is the one we mailed: only
                # the mailbox knows it, so a valid-looking code is *meant* to get the
                # documented 400 invalid-code (schemathesis grants the token endpoint the same
                # for credentials). These two operations only; 400 stays unexpected elsewhere.
                "include-operation-id": ["verifyEmail", "confirmPasswordReset"],
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": [*EXPECTED_STATUSES, "400"]}
                },
            }
        ],
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
# What the documented string formats mean, so that "valid" examples are valid: IANA zone
# names, and e-mail addresses on public domains (the schema says special-use ones are refused).
schemathesis.openapi.format(
    TIME_ZONE_FORMAT, st.sampled_from(sorted(zoneinfo.available_timezones()))
)
schemathesis.openapi.format("email", st.emails())


@schema.hook
def flatmap_path_parameters(_context: Any, path_parameters: dict[str, Any]) -> Any:
    # A random {pid} only ever meets the 404; "me" (the signed-in patient) reaches the real work.
    if not path_parameters or "pid" not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, "pid": "me"}])


@pytest.fixture(scope="module")
def patient_headers() -> dict[str, str]:
    upgrade(_DB_URL)
    email = "fuzzed.patient@example.org"
    with TestClient(app) as client:
        r = client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": "Fuzz", "timezone": "UTC"},
        )
        assert r.status_code == 202, r.text
        r = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": email, "password": PASSWORD},
        )
        assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: Any, patient_headers: dict[str, str]) -> None:
    case.call_and_validate(headers=patient_headers)
