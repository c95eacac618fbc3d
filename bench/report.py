"""Figures, their targets, and bench/RESULTS.md (also printed as a table to stdout)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
NOTES = Path(__file__).resolve().parent / "NOTES.md"


@dataclass(frozen=True)
class Target:
    """``ratio >= value`` (``at_least``), ``ratio <= value`` (``at_most``), or report only."""

    op: str
    value: float | None = None

    @classmethod
    def at_least(cls, value: float) -> Target:
        return cls(">=", value)

    @classmethod
    def at_most(cls, value: float) -> Target:
        return cls("<=", value)

    @classmethod
    def report(cls) -> Target:
        return cls("report")

    def met(self, ratio: float) -> bool | None:
        if self.value is None:
            return None
        return ratio >= self.value if self.op == ">=" else ratio <= self.value

    def miss(self, ratio: float) -> str:
        """How far a missed target is, in words."""
        assert self.value is not None
        if self.value == 0:
            return f"{ratio:g} where none are allowed"
        if self.op == ">=":
            return f"{ratio:.3g} is {self.value / ratio:.1f} times short of {self.value:g}"
        return f"{ratio:.3g} is {ratio / self.value:.1f} times over {self.value:g}"

    def __str__(self) -> str:
        if self.value is None:
            return "report"
        return f"{'≥' if self.op == '>=' else '≤'} {self.value:g}"


@dataclass
class Figure:
    name: str
    engine: str
    target: Target
    ratio: float | None = None  # None: not measured (see note)
    absolute: str = ""
    commands: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def status(self) -> str:
        if self.ratio is None:
            return "not measured"
        met = self.target.met(self.ratio)
        if met is None:
            return "reported"
        return "pass" if met else "MISS"

    @property
    def shown_ratio(self) -> str:
        if self.ratio is None:
            return "—"
        return f"{self.ratio:.3g}" if abs(self.ratio) < 1000 else f"{self.ratio:.0f}"


def not_measured(name: str, engine: str, target: Target, why: str) -> Figure:
    return Figure(name, engine, target, None, note=f"not measured: {why}")


def table(figures: list[Figure]) -> str:
    lines = [
        "| figure | engine | ratio | target | result | absolute (context only) |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        absolute = f.absolute if f.ratio is not None else f.note
        lines.append(
            f"| {f.name} | {f.engine} | {f.shown_ratio} | {f.target} | {f.status} | {absolute} |"
        )
    return "\n".join(lines)


def misses(figures: list[Figure]) -> str:
    out = []
    for f in figures:
        if f.status == "MISS" and f.ratio is not None:
            out.append(f"- **{f.name}, {f.engine}**: {f.target.miss(f.ratio)}. {f.note}".rstrip())
        elif f.note and f.ratio is not None:
            out.append(f"- {f.name}, {f.engine}: {f.note}")
    return "\n".join(out) if out else "- none"


def write(
    figures: list[Figure],
    *,
    machine: dict[str, str],
    versions: dict[str, str],
    commands: list[str],
    started: dt.datetime,
    path: Path = RESULTS,
) -> str:
    elapsed = dt.datetime.now(dt.UTC) - started
    parts = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {started:%Y-%m-%d %H:%M} UTC in "
        f"{elapsed.total_seconds() / 60:.1f} minutes. Each figure is a ratio of two "
        "measurements taken in the same run, because the machine is shared and noisy; the "
        "absolute numbers beside them are context only.",
        "",
        "## Figures",
        "",
        table(figures),
        "",
        "## Misses and notes",
        "",
        misses(figures),
        "",
        "What the profile showed behind each miss, and what would close it: "
        "*What would close the misses*, below.",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in machine.items()),
        "",
        "## Versions",
        "",
        *(f"- {key}: {value}" for key, value in versions.items()),
        "",
        "## Commands",
        "",
        *(f"- `{command}`" for command in commands),
        *(
            f"- {f.name} ({f.engine}): " + "; ".join(f"`{c}`" for c in f.commands)
            for f in figures
            if f.commands
        ),
        "",
    ]
    if NOTES.exists():
        parts += [NOTES.read_text().rstrip(), ""]
    text = "\n".join(parts)
    path.write_text(text)
    return text
