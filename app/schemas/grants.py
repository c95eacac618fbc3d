"""Access grants a patient gives to clinicians and partner clients."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, EmailStr, model_validator

from app.schemas.common import Schema, UTCDatetime

AccessLevel = Literal["read", "write"]


class GrantIn(Schema):
    """Exactly one grantee: a clinician by e-mail, or a partner client by its client_id."""

    grantee_email: EmailStr | None = None
    client_id: uuid.UUID | None = None
    access: AccessLevel
    expires_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_grantee(self) -> GrantIn:
        if (self.grantee_email is None) == (self.client_id is None):
            raise ValueError("give exactly one of grantee_email and client_id")
        return self

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "grantee_email": "dr.lee@clinic.example",
                    "access": "read",
                    "expires_at": "2027-06-30T23:59:59+02:00",
                }
            ]
        }
    }


class GrantOut(Schema):
    id: uuid.UUID
    grantee_email: str | None
    client_id: uuid.UUID | None
    grantee_name: str
    access: AccessLevel
    created_at: UTCDatetime
    expires_at: UTCDatetime | None
    revoked_at: UTCDatetime | None
    active: bool
