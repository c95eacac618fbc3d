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


# Six digits, as mailed; the schema says so, so a form can check before sending.
Code = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{6}$",
        min_length=6,
        max_length=6,
        description="The 6-digit code from the e-mail",
        examples=["042917"],
    ),
]


class AcceptedOut(Schema):
    """The answer to a request whose outcome goes to a mailbox: the same whatever the address."""

    detail: str

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "detail": "If the address can receive mail, a message is on its way to it "
                    "with what to do next."
                }
            ]
        }
    }


class CodeConfirmIn(Schema):
    email: Email
    code: Code

    model_config = Schema.model_config | {
        "json_schema_extra": {"examples": [{"email": "alex@example.org", "code": "042917"}]}
    }


class PasswordResetIn(Schema):
    email: Email

    model_config = Schema.model_config | {
        "json_schema_extra": {"examples": [{"email": "alex@example.org"}]}
    }


class PasswordResetConfirmIn(Schema):
    email: Email
    code: Code
    new_password: Password

    model_config = Schema.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "email": "alex@example.org",
                    "code": "042917",
                    "new_password": "a longer, fresher pass phrase",
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
