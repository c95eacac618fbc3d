"""The patient's view of their audit trail."""

from __future__ import annotations

import uuid
from typing import Literal

from app.schemas.common import Schema, UTCDatetime


class AccessLogEntryOut(Schema):
    at: UTCDatetime
    actor_id: uuid.UUID
    actor_role: Literal["patient", "clinician", "admin", "partner"]
    actor_name: str
    action: Literal["read", "create", "update", "delete", "export", "erase"]
    resource: str
    resource_id: str | None = None
    outcome: Literal["success", "denied", "failed"]
