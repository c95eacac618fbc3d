"""Accounts and sign-in."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import EmailStr, Field

from app.schemas.common import DisplayName, Password, Schema, TimeZoneName

# Syntax alone is not enough: special-use domains (.test, .invalid, .local, localhost, …)
# can never receive mail and are refused, so the documented format says so.
Email = Annotated[
    EmailStr,
    Field(
        description="An e-mail address on a public domain; special-use domains such as "
        ".test, .invalid, .local or localhost are refused."
    ),
]


class RegisterIn(Schema):
    email: Email
    password: Password
    display_name: DisplayName
    timezone: TimeZoneName

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "email": "alex@example.org",
                    "password": "correct horse battery",
                    "display_name": "Alex",
                    "timezone": "Europe/Berlin",
                }
            ]
        }
    }


class AdminUserIn(Schema):
    email: Email
    password: Password
    display_name: DisplayName
    role: Literal["clinician", "admin"]

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "email": "dr.lee@clinic.example",
                    "password": "a long clinic password",
                    "display_name": "Dr Lee",
                    "role": "clinician",
                }
            ]
        }
    }


class PasswordChangeIn(Schema):
    current_password: str = Field(max_length=1024)
    new_password: Password

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "current_password": "the old pass phrase",
                    "new_password": "a longer, fresher pass phrase",
                }
            ]
        }
    }


class UserOut(Schema):
    id: uuid.UUID
    email: str
    display_name: str
    role: Literal["patient", "clinician", "admin"]
    patient_id: uuid.UUID | None = None


class TokenOut(Schema):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str | None = None
    scope: str = ""
