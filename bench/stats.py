"""Percentiles and latency summaries (pure; the harness's smoke tests cover them)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1): always an observed value, so a p99
    of 200 samples is the 198th smallest, not an interpolation between two requests."""
    if not values:
        raise ValueError("no values")
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must lie in 0..1")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latency:
    """Latencies in milliseconds."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        ms = [s * 1000 for s in seconds]
        return cls(
            count=len(ms),
            p50=percentile(ms, 0.50),
            p90=percentile(ms, 0.90),
            p99=percentile(ms, 0.99),
            max=max(ms),
        )

    def __str__(self) -> str:
        return (
            f"p50 {self.p50:.1f} ms, p90 {self.p90:.1f} ms, p99 {self.p99:.1f} ms (n={self.count})"
        )


def ratio(numerator: float, denominator: float) -> float:
    if denominator <= 0:
        raise ValueError("the denominator of a ratio must be positive")
    return numerator / denominator
