"""A realistic synthetic diary for the demo patient: about six months around a ketamine series.

Seeded, so every run draws the same diary relative to "today". The story (CLINICAL.md numbers):
classical TN, right V2+V3, 10-20 attacks a day in volleys (eating, talking, brushing teeth, cold
wind, spontaneous), NRS 6-9, 2-120 s each; six 0.5 mg/kg IV sessions over two weeks; then about
60 % fewer attacks that fade back after six to eight weeks. Some days have no entry at all.
Returns plain column values; ``demo.py`` writes them.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from app.trends.days import at_local, local_day
from app.vocabulary import BRANCHES, QUALITIES, TRIGGERS

TIMEZONE = "Europe/Berlin"
WEIGHT_KG = 72.0
DAYS_BEFORE_FIRST_SESSION = 57  # with ~125 days since the first session: about six months
FIRST_SESSION_DAYS_AGO = 125
SESSION_OFFSETS = (0, 2, 4, 7, 9, 11)  # Monday, Wednesday, Friday for two weeks
BASELINE_ATTACKS_PER_DAY = 15.0
MISSING_DAY_CHANCE = 0.07
# (trigger(s), weight, local hours it happens at)
VOLLEY_KINDS: tuple[tuple[tuple[str, ...], float, tuple[int, ...]], ...] = (
    (("eating", "chewing"), 0.22, (7, 12, 13, 18, 19)),
    (("talking",), 0.18, (9, 10, 11, 14, 15, 16, 17, 20)),
    (("brushing_teeth",), 0.10, (7, 22)),
    (("cold_wind",), 0.08, (8, 9, 16, 17)),
    (("drinking",), 0.05, (8, 12, 15, 19)),
    (("spontaneous",), 0.30, tuple(range(6, 24))),
    ((), 0.07, tuple(range(6, 24))),  # nothing noted: counts as spontaneous too
)
VOLLEY_SIZES = (1, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8)
SESSION_EFFECTS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("dissociation", "mild"), ("nausea", "mild")),
    (("dissociation", "moderate"),),
    (("dissociation", "mild"),),
    (),
    (("dissociation", "mild"), ("headache", "mild")),
    (("nausea", "mild"),),
)
SESSION_NOTES = (
    "Premedication ondansetron 4 mg IV. Dreamlike feeling, settled within 30 minutes.",
    "Felt detached for about 40 minutes; reassured, no intervention needed.",
    None,
    "Well tolerated. Patient reports eating breakfast with fewer attacks.",
    "Mild headache after the infusion, paracetamol 1 g orally.",
    "Last session of the series. Follow-up diary and questionnaires explained.",
)


@dataclass
class DemoDiary:
    """Column values per table (without patient_id, version and change positions)."""

    first_session: date
    episodes: list[dict[str, Any]] = field(default_factory=list)
    checkins: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    assessments: list[dict[str, Any]] = field(default_factory=list)


def _mask(values: tuple[str, ...], members: tuple[str, ...]) -> int:
    return sum(1 << members.index(value) for value in set(values))


def rate_factor(day: date, first: date, last: date) -> float:
    """Attack rate relative to the baseline: down during the series, ~60 % less for six weeks
    after it, back to ~90 % by eight weeks."""
    if day < first:
        return 1.0
    if day <= last:
        return 1.0 - 0.55 * (day - first).days / max(1, (last - first).days)
    after = (day - last).days
    if after <= 42:
        return 0.36
    if after <= 56:
        return 0.36 + (0.9 - 0.36) * (after - 42) / 14
    return 0.9


def _local(day: date, hour: int, rng: random.Random) -> datetime:
    return at_local(day, time(hour, rng.randrange(60), rng.randrange(60)), TIMEZONE)


def _day_episodes(
    day: date, attacks: int, factor: float, rng: random.Random
) -> list[dict[str, Any]]:
    kinds = [kind for kind, _, _ in VOLLEY_KINDS]
    weights = [weight for _, weight, _ in VOLLEY_KINDS]
    hours = {kind: kind_hours for kind, _, kind_hours in VOLLEY_KINDS}
    rows: list[dict[str, Any]] = []
    while attacks > 0:
        size = min(attacks, rng.choice(VOLLEY_SIZES))
        attacks -= size
        triggers = rng.choices(kinds, weights)[0]
        # Relief lowers the intensity a little too (NRS 6-9 untreated).
        intensity = round(rng.uniform(6, 9.4) - 2.0 * (1 - factor))
        duration = sum(
            round(math.exp(rng.uniform(math.log(2), math.log(120)))) for _ in range(size)
        )
        rows.append(
            {
                "id": uuid.uuid4(),
                "started_at": _local(day, rng.choice(hours[triggers]), rng),
                "duration_seconds": duration,
                "attack_count": size,
                "intensity": max(1, min(10, intensity)),
                "side": "right",
                "branch_mask": _mask(rng.choice((("V2",), ("V3",), ("V2", "V3"))), BRANCHES),
                "quality_mask": _mask(rng.choice((("electric",), ("stabbing",))), QUALITIES),
                "trigger_mask": _mask(triggers, TRIGGERS),
            }
        )
    return rows


def _checkin(day: date, attacks: int, factor: float, rng: random.Random) -> dict[str, Any]:
    if attacks == 0:
        bni = "IIIa"
    elif factor > 0.7:
        bni = "V" if attacks > 18 else "IV"
    else:
        bni = "IIIb" if attacks < 8 else "IV"
    return {
        "local_date": day,
        "no_attacks": attacks == 0,
        "bni": bni,
        "background_pain": None,
        "mood": max(0, min(10, round(rng.gauss(7 - 4 * factor, 1.2)))),
        "sleep_hours": round(rng.uniform(5.0, 8.0) - (1.0 if factor > 0.7 else 0.0), 1),
    }


def _session(number: int, day: date, rng: random.Random, recorded_by: uuid.UUID) -> dict[str, Any]:
    before = max(3, 8 - number // 2 + rng.choice((-1, 0, 0, 1)))
    return {
        "id": uuid.uuid4(),
        "started_at": at_local(day, time(9, 30), TIMEZONE),
        "duration_minutes": 40,
        "route": "iv",
        "dose_mg": 0.5 * WEIGHT_KG,
        "dose_mg_per_kg": 0.5,
        "pain_before": before,
        "pain_after": max(0, before - rng.choice((3, 4, 4, 5))),
        "systolic_max": rng.randint(134, 158),
        "diastolic_max": rng.randint(82, 95),
        "heart_rate_max": rng.randint(82, 104),
        "spo2_min": rng.randint(95, 98),
        "adverse_effects": [
            {"effect": effect, "severity": severity} for effect, severity in SESSION_EFFECTS[number]
        ],
        "completed": True,
        "notes": SESSION_NOTES[number],
        "recorded_by": recorded_by,
        "recorded_by_role": "clinician",
        "weight_kg": WEIGHT_KG,
    }


def _assessment(
    instrument: str, day: date, items: list[int], series_id: uuid.UUID | None
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "instrument": instrument,
        "taken_at": at_local(day, time(20, 0), TIMEZONE),
        "items": items,
        "total": sum(items),
        "series_id": series_id,
    }


def generate(
    now: datetime, series_id: uuid.UUID, recorded_by: uuid.UUID, seed: int = 2026
) -> DemoDiary:
    """The demo diary up to ``now`` (ids are random; the numbers depend on ``seed`` only)."""
    rng = random.Random(seed)
    today = local_day(now, TIMEZONE)
    first = today - timedelta(days=FIRST_SESSION_DAYS_AGO)
    first -= timedelta(days=first.weekday())  # the series starts on a Monday
    session_days = [first + timedelta(days=offset) for offset in SESSION_OFFSETS]
    last = session_days[-1]
    diary = DemoDiary(first_session=first)
    # Drawn from a fixed day before the first session: the same story whatever today is.
    for offset in range((today - first).days + DAYS_BEFORE_FIRST_SESSION + 1):
        day = first - timedelta(days=DAYS_BEFORE_FIRST_SESSION - offset)
        factor = rate_factor(day, first, last)
        if rng.random() < MISSING_DAY_CHANCE:
            continue  # the phone stayed in the drawer: a missing day, not a day without attacks
        attacks = max(0, round(rng.gauss(BASELINE_ATTACKS_PER_DAY * factor, 3 * factor + 0.8)))
        episodes = _day_episodes(day, attacks, factor, rng)
        diary.episodes.extend(row for row in episodes if row["started_at"] <= now)
        if attacks == 0 or rng.random() < 0.9:
            diary.checkins.append(_checkin(day, attacks, factor, rng))
    diary.sessions = [
        _session(number, day, rng, recorded_by) for number, day in enumerate(session_days)
    ]
    before = first - timedelta(days=3)
    after, later = last + timedelta(days=28), last + timedelta(days=84)
    diary.assessments = [
        _assessment("phq9", before, [2, 2, 1, 2, 1, 2, 2, 1, 1], None),
        _assessment("gad7", before, [2, 2, 1, 2, 1, 2, 1], None),
        _assessment("penn_fps_r", before, [8, 7, 6, 9, 9, 7, 6, 8, 5, 7, 6, 4], None),
        _assessment("cadss6", session_days[0], [2, 1, 1, 0, 1, 0], series_id),
        _assessment("cadss6", session_days[3], [1, 0, 1, 0, 0, 0], series_id),
        _assessment("phq9", after, [1, 1, 0, 1, 0, 1, 1, 0, 0], series_id),
        _assessment("gad7", after, [1, 1, 0, 1, 0, 1, 0], series_id),
        _assessment("penn_fps_r", after, [3, 2, 2, 4, 3, 3, 2, 3, 1, 3, 2, 1], series_id),
        _assessment("pgic", after, [2], series_id),
    ]
    if later <= today:
        diary.assessments.append(_assessment("phq9", later, [2, 1, 1, 2, 1, 1, 2, 1, 0], series_id))
    return diary
