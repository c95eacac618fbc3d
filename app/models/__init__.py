"""ORM models, one file per aggregate. Importing this package registers every table."""

from app.models.accounts import AuthSession, RefreshToken, User
from app.models.patients import Patient
from app.models.rate_limits import RateLimit

__all__ = ["AuthSession", "Patient", "RateLimit", "RefreshToken", "User"]
