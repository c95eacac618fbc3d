"""Accounts that someone vouches for (admins, the CLI, the demo), /me, and changing passwords.
Self-registration, with its mailed confirmation, is in registration.py."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidCredentials, Unauthorized
from app.models import Patient, User
from app.schemas.auth import AdminUserIn, PasswordChangeIn, RegisterIn, UserOut
from app.services.context import AppContext
from app.services.identity.actors import Actor, require_person
from app.services.identity.sessions import end_all_sign_ins
from app.services.identity.signin import check_password
from app.trends.days import utcnow


def _user_out(user: User, patient: Patient | None) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,  # type: ignore[arg-type]
        patient_id=patient.id if patient else None,
    )


def _add_user(
    session: Session, ctx: AppContext, *, email: str, password: str, name: str, role: str
) -> User:
    """An account someone vouches for (an admin, the operator's CLI), so its address counts
    as confirmed. A taken address is a 409 here: only admins and operators see it."""
    email = email.strip().lower()
    # Hashed before the first statement opens the transaction: on SQLite a writer's transaction
    # holds the write lock, which must not wait for the deliberately slow hash.
    password_hash = ctx.passwords.hash(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this e-mail already exists.")
    user = User(
        email=email,
        display_name=name,
        role=role,
        password_hash=password_hash,
        email_verified_at=utcnow(),
    )
    session.add(user)
    return user


def create_patient(session: Session, ctx: AppContext, data: RegisterIn) -> UserOut:
    """A patient account and record created by the operator (the demo seed): confirmed."""
    user = _add_user(
        session,
        ctx,
        email=data.email,
        password=data.password,
        name=data.display_name,
        role="patient",
    )
    session.flush()
    patient = Patient(user_id=user.id, display_name=data.display_name, timezone=data.timezone)
    session.add(patient)
    _commit_unique(session)
    return _user_out(user, patient)


def create_staff_user(session: Session, ctx: AppContext, data: AdminUserIn) -> UserOut:
    user = _add_user(
        session,
        ctx,
        email=data.email,
        password=data.password,
        name=data.display_name,
        role=data.role,
    )
    _commit_unique(session)
    return _user_out(user, None)


def create_user_cli(
    session: Session, ctx: AppContext, *, email: str, password: str, role: str, timezone: str
) -> UserOut:
    """The CLI's create-user: any role; a patient also gets its patient record."""
    name = email.split("@", 1)[0]
    user = _add_user(session, ctx, email=email, password=password, name=name, role=role)
    patient = None
    if role == "patient":
        session.flush()
        patient = Patient(user_id=user.id, display_name=name, timezone=timezone)
        session.add(patient)
    _commit_unique(session)
    return _user_out(user, patient)


def _commit_unique(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError as exc:  # two registrations racing for one e-mail
        session.rollback()
        raise Conflict("An account with this e-mail already exists.") from exc


def get_me(session: Session, actor: Actor) -> UserOut:
    require_person(actor, "user account")
    user = session.get(User, actor.id)
    if user is None:  # pragma: no cover - the actor was resolved from this row a moment ago
        raise Unauthorized()
    patient = session.scalar(select(Patient).where(Patient.user_id == user.id))
    return _user_out(user, patient)


def change_password(
    session: Session, ctx: AppContext, actor: Actor, data: PasswordChangeIn, client_ip: str
) -> None:
    """New password; every other sign-in of the account ends (this one stays)."""
    require_person(actor, "user account")
    email = session.scalar(select(User.email).where(User.id == actor.id))
    if email is None:  # pragma: no cover - the actor was resolved from this row a moment ago
        raise Unauthorized()
    # The current-password check is a password oracle too: it is throttled like a sign-in.
    try:
        user = check_password(
            session,
            ctx,
            email=email,
            password=data.current_password,
            client_ip=client_ip,
            sign_in=False,
        )
    except InvalidCredentials as exc:
        raise Unauthorized("The current password is wrong.") from exc
    new_hash = ctx.passwords.hash(data.new_password)  # before the next transaction opens
    user.password_hash = new_hash
    end_all_sign_ins(session, user.id, reason="password_changed", keep=actor.session_id)
    session.commit()
