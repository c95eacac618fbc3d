"""ORM models, one file per aggregate. Importing this package registers every table."""

from app.models.accounts import AccountCode, AuthSession, RefreshToken, RevokedToken, User
from app.models.audit import AuditEntry, AuditSeal
from app.models.clients import PartnerClient
from app.models.diary import Assessment, Checkin, Episode, Medication, MedicationDose
from app.models.grants import Grant
from app.models.idempotency import IdempotencyKey
from app.models.outcomes import OutcomeChange, PatientOutcome, SeriesOutcome
from app.models.patients import Patient
from app.models.rate_limits import RateLimit
from app.models.treatments import Series, TreatmentSession
from app.models.web_sessions import WebSession

__all__ = [
    "AccountCode",
    "Assessment",
    "AuditEntry",
    "AuditSeal",
    "AuthSession",
    "Checkin",
    "Episode",
    "Grant",
    "IdempotencyKey",
    "Medication",
    "MedicationDose",
    "OutcomeChange",
    "PartnerClient",
    "Patient",
    "PatientOutcome",
    "RateLimit",
    "RefreshToken",
    "RevokedToken",
    "Series",
    "SeriesOutcome",
    "TreatmentSession",
    "User",
    "WebSession",
]
