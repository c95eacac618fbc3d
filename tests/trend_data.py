"""Test data for the trend tests: diary through HTTP, series and sessions straight into the tables.

The series and session endpoints land on another branch; until then ``add_series`` and
``add_session`` write the rows the way those endpoints will (per-patient change positions via
``records.ChangeSeq``), so swapping them for HTTP calls later changes no test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from app.models import Series, TreatmentSession
from app.services.context import AppContext
from app.services.sync.records import ChangeSeq
from app.services.sync.sql import table_of
from app.trends.days import utcnow
from tests.diary import series_url as series_url
from tests.helpers import Account

API = "/api/v1"


def add_series(
    ctx: AppContext,
    patient_id: uuid.UUID,
    *,
    name: str = "Ketamine IV series",
    modality: str = "ketamine_iv",
    baseline_days: int = 28,
    follow_up_days: int = 84,
    protocol: str | None = None,
    planned_sessions: int | None = None,
) -> uuid.UUID:
    series_id = uuid.uuid4()
    now = utcnow()
    with ctx.db.session(write=True) as session:
        seq = ChangeSeq(session, patient_id)
        session.execute(
            insert(Series).values(
                id=series_id,
                patient_id=patient_id,
                name=name,
                modality=modality,
                protocol=protocol,
                planned_sessions=planned_sessions,
                baseline_days=baseline_days,
                follow_up_days=follow_up_days,
                version=1,
                change_seq=seq.take(),
                created_at=now,
                updated_at=now,
            )
        )
        session.commit()
    return series_id


def add_session(
    ctx: AppContext,
    patient_id: uuid.UUID,
    series_id: uuid.UUID,
    started_at: str,
    *,
    completed: bool = True,
    pain_before: int | None = None,
    pain_after: int | None = None,
    adverse_effects: Sequence[tuple[str, str]] = (),
    notes: str | None = None,
    route: str = "iv",
    dose_mg: float | None = 36.0,
    dose_mg_per_kg: float | None = 0.5,
) -> uuid.UUID:
    """A session; ``started_at`` is an RFC 3339 timestamp with an offset."""
    session_id = uuid.uuid4()
    now = utcnow()
    with ctx.db.session(write=True) as session:
        seq = ChangeSeq(session, patient_id)
        session.execute(
            insert(TreatmentSession).values(
                id=session_id,
                patient_id=patient_id,
                series_id=series_id,
                started_at=datetime.fromisoformat(started_at),
                duration_minutes=40,
                route=route,
                dose_mg=dose_mg,
                dose_mg_per_kg=dose_mg_per_kg,
                pain_before=pain_before,
                pain_after=pain_after,
                adverse_effects=[{"effect": e, "severity": s} for e, s in adverse_effects],
                completed=completed,
                notes=notes,
                recorded_by=uuid.uuid4(),
                recorded_by_role="clinician",
                version=1,
                change_seq=seq.take(),
                created_at=now,
                updated_at=now,
            )
        )
        session.commit()
    return session_id


def delete_row(
    ctx: AppContext, model: type[Series] | type[TreatmentSession], row_id: uuid.UUID
) -> None:
    """Tombstone a series or session as its DELETE endpoint will."""
    table = table_of(model)
    with ctx.db.session(write=True) as session:
        row = session.execute(select(table).where(table.c.id == row_id)).mappings().one()
        seq = ChangeSeq(session, row["patient_id"])
        session.execute(
            update(table)
            .where(table.c.id == row_id)
            .values(deleted_at=utcnow(), version=row["version"] + 1, change_seq=seq.take())
        )
        session.commit()


# --- the diary, through the API -------------------------------------------------------------


def episode(started_at: str, attacks: int = 1, intensity: int = 5, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "started_at": started_at,
        "duration_seconds": 30,
        "attack_count": attacks,
        "intensity": intensity,
    }
    body.update(fields)
    return body


def upload(client: TestClient, account: Account, episodes: Iterable[dict[str, Any]]) -> list[str]:
    """Upload episodes through the batch endpoint (500 at a time); returns their ids."""
    items = list(episodes)
    for first in range(0, len(items), 500):
        r = client.post(
            f"{API}/patients/me/episodes/batch",
            json={"items": items[first : first + 500]},
            headers=account.headers,
        )
        assert r.status_code == 200, r.text
        statuses = {result["status"] for result in r.json()["results"]}
        assert statuses <= {"created"}, r.text
    return [item["id"] for item in items]


def checkin(client: TestClient, account: Account, day: str, **fields: Any) -> None:
    r = client.put(f"{API}/patients/me/checkins/{day}", json=fields, headers=account.headers)
    assert r.status_code in (200, 201), r.text


def no_attack_days(client: TestClient, account: Account, days: Iterable[str]) -> None:
    for day in days:
        checkin(client, account, day, no_attacks=True)
