"""``paindiary seed-demo`` on a fresh SQLite file, then the report a newcomer would open."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import cli
from app.main import create_app
from app.settings import get_settings


@pytest.fixture
def fresh_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PAINDIARY_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("PAINDIARY_SECRET_KEY", "d" * 40)
    monkeypatch.setenv("PAINDIARY_AUDIT_KEY", "e" * 40)
    monkeypatch.setenv("PAINDIARY_ARGON2_MEMORY_KIB", "64")
    monkeypatch.setenv("PAINDIARY_ARGON2_TIME_COST", "1")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def run_seed(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    assert cli.main(["seed-demo"]) == 0
    out = capsys.readouterr().out
    found = {
        "state": re.search(r"^Demo (\w+)", out, re.M),
        "patient_password": re.search(r"demo@paindiary\.example  password: (\S+)", out),
        "clinician_password": re.search(r"dr\.demo@paindiary\.example  password: (\S+)", out),
        "pid": re.search(r"patient id: (\S+)", out),
        "sid": re.search(r"series id:  (\S+)", out),
        "url": re.search(r"^Report URL: (\S+)", out, re.M),
        "clinic": re.search(
            r"open (http://127\.0\.0\.1:8000/clinic/) and sign in as the clinician", out
        ),
    }
    assert all(found.values()), out
    return {name: match.group(1) for name, match in found.items() if match}


def token(client: TestClient, email: str, password: str) -> dict[str, str]:
    r = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_seed_demo_gives_a_real_report(
    fresh_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_seed(capsys)
    assert first["state"] == "created"
    assert first["url"] == (
        f"http://127.0.0.1:8000/api/v1/patients/{first['pid']}/series/{first['sid']}/report"
    )
    assert len(first["patient_password"]) >= 10
    assert first["patient_password"] != first["clinician_password"]
    with TestClient(create_app(get_settings())) as client:
        doctor = token(client, "dr.demo@paindiary.example", first["clinician_password"])
        path = first["url"].removeprefix("http://127.0.0.1:8000")
        r = client.get(path, headers=doctor)
        assert r.status_code == 200, r.text
        assert "Demo Patient" in r.text
        assert "Yes: at least 50 % fewer attacks per day in follow-up 1" in r.text
        trend = client.get(path.removesuffix("report") + "trend", headers=doctor).json()
        assert trend["sessions_count"] == 6
        assert trend["responder"] is True
        baseline = trend["windows"][0]
        assert 10 <= baseline["attacks_per_day"] <= 20
        assert 6 <= baseline["mean_intensity"] <= 9
        assert baseline["observed_days"] < baseline["days"]  # some days are missing
        follow_up_1 = next(c for c in trend["comparisons"] if c["window"] == "follow_up_1")
        assert -75 <= follow_up_1["change_pct"] <= -50
        relief = trend["relief"]
        assert relief["status"] == "ended"
        assert 35 <= relief["duration_days"] <= 63  # fades after six to eight weeks
        assert trend["pgic"]["total"] == 2
        assert {a["instrument"] for a in trend["assessments"]} >= {"phq9", "gad7", "penn_fps_r"}
        assert set(trend["adverse_effects"]) >= {"dissociation", "nausea"}
        assert trend["warnings"] == []
        # The patient sees their own diary through the change feed like any synced data.
        patient = token(client, "demo@paindiary.example", first["patient_password"])
        feed = client.get("/api/v1/patients/me/changes?limit=500", headers=patient).json()
        assert feed["has_more"] is True

    again = run_seed(capsys)
    assert again["state"] == "already"
    assert (again["pid"], again["sid"]) == (first["pid"], first["sid"])
    assert again["clinician_password"] != first["clinician_password"]
    with TestClient(create_app(get_settings())) as client:
        r = client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "password",
                "username": "dr.demo@paindiary.example",
                "password": first["clinician_password"],
            },
        )
        assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")
        doctor = token(client, "dr.demo@paindiary.example", again["clinician_password"])
        cohort = client.get("/api/v1/cohort/series-outcomes", headers=doctor).json()
        assert cohort["summary"]["first_series"]["n"] == 1  # one demo series, one grant
        assert cohort["items"][0]["responder"] is True


def test_seed_demo_refuses_production(
    fresh_settings: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAINDIARY_ENV", "production")
    get_settings.cache_clear()
    assert cli.main(["seed-demo"]) == 2
    assert "production" in capsys.readouterr().err
    assert not (fresh_settings / "demo.db").exists()
