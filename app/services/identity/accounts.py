"""Creating accounts and changing passwords."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Unauthorized
from app.models import AuthSession, Patient, User
from app.schemas.auth import AdminUserIn, PasswordChangeIn, RegisterIn, UserOut
from app.security.rate_limit import login_account_key, rate_limit, register_ip_key, reset
from app.services.context import AppContext
from app.services.identity.actors import Actor, require_person
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
    email = email.strip().lower()
    # Hashed before the first statement opens the transaction: on SQLite a writer's transaction
    # holds the write lock, which must not wait for the deliberately slow hash.
    password_hash = ctx.passwords.hash(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("An account with this e-mail already exists.")
    user = User(email=email, display_name=name, role=role, password_hash=password_hash)
    session.add(user)
    return user


def register_patient(
    session: Session, ctx: AppContext, data: RegisterIn, client_ip: str
) -> UserOut:
    # Counted per IP before the (deliberately slow) password hash, committed at once so that
    # refused or failed registrations count too.
    settings = ctx.settings
    rate_limit(
        session,
        register_ip_key(client_ip),
        limit=settings.register_max_per_ip,
        window=settings.register_window_seconds,
    )
    session.commit()
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
    session: Session, ctx: AppContext, actor: Actor, data: PasswordChangeIn
) -> None:
    """New password; every other sign-in session of the account ends (this one stays)."""
    require_person(actor, "user account")
    user = session.get(User, actor.id)
    if user is None:  # pragma: no cover - the actor was resolved from this row a moment ago
        raise Unauthorized()
    # The current-password check is a password oracle too: it shares the sign-in limit.
    account_key = login_account_key(user.email)
    settings = ctx.settings
    rate_limit(
        session,
        account_key,
        limit=settings.login_max_failures_per_account,
        window=settings.login_failure_window_seconds,
    )
    session.commit()
    if not ctx.passwords.verify(data.current_password, user.password_hash):
        raise Unauthorized("The current password is wrong.")
    new_hash = ctx.passwords.hash(data.new_password)  # before the next transaction opens
    reset(session, account_key)
    user.password_hash = new_hash
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.user_id == user.id,
            AuthSession.revoked_at.is_(None),
            AuthSession.id != actor.session_id,
        )
        .values(revoked_at=utcnow(), revoked_reason="password_changed")
    )
    session.commit()
