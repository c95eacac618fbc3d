"""The benchmark harness's own arithmetic and report (cheap; no server, no timing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bench import report
from bench.report import Figure, Target
from bench.stats import Latency, percentile


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([5.0], 0.99, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
        ([float(v) for v in range(1, 101)], 0.99, 99.0),
        ([float(v) for v in range(1, 201)], 0.99, 198.0),
        ([3.0, 1.0, 2.0], 1.0, 3.0),
        ([3.0, 1.0, 2.0], 0.0, 1.0),
    ],
)
def test_percentile_is_the_nearest_rank(
    values: list[float], fraction: float, expected: float
) -> None:
    assert percentile(values, fraction) == expected


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)
    with pytest.raises(ValueError, match=r"0\.\.1"):
        percentile([1.0], 1.5)


def test_latency_summary_is_in_milliseconds() -> None:
    latency = Latency.of([0.001] * 98 + [0.010, 0.100])
    assert (latency.p50, latency.p99, latency.max, latency.count) == (1.0, 10.0, 100.0, 100)


def test_targets_judge_and_explain_a_miss() -> None:
    assert Target.at_least(0.2).met(0.25) is True
    assert Target.at_least(0.2).met(0.05) is False
    assert Target.at_most(3).met(3.0) is True
    assert Target.report().met(42.0) is None
    assert Target.at_least(0.2).miss(0.05) == "0.05 is 4.0 times short of 0.2"
    assert Target.at_most(1.5).miss(3.0) == "3 is 2.0 times over 1.5"
    assert Target.at_most(0).miss(2.0) == "2 where none are allowed"
    assert (str(Target.at_least(0.15)), str(Target.at_most(25)), str(Target.report())) == (
        "≥ 0.15",
        "≤ 25",
        "report",
    )


def test_results_show_every_figure_with_its_target_and_status(tmp_path: Path) -> None:
    figures = [
        Figure("PUT ÷ healthz", "SQLite", Target.at_least(0.2), 0.05, "PUT 500 req/s"),
        Figure("feed", "SQLite", Target.at_most(1.5), 1.1, "p50 2 ms"),
        report.not_measured("trend", "SQLite", Target.at_most(1.5), "endpoint GET /x not present"),
    ]
    path = tmp_path / "RESULTS.md"
    text = report.write(
        figures,
        machine={"cores (nproc)": "2"},
        versions={"python": "3.11"},
        commands=["paindiary serve --workers 2"],
        started=dt.datetime.now(dt.UTC),
        path=path,
    )
    assert path.read_text() == text
    assert "| PUT ÷ healthz | SQLite | 0.05 | ≥ 0.2 | MISS | PUT 500 req/s |" in text
    assert "| feed | SQLite | 1.1 | ≤ 1.5 | pass | p50 2 ms |" in text
    assert "| trend | SQLite | — | ≤ 1.5 | not measured | not measured: endpoint GET /x" in text
    assert "**PUT ÷ healthz, SQLite**: 0.05 is 4.0 times short of 0.2." in text
    assert "- cores (nproc): 2" in text
