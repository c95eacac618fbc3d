"""Builders for diary bodies, shared by the diary tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def ago(**delta: float) -> str:
    """An aware timestamp in the past, with an offset as the contract requires."""
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


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
