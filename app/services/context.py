"""What the services need besides a database session, built once per application."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.db import Database
from app.security.passwords import PasswordHasher
from app.security.tokens import TokenService
from app.services.mail.sender import Mailer
from app.settings import Settings


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    db: Database
    passwords: PasswordHasher
    tokens: TokenService
    mailer: Mailer

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        return cls(
            settings=settings,
            db=Database(
                settings.database_url,
                pool_size=settings.db_pool_size,
                sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                connect_timeout_seconds=settings.db_connect_timeout_seconds,
                audit_key=settings.audit_signing_key(),
            ),
            passwords=PasswordHasher(
                time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
            ),
            tokens=TokenService(
                key=settings.signing_key(),
                algorithm=settings.jwt_algorithm,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                access_ttl=timedelta(minutes=settings.access_token_minutes),
            ),
            mailer=Mailer(settings),
        )
