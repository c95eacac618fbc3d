"""ORM models, one file per aggregate. Importing this package registers every table."""

from app.models.accounts import AuthSession, RefreshToken, User
from app.models.audit import AuditEntry
from app.models.grants import Grant, PartnerClient
from app.models.patients import Patient

__all__ = ["AuditEntry", "AuthSession", "Grant", "PartnerClient", "Patient", "RefreshToken", "User"]
