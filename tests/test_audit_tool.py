"""The dependency audit's own logic (no network): what it audits and what it lets pass."""

from __future__ import annotations

from tools.audit_deps import ALLOWED, Finding, _not_after, dependency_closure


def test_closure_covers_runtime_dev_and_transitive_dependencies() -> None:
    packages = dependency_closure()
    assert "paindiary" not in packages
    for name in ("fastapi", "sqlalchemy", "pytest", "schemathesis", "pip-audit"):
        assert name in packages, name
    assert "ecdsa" in packages  # transitive, through python-jose
    assert "uvloop" in packages  # only through the extra uvicorn[standard]


def test_only_allow_listed_advisories_pass_and_aliases_count() -> None:
    assert ALLOWED, "the allow-list explains each entry; an empty one needs no tool change"
    ecdsa = Finding("ecdsa", "0.19.2", "PYSEC-2026-1325", ["CVE-2024-23342", "GHSA-wj6h-64fc-37mp"])
    assert ecdsa.allowed_because is not None
    other = Finding("ecdsa", "0.19.2", "GHSA-0000-0000-0000", ["CVE-2099-0001"])
    assert other.allowed_because is None


def test_an_advisory_fixed_at_or_below_our_version_is_not_ours() -> None:
    assert _not_after("1.2.0", "1.2.0")
    assert _not_after("1.1.9", "1.2.0")
    assert not _not_after("1.3", "1.2.0")
    assert not _not_after("not-a-version", "1.2.0")
