"""Known-vulnerability audit of paindiary's dependencies (``make audit``, part of ``make test``).

1. pip-audit checks every installed distribution that paindiary[dev] needs, at its exact
   version, against PyPI's advisory data.
2. Where pip-audit cannot get an answer (its per-release endpoint is not reachable on every
   network, e.g. behind a registry mirror), the project's PyPI JSON is asked instead. That
   lists the advisories of the *newest* release: exact when we run the newest release (the
   usual case, as nothing pins old versions); for an older one, advisories already fixed
   before the newest release cannot be seen, and the report says so loudly.
3. Any advisory not on the allow-list below fails the audit. If no advisory service answers
   at all, the audit says so loudly and does not fail (CI must not depend on it), but it never
   reports "no vulnerabilities" for what it could not check.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PROJECT = "paindiary"
EXTRAS = ("dev",)
PYPI_JSON = "https://pypi.org/pypi/{name}/json"

# Advisories that do not apply to paindiary, each with the reason. Nothing else is ignored.
ALLOWED: dict[str, str] = {
    # ecdsa: Minerva timing side channel in ECDSA *signing* (CVE-2024-23342; the ecdsa
    # maintainers consider side channels out of scope, so no fixed release exists). It arrives
    # only as a dependency of python-jose. paindiary signs and verifies JWTs with HMAC only:
    # Settings.jwt_algorithm allows HS256/384/512 and app/security/tokens.py refuses every
    # other algorithm, so no ECDSA key is ever used.
    # Matched with its aliases too (PYSEC-2026-1325, CVE-2024-23342).
    "GHSA-wj6h-64fc-37mp": "ecdsa timing side channel; paindiary uses no ECDSA (HMAC JWTs only)",
}


@dataclass
class Finding:
    package: str
    version: str
    advisory: str
    aliases: list[str] = field(default_factory=list)
    fixed_in: list[str] = field(default_factory=list)

    @property
    def allowed_because(self) -> str | None:
        for name in (self.advisory, *self.aliases):
            if name in ALLOWED:
                return ALLOWED[name]
        return None


def dependency_closure() -> dict[str, str]:
    """Installed name → version for everything paindiary and its dev extra pull in."""
    found: dict[str, str] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(f"{PROJECT}[{','.join(EXTRAS)}]")]
    while todo:
        req = todo.pop()
        name = str(canonicalize_name(req.name))
        # By name *and* extras: "uvicorn" and "uvicorn[standard]" pull in different things.
        if (name, frozenset(req.extras)) in visited:
            continue
        visited.add((name, frozenset(req.extras)))
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency for another platform or Python
        if name != PROJECT:
            found[name] = dist.version
        for line in dist.requires or []:
            child = Requirement(line)
            env = [{"extra": extra} for extra in (req.extras or {""})]
            if child.marker is None or any(child.marker.evaluate(e) for e in env):
                todo.append(child)
    return found


def run_pip_audit(packages: dict[str, str]) -> tuple[list[Finding], set[str]]:
    """Findings from pip-audit, and the packages it could not check."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("".join(f"{n}=={v}\n" for n, v in sorted(packages.items())))
        requirements = Path(handle.name)
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--disable-pip",
                "--no-deps",
                "-r",
                str(requirements),
                "-f",
                "json",
                "--progress-spinner",
                "off",
                "--desc",
                "off",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        requirements.unlink()
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit gave no report (exit {result.returncode}):\n{result.stderr[-2000:]}")
        return [], set(packages)
    findings: list[Finding] = []
    unchecked: set[str] = set()
    for dep in report.get("dependencies", []):
        name = str(canonicalize_name(dep["name"]))
        if "skip_reason" in dep:
            unchecked.add(name)
            continue
        for vuln in dep.get("vulns", []):
            findings.append(
                Finding(
                    name,
                    dep["version"],
                    vuln["id"],
                    vuln.get("aliases", []),
                    vuln.get("fix_versions", []),
                )
            )
    return findings, unchecked


def project_json_fallback(
    packages: dict[str, str], names: set[str]
) -> tuple[list[Finding], list[str], list[str]]:
    """Findings, packages older than their newest release (partly checked), unreachable ones."""
    findings: list[Finding] = []
    older: list[str] = []
    unreachable: list[str] = []
    with httpx.Client(timeout=15, follow_redirects=True) as client, ThreadPoolExecutor(8) as pool:
        answers = pool.map(lambda name: (name, _project_json(client, name)), sorted(names))
        for name, data in answers:
            if data is None:
                unreachable.append(name)
                continue
            version = packages[name]
            newest = data["info"]["version"]
            if newest != version:
                older.append(f"{name} {version} (newest {newest})")
            for vuln in data.get("vulnerabilities") or []:
                if vuln.get("withdrawn"):
                    continue
                fixed = vuln.get("fixed_in") or []
                # Listed for the newest release; for an older one it applies unless fixed
                # in a release at or below ours.
                if newest != version and any(_not_after(f, version) for f in fixed):
                    continue
                findings.append(Finding(name, version, vuln["id"], vuln.get("aliases", []), fixed))
    return findings, older, unreachable


def _project_json(client: httpx.Client, name: str) -> dict[str, Any] | None:
    try:
        response = client.get(PYPI_JSON.format(name=name))
        response.raise_for_status()
        data: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return data


def _not_after(fixed: str, version: str) -> bool:
    try:
        return Version(fixed) <= Version(version)
    except InvalidVersion:
        return False


def main() -> int:
    packages = dependency_closure()
    print(f"auditing {len(packages)} distributions that {PROJECT}[{','.join(EXTRAS)}] needs")
    findings, unchecked = run_pip_audit(packages)
    print(
        f"pip-audit checked {len(packages) - len(unchecked)}; "
        f"asking PyPI's project data for {len(unchecked)}"
    )
    more, older, unreachable = project_json_fallback(packages, unchecked)
    findings += more

    # One advisory is often listed under several ids; report each once.
    seen: set[tuple[str, frozenset[str]]] = set()
    failures = 0
    for finding in findings:
        key = (finding.package, frozenset({finding.advisory, *finding.aliases}))
        if key in seen:
            continue
        seen.add(key)
        reason = finding.allowed_because
        status = f"allowed: {reason}" if reason else "NOT ALLOWED"
        failures += reason is None
        print(
            f"  {finding.package} {finding.version}: {finding.advisory} "
            f"{' '.join(finding.aliases)} fixed in {finding.fixed_in or 'none'} -> {status}"
        )
    if older:
        print(
            "NOTE: older than their newest release, so advisories fixed in between cannot be "
            "seen from here (upgrade them or audit where pip-audit reaches PyPI fully):"
        )
        print("".join(f"  {line}\n" for line in older), end="")
    if unreachable:
        print(
            f"NOTE: could not reach the advisory service for {len(unreachable)} packages; "
            f"they were NOT checked: {', '.join(unreachable)}"
        )
    if failures:
        print(
            f"audit FAILED: {failures} advisories apply and are not on the allow-list "
            "(tools/audit_deps.py); upgrade, or allow-list with the reason it does not apply"
        )
        return 1
    checked = len(packages) - len(unreachable)
    verdict = "passed" if not unreachable else "INCOMPLETE (no advisory service answered)"
    print(
        f"audit {verdict}: {checked} of {len(packages)} distributions checked, no advisory "
        "outside the allow-list"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
