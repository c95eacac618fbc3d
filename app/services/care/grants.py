"""A patient's grants: give, list and revoke access for clinicians and partner clients."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.orm import Session

from app.errors import NotFound, ValidationFailed
from app.models import Grant, PartnerClient, Patient, User
from app.schemas.common import Page
from app.schemas.grants import GrantIn, GrantOut
from app.services.sync import listing
from app.trends.days import utcnow

# The same answer for an unknown e-mail and for a patient's or an admin's: a patient learns
# only whether the address belongs to a clinician, which a clinician's address is meant to say.
NO_CLINICIAN = "No clinician account has this e-mail address."
NO_CLIENT = "No active partner client has this client_id."

_COLUMNS = (
    Grant.id,
    Grant.access,
    Grant.created_at,
    Grant.expires_at,
    Grant.revoked_at,
    Grant.client_id,
    User.email,
    func.coalesce(User.display_name, PartnerClient.name).label("grantee_name"),
)


def _select() -> Any:
    return (
        select(*_COLUMNS)
        .outerjoin(User, User.id == Grant.grantee_user_id)
        .outerjoin(PartnerClient, PartnerClient.id == Grant.client_id)
    )


# The patient's history of sharing, newest first.
LIST = listing.Keyset("grants", (Grant.created_at, Grant.id))


def _out(row: RowMapping, now: datetime) -> GrantOut:
    active = row["revoked_at"] is None and (row["expires_at"] is None or row["expires_at"] > now)
    return GrantOut(
        id=row["id"],
        grantee_email=row["email"],
        client_id=row["client_id"],
        grantee_name=row["grantee_name"],
        access=row["access"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        active=active,
    )


def create_grant(session: Session, patient: Patient, data: GrantIn) -> GrantOut:
    """A new grant to someone who already has one replaces it: the old one is revoked now."""
    now = utcnow()
    if data.expires_at is not None and data.expires_at <= now:
        raise ValidationFailed(["body", "expires_at"], "expires_at must be in the future.")
    grant = Grant(patient_id=patient.id, access=data.access, created_at=now)
    grant.expires_at = data.expires_at
    if data.grantee_email is not None:
        user_id = session.scalar(
            select(User.id).where(
                User.email == str(data.grantee_email).strip().lower(), User.role == "clinician"
            )
        )
        if user_id is None:
            raise ValidationFailed(["body", "grantee_email"], NO_CLINICIAN)
        grant.grantee_user_id = user_id
        same_grantee = Grant.grantee_user_id == user_id
    else:
        client_id = session.scalar(
            select(PartnerClient.id).where(
                PartnerClient.id == data.client_id, PartnerClient.disabled_at.is_(None)
            )
        )
        if client_id is None:
            raise ValidationFailed(["body", "client_id"], NO_CLIENT)
        grant.client_id = client_id
        same_grantee = Grant.client_id == client_id
    # Serialise this patient's grant changes (PostgreSQL row lock; SQLite writers hold the lock).
    session.execute(select(Patient.id).where(Patient.id == patient.id).with_for_update())
    session.execute(
        update(Grant)
        .where(Grant.patient_id == patient.id, same_grantee, Grant.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.add(grant)
    session.flush()
    row = session.execute(_select().where(Grant.id == grant.id)).mappings().one()
    session.commit()
    return _out(row, now)


def list_grants(
    session: Session, patient: Patient, *, limit: int, cursor: str | None
) -> Page[GrantOut]:
    """Newest first, revoked and expired ones included: the patient's history of sharing."""
    query = _select().where(Grant.patient_id == patient.id)
    now = utcnow()
    return listing.page(
        session, query, LIST, limit=limit, cursor=cursor, out=lambda row: _out(row, now)
    )


def grant_history(session: Session, patient_id: uuid.UUID) -> list[GrantOut]:
    """Every grant the patient gave, oldest first (for the patient's data export)."""
    query = _select().where(Grant.patient_id == patient_id)
    rows = session.execute(query.order_by(Grant.created_at, Grant.id)).mappings().all()
    now = utcnow()
    return [_out(row, now) for row in rows]


def revoke_grant(session: Session, patient: Patient, grant_id: uuid.UUID) -> None:
    """Takes effect on the grantee's next request. Revoking twice is fine (204 again)."""
    exists = session.scalar(
        select(Grant.id).where(Grant.id == grant_id, Grant.patient_id == patient.id)
    )
    if exists is None:
        raise NotFound("No such grant.")
    session.execute(
        update(Grant)
        .where(Grant.id == grant_id, Grant.patient_id == patient.id, Grant.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    session.commit()
