"""Alembic, driven from code: the CLI's ``migrate``, ``/readyz`` and the tests use this."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.db import normalise_url


def migrations_dir() -> Path:
    """``migrations/`` beside the package (a checkout), else in the working directory (an image)."""
    override = os.environ.get("PAINDIARY_MIGRATIONS_DIR")
    if override:
        return Path(override)
    beside = Path(__file__).resolve().parent.parent / "migrations"
    return beside if beside.is_dir() else Path.cwd() / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads())
