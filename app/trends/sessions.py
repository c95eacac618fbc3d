"""What the sessions themselves show: acute pain response and adverse effects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from app.trends.inputs import SessionRow


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
