"""Idempotency-Key for POSTs: a retried request gets the first response back instead of a twin.

Keys live in the database (any worker may get the retry) for at least ``KEY_TTL``: phones stay
offline for long. A key is scoped to the patient and the caller and bound to a fingerprint of
the request (route and canonical body); the same key with another request is a 422.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import ValidationFailed
from app.models.idempotency import KEY_MAX, IdempotencyKey
from app.services.sync.sql import insert_unless_taken, table_of
from app.trends.days import utcnow

KEY_TTL = timedelta(days=30)
HEADER_LOC = ["header", "Idempotency-Key"]

_keys = table_of(IdempotencyKey)


@dataclass(frozen=True)
class Keyed:
    """A request that carries an Idempotency-Key."""

    actor_id: uuid.UUID
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Outcome:
    """A POST's answer as sent, and as replayed to a retry."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def parse_key(value: str) -> str:
    if not 1 <= len(value) <= KEY_MAX or not value.isascii() or not value.isprintable():
        raise ValidationFailed(HEADER_LOC, f"Use 1 to {KEY_MAX} printable ASCII characters.")
    return value


def fingerprint(route: str, body: BaseModel) -> str:
    """The validated body, not the raw bytes: key order, spacing and time-zone spelling of the
    same instant do not make a retry look like another request."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{route}\n{canonical}".encode()).hexdigest()


def keyed(actor_id: uuid.UUID, header: str | None, route: str, body: BaseModel) -> Keyed | None:
    if header is None:
        return None
    return Keyed(actor_id=actor_id, key=parse_key(header), fingerprint=fingerprint(route, body))


def lookup(session: Session, patient_id: uuid.UUID, request: Keyed) -> Outcome | None:
    """The stored first response for this key, or None; 422 if the key served another request."""
    row = session.execute(
        select(_keys.c.fingerprint, _keys.c.status_code, _keys.c.response_body).where(
            _keys.c.patient_id == patient_id,
            _keys.c.actor_id == request.actor_id,
            _keys.c.key == request.key,
        )
    ).first()
    if row is None:
        return None
    if row.fingerprint != request.fingerprint:
        raise ValidationFailed(
            HEADER_LOC,
            "This Idempotency-Key was already used for a different request; use a new key.",
        )
    return Outcome(status_code=row.status_code, body=row.response_body, replayed=True)


def remember(session: Session, patient_id: uuid.UUID, request: Keyed, outcome: Outcome) -> bool:
    """Store the response in the write's own transaction; False if the key is already taken."""
    values = {
        "patient_id": patient_id,
        "actor_id": request.actor_id,
        "key": request.key,
        "fingerprint": request.fingerprint,
        "status_code": outcome.status_code,
        "response_body": outcome.body,
        "created_at": utcnow(),
    }
    return insert_unless_taken(session, _keys, values) is not None
