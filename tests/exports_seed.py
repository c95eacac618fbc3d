"""A rich patient for the export tests: profile, diary, treatment series and sessions, all
written through the API as the app would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.diary import (
    assessment_url,
    checkin_url,
    episode,
    episode_url,
    medication_url,
    new_id,
    series,
    series_url,
    session_url,
    treatment_session,
)
from tests.helpers import Account, patch_current

PATIENT_NAME = "Zephyrine Quillfeather"


def add_series(client: TestClient, who: Account, **fields: Any) -> uuid.UUID:
    body = series(**{"name": "Ketamine IV 2026", **fields})
    return uuid.UUID(ok(client.post(series_url(), json=body, headers=who.headers))["id"])


def add_session(client: TestClient, who: Account, series_id: uuid.UUID, **fields: Any) -> uuid.UUID:
    body = treatment_session(**{"started_at": "2026-03-10T09:00:00+01:00", **fields})
    created = ok(client.post(session_url(series_id), json=body, headers=who.headers))
    return uuid.UUID(created["id"])


@dataclass
class Seeded:
    episodes: list[str] = field(default_factory=list)
    deleted_episode: str = ""
    series: list[uuid.UUID] = field(default_factory=list)
    sessions: list[uuid.UUID] = field(default_factory=list)
    deleted_session: uuid.UUID | None = None


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.status_code != 204 else {}


def seed_rich_patient(client: TestClient, who: Account) -> Seeded:
    """Every kind of record, including edits (versions > 1) and deletions."""
    assert who.patient_id is not None
    h = who.headers
    seeded = Seeded()
    # Sessions that give one dose form keep it alone while no weight is known: these first.
    iv = add_series(client, who, protocol="0.5 mg/kg over 40 min", planned_sessions=3)
    nasal = add_series(client, who, name="Spravato", modality="esketamine_nasal")
    seeded.series = [iv, nasal]
    stopped = add_session(
        client,
        who,
        iv,
        started_at="2026-03-14T09:00:00+01:00",
        completed=False,
        dose_mg_per_kg=0.3,
        adverse_effects=[{"effect": "hypertension", "severity": "severe"}],
    )
    by_nose = add_session(
        client,
        who,
        nasal,
        started_at="2026-03-20T10:00:00+01:00",
        route="intranasal",
        duration_minutes=120,
        dose_mg=56.0,
    )
    # A session deleted again: its tombstone is kept for sync but is no longer part of the record.
    seeded.deleted_session = add_session(client, who, iv, started_at="2026-03-11T09:00:00+01:00")
    ok(client.delete(session_url(iv, seeded.deleted_session), headers=h))
    ok(
        patch_current(
            client,
            "/api/v1/patients/me",
            json={
                "birth_year": 1971,
                "weight_kg": 72.5,
                "diagnosis": {
                    "ichd3_type": "classical",
                    "side": "right",
                    "branches": ["V2", "V3"],
                    "concomitant_continuous_pain": True,
                    "diagnosed_on": "2019-05-14",
                },
            },
            headers=h,
        )
    )
    # Both dose forms, cross-checked against the weight now known.
    full = add_session(
        client,
        who,
        iv,
        dose_mg=36.0,
        dose_mg_per_kg=0.5,
        pain_before=8,
        pain_after=3,
        vitals={"systolic_max": 152, "heart_rate_max": 96},
        adverse_effects=[{"effect": "dissociation", "severity": "moderate"}],
        notes="tolerated well",
    )
    seeded.sessions = [full, stopped, by_nose]
    bodies = [
        episode(
            started_at="2026-03-01T08:15:00+01:00",
            intensity=8,
            attack_count=12,
            side="right",
            branches=["V2"],
            qualities=["electric", "stabbing"],
            triggers=["eating", "chewing"],
            rescue_medication="lidocaine spray",
            note="while eating breakfast",
        ),
        episode(
            started_at="2026-03-02T19:40:00+01:00", intensity=5, triggers=[], duration_seconds=20
        ),
        episode(started_at="2026-03-29T03:30:00+02:00", intensity=9, triggers=["cold_wind"]),
        episode(started_at="2026-03-12T12:00:00+01:00", intensity=3, triggers=["talking"]),
    ]
    for body in bodies:
        eid = new_id()
        ok(client.put(episode_url(eid=eid), json=body, headers=h))
        seeded.episodes.append(eid)
    # An edit (version 2) and a deletion (a tombstone the export still holds).
    ok(patch_current(client, episode_url(eid=seeded.episodes[1]), json={"intensity": 6}, headers=h))
    seeded.deleted_episode = seeded.episodes.pop()
    ok(client.delete(episode_url(eid=seeded.deleted_episode), headers=h))
    checkins: dict[str, dict[str, Any]] = {
        "2026-03-01": {
            "no_attacks": False,
            "background_pain": 3,
            "bni": "IV",
            "mood": 4,
            "sleep_hours": 6.5,
            "note": "bad",
        },
        # Not no_attacks: true - the day has an episode (that would be a 409).
        "2026-03-02": {"no_attacks": False, "bni": "IIIa"},
        "2026-03-03": {"no_attacks": False, "mood": 7},
    }
    for day, body in checkins.items():
        ok(client.put(checkin_url(day=day), json=body, headers=h))
    ok(client.delete(checkin_url(day="2026-03-03"), headers=h))
    ok(
        client.post(
            medication_url(),
            json={"name": "carbamazepine", "dose_mg_per_day": 600, "started_on": "2025-11-01"},
            headers=h,
        )
    )
    ok(
        client.post(
            medication_url(),
            json={
                "name": "baclofen",
                "dose_mg_per_day": 30,
                "started_on": "2025-12-01",
                "stopped_on": "2026-02-01",
            },
            headers=h,
        )
    )
    assessments = [
        {
            "instrument": "phq9",
            "taken_at": "2026-03-01T20:00:00+01:00",
            "items": [2, 2, 1, 1, 2, 1, 0, 1, 0],
        },
        {
            "instrument": "gad7",
            "taken_at": "2026-03-01T20:05:00+01:00",
            "items": [1, 0, 2, 1, 0, 1, 0],
        },
        {
            "instrument": "cadss6",
            "taken_at": "2026-03-10T10:00:00+01:00",
            "items": [2, 1, 0, 1, 0, 0],
            "series_id": str(iv),
        },
        {
            "instrument": "pgic",
            "taken_at": "2026-03-25T10:00:00+01:00",
            "items": [2],
            "series_id": str(iv),
        },
    ]
    for body in assessments:
        ok(client.put(assessment_url(aid=new_id()), json=body, headers=h))
    return seeded
