"""Configuration from the environment (prefix ``PAINDIARY_``), built on demand, never at import."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")
DEFAULT_DATABASE_URL = f"sqlite:///./{VAR_DIR}/paindiary.db"
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAINDIARY_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = Field(default=None, repr=False)
    # The HMAC key of the audit chain. Kept out of the database on purpose: someone who can
    # write the database but does not hold this key cannot forge or recompute an entry.
    audit_key: str | None = Field(default=None, repr=False)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "paindiary"
    jwt_audience: str = "paindiary-api"
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    cors_origins: list[str] = Field(default_factory=list)
    # Argon2id cost. The defaults follow pwdlib/OWASP; tests lower them to keep the suite fast.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    max_body_bytes: int = 1024 * 1024
    max_batch_body_bytes: int = 8 * 1024 * 1024
    # POST /me/import takes a whole diary (about 2 MB per heavy year without the access log).
    max_import_body_bytes: int = 32 * 1024 * 1024
    db_pool_size: int = Field(default=5, ge=1)
    # PostgreSQL: give up connecting after this long (a black-holed host must not hang requests;
    # the client gets a 503 with Retry-After instead).
    db_connect_timeout_seconds: int = Field(default=5, ge=1)
    # SQLite: how long a writer waits for the write lock before the request becomes a 503.
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    # Rate limits (counted in the database, so they hold across workers and hosts).
    # Sign-in: failed attempts per account and per client IP within the window.
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=5, ge=1)
    login_failure_window_seconds: int = Field(default=15 * 60, ge=1, le=86_400)
    register_max_per_ip: int = Field(default=10, ge=1)
    register_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    export_max_per_patient: int = Field(default=10, ge=1)
    export_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    # POST /me/import attempts per patient (each may carry up to max_import_body_bytes).
    import_max_per_patient: int = Field(default=5, ge=1)
    import_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    # Threads that run the synchronous endpoints; a few beat many (less lock and GIL contention).
    worker_threads: int = Field(default=8, ge=1)

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins_only(cls, origins: list[str]) -> list[str]:
        # CORS is for the browser origins we know; a wildcard would let any site read responses.
        for origin in origins:
            if origin == "*" or not origin.startswith(("https://", "http://")):
                raise ValueError(f"CORS origin {origin!r} must be an explicit http(s) origin")
        return [origin.rstrip("/") for origin in origins]

    @model_validator(mode="after")
    def _secrets_required_in_production(self) -> Settings:
        if self.env == "production":
            for name, value in (("SECRET_KEY", self.secret_key), ("AUDIT_KEY", self.audit_key)):
                if value is None:
                    raise ValueError(f"PAINDIARY_{name} must be set in production")
                if len(value.encode()) < MIN_SECRET_BYTES:
                    raise ValueError(
                        f"PAINDIARY_{name} must be at least {MIN_SECRET_BYTES} bytes in production"
                    )
            if self.audit_key == self.secret_key:
                # One leaked key must not both mint tokens and rewrite the audit trail.
                raise ValueError("PAINDIARY_AUDIT_KEY must differ from PAINDIARY_SECRET_KEY")
        return self

    def signing_key(self) -> str:
        """The JWT key: the configured secret, or in development one generated once into var/."""
        if self.secret_key is not None:
            return self.secret_key
        if self.env == "production":  # pragma: no cover - guarded by the validator
            raise RuntimeError("no secret key")
        return _generated("secret_key")

    def audit_signing_key(self) -> bytes:
        """The audit chain's HMAC key: the configured one, or in development one generated once
        into var/ (like the JWT key; keep var/ when you keep the database)."""
        if self.audit_key is not None:
            return self.audit_key.encode()
        if self.env == "production":  # pragma: no cover - guarded by the validator
            raise RuntimeError("no audit key")
        return _generated("audit_key").encode()


def _generated(name: str) -> str:
    """A development secret, generated once into ``var/<name>`` (mode 0600) and reused."""
    path = VAR_DIR / name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
