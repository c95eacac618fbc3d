"""``paindiary seed-demo``: a demo patient with six months of diary, a clinician and a grant.

So a newcomer sees a real report in a minute. Passwords are random and printed once; running
the command again keeps the data and gives both accounts new random passwords (the old ones
cannot be shown: only their hashes are stored), so it always ends with working credentials.

This is a data-seeding path: the diary rows are inserted in bulk with Core, each with its own
change position from ``records.ChangeSeq`` (as the record services would give them), so the
change feed hands the demo diary to a phone like any other.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.models import (
    Assessment,
    Checkin,
    Episode,
    Medication,
    Patient,
    Series,
    TreatmentSession,
    User,
)
from app.schemas.auth import AdminUserIn, RegisterIn
from app.schemas.grants import GrantIn
from app.services.care import grants
from app.services.context import AppContext
from app.services.demo import diary as demo_diary
from app.services.diary import medication_doses
from app.services.identity import accounts
from app.services.identity.sessions import end_all_sign_ins
from app.services.sync.records import ChangeSeq
from app.trends.days import utcnow

PATIENT_EMAIL = "demo@paindiary.example"
CLINICIAN_EMAIL = "dr.demo@paindiary.example"
SERIES_NAME = "Ketamine IV series 1"
SERVER_URL = "http://127.0.0.1:8000"
BASE_URL = f"{SERVER_URL}/api/v1"
CLINIC_URL = f"{SERVER_URL}/clinic/"


@dataclass(frozen=True)
class Demo:
    created: bool
    patient_password: str
    clinician_password: str
    patient_id: uuid.UUID
    series_id: uuid.UUID

    @property
    def report_url(self) -> str:
        return f"{BASE_URL}/patients/{self.patient_id}/series/{self.series_id}/report"


def _password() -> str:
    # URL-safe alphabet: pastes into a shell or a form without quoting trouble.
    return secrets.token_urlsafe(15)


def seed_demo(ctx: AppContext) -> Demo:
    """Create the demo (or give its accounts new passwords); each step commits on its own, and a
    run that stopped half-way is completed by the next one."""
    patient_password, clinician_password = _password(), _password()
    with ctx.db.session(write=True) as session:
        clinician_id = _clinician(session, ctx, clinician_password)
        user_id = session.scalar(select(User.id).where(User.email == PATIENT_EMAIL))
        created = user_id is None
        if user_id is None:
            # Created by the operator, so its address counts as confirmed: the demo signs in
            # whether or not the server requires confirmed addresses.
            registered = accounts.create_patient(
                session,
                ctx,
                RegisterIn(
                    email=PATIENT_EMAIL,
                    password=patient_password,
                    display_name="Demo Patient",
                    timezone=demo_diary.TIMEZONE,
                ),
            )
            user_id = registered.id
        else:
            _set_password(session, ctx, user_id, patient_password)
        patient = session.scalar(select(Patient).where(Patient.user_id == user_id))
        assert patient is not None
        if created:
            _profile(patient)
        session.commit()
        # A new grant replaces the clinician's old one: a re-run leaves exactly one.
        grants.create_grant(session, patient, GrantIn(grantee_email=CLINICIAN_EMAIL, access="read"))
        series_id = session.scalar(
            select(Series.id)
            .where(Series.patient_id == patient.id, Series.deleted_at.is_(None))
            .order_by(Series.created_at)
        )
        if series_id is None:
            series_id = _diary(session, patient.id, clinician_id)
            session.commit()
        return Demo(created, patient_password, clinician_password, patient.id, series_id)


def _clinician(session: Session, ctx: AppContext, password: str) -> uuid.UUID:
    clinician_id = session.scalar(select(User.id).where(User.email == CLINICIAN_EMAIL))
    if clinician_id is None:
        data = AdminUserIn(
            email=CLINICIAN_EMAIL, password=password, display_name="Dr. Demo", role="clinician"
        )
        return accounts.create_staff_user(session, ctx, data).id
    _set_password(session, ctx, clinician_id, password)
    session.commit()
    return clinician_id


def _profile(patient: Patient) -> None:
    patient.birth_year = 1968
    patient.weight_kg = demo_diary.WEIGHT_KG
    patient.ichd3_type = "classical"
    patient.side = "right"
    patient.branches = ["V2", "V3"]
    patient.concomitant_continuous_pain = False
    patient.diagnosed_on = date(2019, 5, 14)
    patient.version += 1


def _set_password(session: Session, ctx: AppContext, user_id: uuid.UUID, password: str) -> None:
    session.execute(
        update(User).where(User.id == user_id).values(password_hash=ctx.passwords.hash(password))
    )
    # As a password change does: the old sign-ins end (API and web).
    end_all_sign_ins(session, user_id, reason="password_changed")


def _diary(session: Session, patient_id: uuid.UUID, clinician_id: uuid.UUID) -> uuid.UUID:
    """Insert the series, its sessions and the synthetic diary (the caller commits)."""
    series_id = uuid.uuid4()
    now = utcnow()
    diary = demo_diary.generate(now, series_id, clinician_id)
    medication: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": "Carbamazepine",
        "dose_mg_per_day": 600.0,
        "started_on": date(2024, 9, 2),
        "stopped_on": None,
    }
    series: dict[str, Any] = {
        "id": series_id,
        "name": SERIES_NAME,
        "modality": "ketamine_iv",
        "protocol": "0.5 mg/kg IV over 40 min; 6 sessions on Mon/Wed/Fri over two weeks",
        "planned_sessions": 6,
        "baseline_days": 28,
        "follow_up_days": 84,
    }
    batches: list[tuple[Any, list[dict[str, Any]]]] = [
        (Medication, [medication]),
        (Series, [series]),
        (TreatmentSession, [{**row, "series_id": series_id} for row in diary.sessions]),
        (Episode, diary.episodes),
        (Checkin, diary.checkins),
        (Assessment, diary.assessments),
    ]
    seq = ChangeSeq(session, patient_id, count=sum(len(rows) for _, rows in batches))
    for model, rows in batches:
        stamped = [
            {
                **row,
                "patient_id": patient_id,
                "version": 1,
                "change_seq": seq.take(),
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ]
        session.execute(insert(model), stamped)
    # Its dose history: the one dose from its start.
    medication_doses.store(
        session,
        patient_id,
        medication["id"],
        (),
        ((medication["started_on"], medication["dose_mg_per_day"]),),
    )
    return series_id


def instructions(demo: Demo) -> str:
    """What ``seed-demo`` prints: the credentials and how to fetch the report."""
    state = "created" if demo.created else "already there (data kept; new passwords)"
    token = (
        f"TOKEN=$(curl -s -d grant_type=password -d username={CLINICIAN_EMAIL} "
        f"-d password={demo.clinician_password} {BASE_URL}/auth/token "
        """| python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"""
    )
    return "\n".join(
        [
            f"Demo {state}.",
            "",
            f"  patient:    {PATIENT_EMAIL}  password: {demo.patient_password}",
            f"  clinician:  {CLINICIAN_EMAIL}  password: {demo.clinician_password}",
            "",
            f"Start the server (make run), open {CLINIC_URL} and sign in as the clinician",
            f"({CLINICIAN_EMAIL} and the password above).",
            "",
            f"  patient id: {demo.patient_id}",
            f"  series id:  {demo.series_id}",
            "",
            "Or through the API, as the clinician (tokens last 15 minutes):",
            f"  {token}",
            f'  curl -s -H "Authorization: Bearer $TOKEN" -o report.html {demo.report_url}',
            "then open report.html in a browser, or use /docs (Authorize) with the same account.",
            f"Report URL: {demo.report_url}",
        ]
    )
