"""Settings rules and the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydantic import ValidationError

from app import cli
from app.main import create_app
from app.settings import Settings, get_settings

AUDIT = "a" * 32


def test_production_refuses_missing_or_short_secret() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings(env="production", secret_key=None, audit_key=AUDIT)
    with pytest.raises(ValidationError, match="SECRET_KEY must be at least 32 bytes"):
        Settings(env="production", secret_key="too-short", audit_key=AUDIT)
    ok = Settings(env="production", secret_key="k" * 32, audit_key=AUDIT)
    assert ok.signing_key() == "k" * 32


def test_production_refuses_to_start_without_its_own_audit_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 3: the audit chain's key comes from the settings, never from the database, and
    production has no fallback: no key, a short one, or the JWT key again is refused."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError, match="AUDIT_KEY must be set"):
        Settings(env="production", secret_key="k" * 32)
    with pytest.raises(ValidationError, match="AUDIT_KEY must be at least 32 bytes"):
        Settings(env="production", secret_key="k" * 32, audit_key="short")
    with pytest.raises(ValidationError, match="must differ"):
        Settings(env="production", secret_key="k" * 32, audit_key="k" * 32)
    monkeypatch.setenv("PAINDIARY_ENV", "production")
    monkeypatch.setenv("PAINDIARY_SECRET_KEY", "k" * 32)
    monkeypatch.delenv("PAINDIARY_AUDIT_KEY", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(ValidationError, match="AUDIT_KEY must be set"):
            create_app()  # what uvicorn calls to start a worker
    finally:
        get_settings.cache_clear()
    monkeypatch.setenv("PAINDIARY_AUDIT_KEY", AUDIT)
    assert Settings().audit_signing_key() == AUDIT.encode()
    assert not (tmp_path / "var").exists()  # nothing generated in production


def test_development_audit_key_is_generated_once_beside_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = Settings(env="development").audit_signing_key()
    assert first == Settings(env="development").audit_signing_key()
    assert len(first) >= 32
    assert first != Settings(env="development").signing_key().encode()
    assert (tmp_path / "var" / "audit_key").stat().st_mode & 0o777 == 0o600


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
