"""examples/partner_client.py against the real app: what a partner runs must keep working.

The example talks to the in-process app through the test client (an ``httpx.Client``), on every
engine, with data made through the public API only: an admin registers the partner, a patient
records a diary and two treatment series (the newer one still without sessions) and grants the
partner read access; another patient grants nothing.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from examples.partner_client import main, parse_args
from tests.helpers import Account, Api
from tests.trend_data import API, TrendPatient, episode

NOW = datetime.now(UTC).replace(microsecond=0)


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def _register_partner(api: Api) -> tuple[str, str]:
    admin = api.staff("admin")
    r = api.client.post(
        f"{API}/admin/clients",
        json={"name": "Clinic EHR bridge", "scopes": ["diary:read", "reports:read"]},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["client_id"], r.json()["client_secret"]


def _put_series(client: TestClient, patient: Account, name: str) -> str:
    sid = str(uuid.uuid4())
    r = client.put(
        f"{API}/patients/me/series/{sid}",
        json={"name": name, "modality": "ketamine_iv", "baseline_days": 14},
        headers=patient.headers,
    )
    assert r.status_code == 201, r.text
    return sid


def _patient_with_a_treated_series(api: Api, client: TestClient) -> tuple[Account, str, int]:
    """A diary around one completed session 10 days ago; returns the treated series' id and
    how many episodes the diary holds."""
    patient = api.register(name="Partner Patient")
    treated = _put_series(client, patient, "Ketamine IV, autumn")
    r = client.post(
        f"{API}/patients/me/series/{treated}/sessions",
        json={"started_at": _at(10), "duration_minutes": 40, "route": "iv", "dose_mg": 35},
        headers=patient.headers,
    )
    assert r.status_code == 201, r.text
    # Listed first (newest) and without a session: its trend is a 409 the example skips.
    _put_series(client, patient, "Ketamine IV, planned")
    baseline = [episode(_at(day + 0.5), attacks=8, intensity=7) for day in range(11, 25)]
    follow_up = [episode(_at(day + 0.5), attacks=2, intensity=4) for day in range(1, 9)]
    TrendPatient(client, patient, "Europe/Berlin").upload(baseline + follow_up)
    return patient, treated, len(baseline) + len(follow_up)


def _run(client: TestClient, client_id: str, secret: str, out: Path) -> int:
    # "--flag=value": a generated secret may begin with "-", which argparse would read as a flag.
    argv = [f"--client-id={client_id}", f"--client-secret={secret}", "--out", str(out)]
    return main(argv, client=client)


def test_the_example_downloads_trends_and_fhir_bundles_of_granted_patients(
    api: Api, client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client_id, secret = _register_partner(api)
    patient, treated, episodes = _patient_with_a_treated_series(api, client)
    r = client.post(
        f"{API}/patients/me/grants",
        json={"client_id": client_id, "access": "read"},
        headers=patient.headers,
    )
    assert r.status_code == 201, r.text
    stranger = api.register(name="Not Granted")

    assert _run(client, client_id, secret, tmp_path) == 0

    assert [p.name for p in tmp_path.iterdir()] == [str(patient.patient_id)]
    folder = tmp_path / str(patient.patient_id)
    assert sorted(f.name for f in folder.iterdir()) == ["fhir-bundle.json", f"trend-{treated}.json"]
    trend: dict[str, Any] = json.loads((folder / f"trend-{treated}.json").read_text())
    assert trend["series_id"] == treated
    assert trend["sessions_count"] == 1
    windows = {w["name"]: w for w in trend["windows"]}
    assert windows["baseline"]["attacks"] == 8 * 14
    bundle: dict[str, Any] = json.loads((folder / "fhir-bundle.json").read_text())
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds.count("Patient") == 1
    assert kinds.count("MedicationAdministration") == 1
    assert kinds.count("Observation") == episodes
    printed = capsys.readouterr().out
    assert "Partner Patient" in printed
    assert "'Ketamine IV, autumn' (1 sessions" in printed
    assert "1 patient(s) granted this client access" in printed
    assert str(stranger.patient_id) not in printed


def test_the_example_reports_a_wrong_secret_and_writes_nothing(
    api: Api, client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client_id, _ = _register_partner(api)
    assert _run(client, client_id, "not-the-secret", tmp_path / "out") == 1
    assert "401 Invalid client" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_secret_that_begins_with_a_dash_is_read_as_the_secret() -> None:
    # Generated secrets are URL-safe base64, so one in 32 begins with "-": written as
    # --client-secret=VALUE (as the docs show) it is the value, never taken for an option.
    args = parse_args(["--client-id=3f0c6f1e", "--client-secret=-n7Jq2VbX9rLs4TzW0c"])
    assert args.client_secret == "-n7Jq2VbX9rLs4TzW0c"
