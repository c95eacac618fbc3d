"""Partner clients (OAuth2 client credentials). Registration arrives with the grants issue."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.errors import Unauthorized
from app.services.actors import Actor


def resolve_client_actor(session: Session, client_id: uuid.UUID, scopes: frozenset[str]) -> Actor:
    # No partner clients exist yet, so no client token can be valid.
    raise Unauthorized("Unknown client.")
