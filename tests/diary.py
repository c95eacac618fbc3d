"""Builders for diary bodies, shared by the diary tests."""

from __future__ import annotations

import uuid
from typing import Any


def episode(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "started_at": "2026-03-01T08:15:00+01:00",
        "duration_seconds": 90,
        "attack_count": 3,
        "intensity": 7,
        "triggers": ["eating"],
    }
    body.update(fields)
    return body


def episode_url(pid: object = "me", eid: object | None = None) -> str:
    base = f"/api/v1/patients/{pid}/episodes"
    return base if eid is None else f"{base}/{eid}"


def new_id() -> str:
    return str(uuid.uuid4())


def checkin_url(pid: object = "me", day: object | None = None) -> str:
    base = f"/api/v1/patients/{pid}/checkins"
    return base if day is None else f"{base}/{day}"


def medication_url(pid: object = "me", mid: object | None = None) -> str:
    base = f"/api/v1/patients/{pid}/medications"
    return base if mid is None else f"{base}/{mid}"


def assessment_url(pid: object = "me", aid: object | None = None) -> str:
    base = f"/api/v1/patients/{pid}/assessments"
    return base if aid is None else f"{base}/{aid}"


def changes_url(pid: object = "me") -> str:
    return f"/api/v1/patients/{pid}/changes"


def medication(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "carbamazepine",
        "dose_mg_per_day": 600,
        "started_on": "2025-11-01",
    }
    body.update(fields)
    return body


def assessment(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "instrument": "gad7",
        "taken_at": "2026-03-01T20:00:00+01:00",
        "items": [1, 0, 2, 1, 0, 1, 0],
    }
    body.update(fields)
    return body


def series_url(pid: object = "me", sid: object | None = None, what: str | None = None) -> str:
    """The series list, one series, or what it offers (``what``: trend, report, chart.svg …)."""
    base = f"/api/v1/patients/{pid}/series"
    url = base if sid is None else f"{base}/{sid}"
    return url if what is None else f"{url}/{what}"


def session_url(sid: object, session_id: object | None = None, pid: object = "me") -> str:
    base = f"{series_url(pid, sid)}/sessions"
    return base if session_id is None else f"{base}/{session_id}"


def series(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Ketamine IV, spring", "modality": "ketamine_iv"}
    body.update(fields)
    return body


def treatment_session(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "started_at": "2026-03-02T09:00:00+01:00",
        "duration_minutes": 40,
        "route": "iv",
    }
    body.update(fields)
    return body
