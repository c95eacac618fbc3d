"""Configuration from the environment (prefix ``PAINDIARY_``), built on demand, never at import."""

from __future__ import annotations

import ipaddress
import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

VAR_DIR = Path("var")
DEFAULT_MAIL_DIR = VAR_DIR / "mail"
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
    # Client addresses come from X-Forwarded-For only when the connecting peer is one of these
    # proxies (IP addresses or networks, comma-separated or a JSON list); empty: never.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Rate limits (counted in the database, so they hold across workers and hosts).
    # Password checks (app/services/identity/signin.py): failures are counted per (account,
    # client address), per address and per account, each with this many free failures, then
    # delays doubling from 1 s up to the cap. A pair's failures are one guesser's; the address
    # and account counts are shared by strangers, so they start far later and only slow down.
    login_free_failures_per_pair: int = Field(default=5, ge=1)
    login_free_failures_per_ip: int = Field(default=20, ge=1)
    login_free_failures_per_account: int = Field(default=100, ge=1)
    login_max_delay_seconds: int = Field(default=900, ge=1, le=86_400)
    login_max_shared_delay_seconds: int = Field(default=60, ge=1, le=86_400)
    login_failure_memory_seconds: int = Field(default=86_400, ge=60, le=86_400)
    # Registrations, and separately password-reset requests, per client IP within the window.
    register_max_per_ip: int = Field(default=10, ge=1)
    register_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    export_max_per_patient: int = Field(default=10, ge=1)
    export_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    # POST /me/import attempts per patient (each may carry up to max_import_body_bytes).
    import_max_per_patient: int = Field(default=5, ge=1)
    import_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    # Verification and reset codes entered per client IP within the window (each code also
    # dies after its own 5 wrong tries).
    code_attempts_per_ip: int = Field(default=30, ge=1)
    code_attempts_window_seconds: int = Field(default=900, ge=1, le=86_400)
    # E-mails (codes, notices) per address within an hour; beyond, requests are answered
    # alike but send nothing, so nobody can flood a mailbox through us.
    mails_per_address_per_hour: int = Field(default=5, ge=1)
    # E-mail: "required" refuses password sign-in until the address is confirmed with the
    # code we mailed; "off" lets new accounts sign in at once. Default: required in
    # production, off in development and tests (so make run and make demo need no mail).
    email_verification: Literal["required", "off"] | None = None
    code_ttl_seconds: int = Field(default=15 * 60, ge=1, le=86_400)
    # Outgoing mail: SMTP when a host is set, else .eml files in mail_dir (not in production).
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65_535)
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = Field(default=None, repr=False)
    # A CA bundle for an SMTP server whose certificate a private CA signed (default: the
    # system's trusted CAs).
    smtp_ca_file: Path | None = None
    smtp_timeout_seconds: int = Field(default=10, ge=1, le=300)
    mail_from: str = "paindiary <no-reply@paindiary.example>"
    mail_dir: Path = DEFAULT_MAIL_DIR
    # The clinician web app (/clinic/): a web session ends after this long without a request
    # (idle) and this long after sign-in whatever happens (absolute): HIPAA automatic logoff.
    web_idle_timeout_seconds: int = Field(default=15 * 60, ge=1, le=86_400)
    web_absolute_timeout_seconds: int = Field(default=12 * 3600, ge=1, le=7 * 86_400)
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

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_addresses_only(cls, proxies: list[str]) -> list[str]:
        # Addresses or networks only: "*" (or a typo read as a host name) would let any client
        # choose the address the rate limits and the audit trail see.
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted proxy {proxy!r} must be an IP address or network (CIDR)"
                ) from None
        return proxies

    @property
    def verification_required(self) -> bool:
        chosen = self.email_verification or ("required" if self.env == "production" else "off")
        return chosen == "required"

    def mail_problem(self) -> str | None:
        """Why the server must not start with this mail setup (None when it may): requiring
        confirmed addresses in production while codes are only written to files would keep
        every new account from ever signing in."""
        if self.env == "production" and self.smtp_host is None and self.verification_required:
            return (
                "PAINDIARY_SMTP_HOST must be set in production: confirmation and password-reset "
                "codes go out by e-mail (or set PAINDIARY_EMAIL_VERIFICATION=off, and mail is "
                "written to PAINDIARY_MAIL_DIR)"
            )
        return None

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
