"""app.trends stays pure: stdlib, numpy and scipy only (load.py, the SQL, is the exception)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

TRENDS = Path(__file__).resolve().parents[2] / "app" / "trends"
ALLOWED_THIRD_PARTY = frozenset({"numpy", "scipy"})
FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "pydantic")


def imported_modules(source: str) -> set[str]:
    """Absolute module names imported anywhere in ``source`` (relative imports stay inside)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def disallowed(modules: set[str]) -> set[str]:
    bad: set[str] = set()
    for module in modules:
        top = module.split(".")[0]
        if top == "app":
            if module != "app.trends" and not module.startswith("app.trends."):
                bad.add(module)
        elif top not in sys.stdlib_module_names and top not in ALLOWED_THIRD_PARTY:
            bad.add(module)
    return bad


def trend_files() -> list[Path]:
    return sorted(path for path in TRENDS.glob("*.py") if path.name != "load.py")


def test_there_are_trend_modules_to_check() -> None:
    names = {path.name for path in trend_files()}
    assert {"windows.py", "metrics.py", "stats.py", "relief.py", "report.py"} <= names


@pytest.mark.parametrize("path", trend_files(), ids=lambda path: path.name)
def test_trend_module_imports_only_stdlib_numpy_scipy(path: Path) -> None:
    assert disallowed(imported_modules(path.read_text(encoding="utf-8"))) == set()


@pytest.mark.parametrize(
    "source",
    [
        *(f"import {name}" for name in FORBIDDEN),
        *(f"from {name} import x" for name in FORBIDDEN),
        "from app.models import Episode",
        "import app.db",
        "def f():\n    from sqlalchemy.orm import Session",
    ],
)
def test_the_checker_catches_forbidden_imports(source: str) -> None:
    assert disallowed(imported_modules(source))


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np",
        "from scipy.stats import mannwhitneyu",
        "from app.trends.days import local_day",
        "from . import days",
        "from __future__ import annotations",
        "import zoneinfo",
    ],
)
def test_the_checker_allows_pure_imports(source: str) -> None:
    assert disallowed(imported_modules(source)) == set()
