"""The seeded world the browser tests share (one per engine): the demo patient with six months
of diary and a ketamine series whose relief has ended, under a name holding markup; two more
patients of the demo clinician; and a patient who granted another clinician only.

Patient-entered text carries the two classic payloads: a ``<script>`` element and an attribute
break-out with an ``onerror`` handler. Pages must show them as text and never run them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update

from app.models import Medication, Patient, Series, TreatmentSession, User
from app.schemas.auth import AdminUserIn, RegisterIn
from app.schemas.grants import GrantIn
from app.services.care import grants
from app.services.context import AppContext
from app.services.demo.seed import CLINICIAN_EMAIL, seed_demo
from app.services.identity import accounts

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(1)>'
DEMO_NAME = f"Zoe {BREAKOUT} Demo"  # last by name, first by attention (relief ended)
ANNA_NAME = f"Anna {SCRIPT} Early"  # first by name, no series
REVOKED_NAME = "Bert Revocable"
OTHER_NAME = "Olga Otherclinic"
SERIES_NAME = f"Ketamine {SCRIPT} series"
MEDICATION_NAME = f"Carba{BREAKOUT}mazepine"
NOTE = f"Felt fine {SCRIPT} then {BREAKOUT}"
PASSWORD = "a long test password 1"
OTHER_CLINICIAN = "dr.other@clinic.example"


@dataclass(frozen=True)
class World:
    clinician_email: str
    clinician_password: str
    patient_email: str
    patient_password: str
    demo_id: uuid.UUID
    series_id: uuid.UUID
    anna_id: uuid.UUID
    revoked_id: uuid.UUID
    other_id: uuid.UUID


def build(ctx: AppContext) -> World:
    demo = seed_demo(ctx)
    with ctx.db.session(write=True) as session:
        session.execute(
            update(Patient).where(Patient.id == demo.patient_id).values(display_name=DEMO_NAME)
        )
        session.execute(update(Series).where(Series.id == demo.series_id).values(name=SERIES_NAME))
        # Stopped (which ends no relief) some weeks after the series, so the report lists it.
        last_session = session.scalar(
            select(func.max(TreatmentSession.started_at)).where(
                TreatmentSession.series_id == demo.series_id
            )
        )
        assert last_session is not None
        session.execute(
            update(Medication)
            .where(Medication.patient_id == demo.patient_id)
            .values(name=MEDICATION_NAME, stopped_on=last_session.date() + timedelta(days=60))
        )
        session.execute(
            update(TreatmentSession)
            .where(TreatmentSession.series_id == demo.series_id)
            .values(notes=NOTE)
        )
        session.commit()
        other = accounts.create_staff_user(
            session,
            ctx,
            AdminUserIn(
                email=OTHER_CLINICIAN, password=PASSWORD, display_name="Dr. Other", role="clinician"
            ),
        )
        assert other.id
        ids = []
        for name, grantee in (
            (ANNA_NAME, CLINICIAN_EMAIL),
            (REVOKED_NAME, CLINICIAN_EMAIL),
            (OTHER_NAME, OTHER_CLINICIAN),
        ):
            email = f"{uuid.uuid4().hex[:10]}@patients.example"
            accounts.create_patient(
                session,
                ctx,
                RegisterIn(
                    email=email, password=PASSWORD, display_name=name, timezone="Europe/Berlin"
                ),
            )
            patient = session.scalar(
                select(Patient).join(User, User.id == Patient.user_id).where(User.email == email)
            )
            assert patient is not None
            grants.create_grant(session, patient, GrantIn(grantee_email=grantee, access="read"))
            ids.append(patient.id)
    return World(
        clinician_email=CLINICIAN_EMAIL,
        clinician_password=demo.clinician_password,
        patient_email="demo@paindiary.example",
        patient_password=demo.patient_password,
        demo_id=demo.patient_id,
        series_id=demo.series_id,
        anna_id=ids[0],
        revoked_id=ids[1],
        other_id=ids[2],
    )
