"""ORM models, one file per aggregate. Importing this package registers every table."""

from app.models.accounts import AuthSession, RefreshToken, User
from app.models.diary import Assessment, Checkin, Episode, Medication
from app.models.idempotency import IdempotencyKey
from app.models.patients import Patient

__all__ = [
    "Assessment",
    "AuthSession",
    "Checkin",
    "Episode",
    "IdempotencyKey",
    "Medication",
    "Patient",
    "RefreshToken",
    "User",
]
