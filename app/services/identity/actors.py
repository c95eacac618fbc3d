"""Who is calling: a signed-in user or a partner client, resolved from an access token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["patient", "clinician", "admin", "partner"]


@dataclass(frozen=True)
class Actor:
    id: uuid.UUID
    role: Role
    display_name: str
    patient_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_client(self) -> bool:
        return self.role == "partner"
