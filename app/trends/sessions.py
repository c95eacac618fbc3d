"""What the sessions themselves show: acute response, dose, vitals and adverse effects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from app.trends.inputs import SessionRow, Vitals


@dataclass(frozen=True)
class AcuteResponse:
    """Pain before and after completed sessions scored on both (paired means)."""

    sessions_scored: int
    mean_pain_before: float | None
    mean_pain_after: float | None
    mean_drop: float | None


def acute_response(completed_sessions: Iterable[SessionRow]) -> AcuteResponse:
    """Means over the completed sessions that carry both ``pain_before`` and ``pain_after``.

    Only paired sessions count, so ``mean_drop == mean_pain_before - mean_pain_after``.
    """
    pairs = [
        (session.pain_before, session.pain_after)
        for session in completed_sessions
        if session.pain_before is not None and session.pain_after is not None
    ]
    if not pairs:
        return AcuteResponse(0, None, None, None)
    before = Fraction(sum(pain for pain, _ in pairs), len(pairs))
    after = Fraction(sum(pain for _, pain in pairs), len(pairs))
    return AcuteResponse(len(pairs), float(before), float(after), float(before - after))


def total_mg_per_kg(completed_sessions: Sequence[SessionRow]) -> float | None:
    """Σ dose_mg_per_kg over the completed sessions; ``None`` if one of them lacks it."""
    doses = [session.dose_mg_per_kg for session in completed_sessions]
    if any(dose is None for dose in doses):
        return None
    return sum(dose for dose in doses if dose is not None)


def _extreme(values: Iterable[int | None], pick: Callable[[Iterable[int]], int]) -> int | None:
    present = [value for value in values if value is not None]
    return pick(present) if present else None


def vitals(sessions: Sequence[SessionRow]) -> Vitals:
    """The highest blood pressure and heart rate and the lowest SpO₂ over the sessions."""
    recorded = [session.vitals for session in sessions]
    return Vitals(
        systolic_max=_extreme((v.systolic_max for v in recorded), max),
        diastolic_max=_extreme((v.diastolic_max for v in recorded), max),
        heart_rate_max=_extreme((v.heart_rate_max for v in recorded), max),
        spo2_min=_extreme((v.spo2_min for v in recorded), min),
    )


def adverse_effects(sessions: Iterable[SessionRow]) -> dict[str, int]:
    """Sessions, completed or not, reporting each effect (once per session), keys sorted.

    Incomplete sessions count: a session stopped for side effects matters most.
    """
    counts = Counter(
        effect
        for session in sessions
        for effect in {effect for effect, _ in session.adverse_effects}
    )
    return dict(sorted(counts.items()))
