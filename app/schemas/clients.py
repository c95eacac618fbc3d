"""Partner clients (OAuth2 client credentials), registered by admins."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, field_validator

from app.schemas.common import DisplayName, Schema, UTCDatetime

ScopeName = Literal["diary:read", "diary:write", "reports:read"]


class ClientIn(Schema):
    name: DisplayName
    scopes: list[ScopeName] = Field(min_length=1, max_length=3)

    @field_validator("scopes")
    @classmethod
    def _unique(cls, value: list[ScopeName]) -> list[ScopeName]:
        if len(set(value)) != len(value):
            raise ValueError("scopes must not repeat")
        return sorted(value)

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [{"name": "Clinic EHR bridge", "scopes": ["diary:read", "reports:read"]}]
        }
    }


class ClientOut(Schema):
    client_id: uuid.UUID
    name: str
    scopes: list[ScopeName]
    created_at: UTCDatetime
    disabled_at: UTCDatetime | None


class ClientCreatedOut(Schema):
    """The only response that ever carries the secret: store it now."""

    client_id: uuid.UUID
    client_secret: str
    name: str
    scopes: list[ScopeName]
