"""The database itself refuses bad diary rows, whatever code writes them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Table, insert
from sqlalchemy.exc import DataError, IntegrityError

from app.models import Assessment, Checkin, Episode, Medication
from app.services.context import AppContext
from app.services.sync.sql import table_of
from tests.helpers import Api

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _sync(patient_id: uuid.UUID) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "version": 1,
        "change_seq": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _episode(patient_id: uuid.UUID, **bad: Any) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "started_at": NOW,
        "started_offset_minutes": 60,
        "duration_seconds": 60,
        "attack_count": 1,
        "intensity": 5,
        "branch_mask": 0,
        "quality_mask": 0,
        "trigger_mask": 0,
        **_sync(patient_id),
    }
    return row | bad


def _checkin(patient_id: uuid.UUID, **bad: Any) -> dict[str, Any]:
    return {"local_date": date(2026, 3, 1), "no_attacks": True, **_sync(patient_id)} | bad


def _medication(patient_id: uuid.UUID, **bad: Any) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "name": "baclofen",
        "dose_mg_per_day": 30.0,
        "started_on": date(2026, 1, 1),
        **_sync(patient_id),
    }
    return row | bad


def _assessment(patient_id: uuid.UUID, **bad: Any) -> dict[str, Any]:
    row = {
        "id": uuid.uuid4(),
        "instrument": "pgic",
        "taken_at": NOW,
        "items": [2],
        "total": 2,
        **_sync(patient_id),
    }
    return row | bad


CASES: list[tuple[type[Any], Any, dict[str, Any]]] = [
    (Episode, _episode, {"intensity": 0}),
    (Episode, _episode, {"intensity": 11}),
    (Episode, _episode, {"duration_seconds": 0}),
    (Episode, _episode, {"duration_seconds": 86401}),
    (Episode, _episode, {"attack_count": 1001}),
    (Episode, _episode, {"side": "top"}),
    (Episode, _episode, {"trigger_mask": 1 << 14}),
    (Episode, _episode, {"quality_mask": -1}),
    (Episode, _episode, {"branch_mask": 8}),
    (Episode, _episode, {"note": "x" * 2001}),
    (Episode, _episode, {"version": 0}),
    (Episode, _episode, {"started_offset_minutes": 841}),
    (Episode, _episode, {"started_offset_minutes": -841}),
    (Checkin, _checkin, {"background_pain": 11}),
    (Checkin, _checkin, {"mood": -1}),
    (Checkin, _checkin, {"sleep_hours": 25.0}),
    (Checkin, _checkin, {"bni": "VI"}),
    (Medication, _medication, {"dose_mg_per_day": 0.0}),
    (Medication, _medication, {"name": ""}),
    (Medication, _medication, {"stopped_on": date(2025, 12, 31)}),
    (Assessment, _assessment, {"instrument": "bdi"}),
    (Assessment, _assessment, {"total": 8}),
    (Assessment, _assessment, {"instrument": "phq9", "total": 28}),
    (Assessment, _assessment, {"change_seq": 0}),
]


@pytest.mark.parametrize(
    ("model", "build", "bad"), CASES, ids=[f"{m.__name__}-{next(iter(b))}" for m, _, b in CASES]
)
def test_check_constraints_refuse_bad_rows(
    api: Api, ctx: AppContext, model: type[Any], build: Any, bad: dict[str, Any]
) -> None:
    patient_id = api.register().patient_id
    table: Table = table_of(model)
    with ctx.db.engine.connect() as conn:
        conn.execute(insert(table).values(build(patient_id)))  # the good row is accepted
        conn.rollback()
        # PostgreSQL's varchar length is a DataError; every other refusal is a CHECK.
        with pytest.raises((IntegrityError, DataError)):
            conn.execute(insert(table).values(build(patient_id, **bad)))
        conn.rollback()


def test_change_positions_are_unique_per_patient(api: Api, ctx: AppContext) -> None:
    patient_id = api.register().patient_id
    assert patient_id is not None
    table = table_of(Episode)
    with ctx.db.engine.connect() as conn:
        conn.execute(insert(table).values(_episode(patient_id)))
        with pytest.raises(IntegrityError):
            conn.execute(insert(table).values(_episode(patient_id)))
        conn.rollback()
