"""Who is calling: a signed-in user or a partner client, resolved from an access token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

from app.errors import Forbidden

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


def require_person(actor: Actor, lacking: str) -> None:
    """People only: a partner client has no account, profile or data of its own (403 saying
    what it lacks, e.g. ``"user account"``)."""
    if actor.is_client:
        raise Forbidden(f"Partner clients have no {lacking}.")
