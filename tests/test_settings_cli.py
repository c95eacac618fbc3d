"""Settings rules and the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydantic import ValidationError

from app import cli
from app.settings import Settings


def test_production_refuses_missing_or_short_secret() -> None:
    with pytest.raises(ValidationError, match="must be set"):
        Settings(env="production", secret_key=None)
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(env="production", secret_key="too-short")
    ok = Settings(env="production", secret_key="k" * 32)
    assert ok.signing_key() == "k" * 32


def test_development_secret_is_generated_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = Settings(env="development").signing_key()
    second = Settings(env="development").signing_key()
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600


def test_env_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAINDIARY_ACCESS_TOKEN_MINUTES", "5")
    monkeypatch.setenv("PAINDIARY_CORS_ORIGINS", '["https://app.example"]')
    s = Settings()
    assert s.access_token_minutes == 5
    assert s.cors_origins == ["https://app.example"]


def test_cli_migrate_and_create_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.settings import get_settings

    monkeypatch.setenv("PAINDIARY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("PAINDIARY_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PAINDIARY_ARGON2_MEMORY_KIB", "64")
    get_settings.cache_clear()
    try:
        assert cli.main(["migrate"]) == 0
        monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
        assert (
            cli.main(["create-user", "Doc@Example.org", "--role", "clinician", "--password-stdin"])
            == 0
        )
        assert "created clinician doc@example.org" in capsys.readouterr().out
        monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
        assert (
            cli.main(["create-user", "doc@example.org", "--role", "admin", "--password-stdin"]) == 1
        )
        assert "already exists" in capsys.readouterr().err
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        assert (
            cli.main(["create-user", "p@example.org", "--role", "patient", "--password-stdin"]) == 2
        )
        assert cli.main(["create-user", "p@example.org", "--role", "patient"]) == 2
        monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
        assert (
            cli.main(
                [
                    "create-user",
                    "p@example.org",
                    "--role",
                    "patient",
                    "--password-stdin",
                    "--timezone",
                    "Asia/Kathmandu",
                ]
            )
            == 0
        )
        assert "patient_id=" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
