"""The import-layering contracts (``[tool.importlinter]`` in pyproject.toml, docs/architecture.md)
hold on this tree, and each one bites: in a copy of ``app/`` with one forbidden import added,
``lint-imports`` fails naming that contract and that import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` over the ``app`` package found in ``root``, with ``root``'s config."""
    command = [str(LINT_IMPORTS), "--no-cache", *(f"--contract={c}" for c in contracts)]
    return subprocess.run(
        command,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contracts_hold_on_this_tree() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("contract", "module", "line", "offence"),
    [
        (
            "services-know-no-web",
            "app/services/readiness.py",
            "import fastapi",
            "app.services.readiness -> fastapi",
        ),
        (
            "services-know-no-web",
            "app/services/care/grants.py",
            "from starlette.requests import Request",
            "app.services.care.grants -> starlette",
        ),
        (
            "services-know-no-web",
            "app/services/sync/listing.py",
            "from app.problems import render",
            "app.services.sync.listing -> app.problems",
        ),
        ("layers", "app/models/grants.py", "import app.services.care.access", "app.models.grants"),
        ("layers", "app/services/clock.py", "from app.api import responses", "app.services.clock"),
        (
            "api-on-top",
            "app/security/headers.py",
            "from app.api.responses import problems",
            "app.security.headers -> app.api.responses",
        ),
        (
            "errors-know-no-web",
            "app/errors.py",
            "from fastapi import HTTPException",
            "app.errors -> fastapi",
        ),
        (
            "schemas-stand-alone",
            "app/schemas/grants.py",
            "from app.models.diary import NOTE_MAX",
            "app.schemas.grants -> app.models.diary",
        ),
        (
            "trends-pure",
            "app/trends/metrics.py",
            "from app.db import Database",
            "app.trends.metrics -> app.db",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tmp_path: Path, contract: str, module: str, line: str, offence: str
) -> None:
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint_imports(tmp_path, contract).returncode == 0  # the copy is still clean
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    result = lint_imports(tmp_path, contract)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert offence in result.stdout, result.stdout
