"""A /me/export document of a given size, as a long-time patient's would look: years of
attacks (most of the bytes), daily check-ins, a few medications and a ketamine series."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from typing import Any

TRIGGERS = ["eating", "chewing", "talking", "touch", "brushing_teeth", "cold_wind", "shaving"]


def document(target_bytes: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def stamp(at: dt.datetime) -> dict[str, Any]:
        text = at.isoformat().replace("+00:00", "Z")
        return {"version": 1, "created_at": text, "updated_at": text, "deleted_at": None}

    series_id = uid()
    start = now - dt.timedelta(days=120)
    doc: dict[str, Any] = {
        "format": "paindiary-export",
        "version": 1,
        "exported_at": now.isoformat(),
        "patient": {
            "id": uid(),
            "display_name": "Bench Patient",
            "timezone": "Europe/Berlin",
            "birth_year": 1968,
            "weight_kg": 71.5,
            "diagnosis": {
                "ichd3_type": "classical",
                "side": "right",
                "branches": ["V2", "V3"],
                "concomitant_continuous_pain": False,
                "diagnosed_on": "2014-05-01",
            },
            **{k: v for k, v in stamp(now - dt.timedelta(days=3000)).items() if k != "deleted_at"},
        },
        "medications": [
            {
                "id": uid(),
                "name": "carbamazepine",
                "dose_mg_per_day": 600,
                "started_on": "2015-01-01",
                **stamp(now - dt.timedelta(days=2900)),
            }
        ],
        "series": [
            {
                "id": series_id,
                "name": "Ketamine IV",
                "modality": "ketamine_iv",
                "protocol": "0.5 mg/kg over 40 min",
                "planned_sessions": 6,
                **stamp(start),
            }
        ],
        "sessions": [
            {
                "id": uid(),
                "series_id": series_id,
                "started_at": (start + dt.timedelta(days=30 + 2 * i)).isoformat(),
                "duration_minutes": 40,
                "route": "iv",
                "dose_mg_per_kg": 0.5,
                "weight_kg": 71.5,
                "pain_before": 8,
                "pain_after": 4,
                "adverse_effects": [{"effect": "dissociation", "severity": "mild"}],
                "notes": "tolerated well",
                "recorded_by": uid(),
                "recorded_by_role": "clinician",
                **stamp(start + dt.timedelta(days=30 + 2 * i, hours=2)),
            }
            for i in range(6)
        ],
        "checkins": [],
        "episodes": [],
    }
    size = len(json.dumps(doc))
    for day in range(1, min(3000, target_bytes // 10_000)):  # check-ins: a few % of the bytes
        date = (now - dt.timedelta(days=day)).date()
        checkin = {
            "date": date.isoformat(),
            "no_attacks": False,
            "background_pain": rng.randrange(0, 5),
            "mood": rng.randrange(3, 9),
            **stamp(now - dt.timedelta(days=day - 1)),
        }
        doc["checkins"].append(checkin)
        size += len(json.dumps(checkin)) + 1
    while size < target_bytes:
        at = now - dt.timedelta(minutes=rng.randrange(60, 3000 * 1440))
        episode = {
            "id": uid(),
            "started_at": at.isoformat(),
            "duration_seconds": rng.randrange(5, 120),
            "attack_count": rng.randrange(1, 20),
            "intensity": rng.randrange(1, 11),
            "side": "right",
            "branches": ["V2"],
            "qualities": ["electric"],
            "triggers": rng.sample(TRIGGERS, 2),
            "rescue_medication": None,
            "note": "woke up with it" if rng.random() < 0.2 else None,
            **stamp(at + dt.timedelta(minutes=5)),
        }
        doc["episodes"].append(episode)
        size += len(json.dumps(episode)) + 1
    body = json.dumps(doc).encode()
    while len(body) > target_bytes and doc["episodes"]:  # the estimate is close, not exact
        del doc["episodes"][-((len(body) - target_bytes) // 300 + 1) :]
        body = json.dumps(doc).encode()
    return body
