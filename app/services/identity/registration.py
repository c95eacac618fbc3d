"""Self-registration that reveals nothing, confirming an address, and resetting a password.

In a trigeminal-neuralgia diary, having an account is itself health information, so nothing
answered over HTTP depends on whether an address has one: registering an address answers 202
with the same body whether it is new, taken, or taken with other capitals; the difference goes
to that address's mailbox only (a code to confirm a new account, or "you already have an
account" with the way back in). A password-reset request is answered 202 the same way and does
all its work after the answer. A wrong, used, expired or exhausted code and an unknown address
get one and the same 400.
"""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import InvalidCode
from app.models import Patient, User
from app.schemas.auth import (
    CodeConfirmIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RegisterIn,
)
from app.security.rate_limit import (
    code_ip_key,
    login_account_key,
    login_pair_key,
    rate_limit,
    register_ip_key,
    reset,
    reset_ip_key,
)
from app.services.context import AppContext
from app.services.identity import codes
from app.services.identity.mailing import code_message, mail_allowed, mail_code_later
from app.services.identity.sessions import end_all_sign_ins
from app.services.identity.signin import normalise_email
from app.services.mail import messages
from app.trends.days import utcnow

INVALID_CODE = "The code is wrong, used up or expired; ask for a new one."


def register(session: Session, ctx: AppContext, data: RegisterIn, client_ip: str) -> None:
    """Create a patient account (unconfirmed) and mail its address a confirmation code - or,
    when the address already has an account, mail it a reminder instead. Same answer, same
    work as far as practical either way: the password is hashed and one write transaction
    (the address's mail allowance) commits in both cases; the mail goes out after the answer.
    """
    settings = ctx.settings
    # Counted per IP before the (deliberately slow) hash, and committed at once, so refused
    # and failed registrations count too.
    rate_limit(
        session,
        register_ip_key(client_ip),
        limit=settings.register_max_per_ip,
        window=settings.register_window_seconds,
    )
    session.commit()
    email = normalise_email(data.email)
    password_hash = ctx.passwords.hash(data.password)  # both ways, before the transaction
    now = utcnow()
    message: EmailMessage | None = None
    try:
        allowed = mail_allowed(session, ctx, email, now)
        if session.scalar(select(User.id).where(User.email == email)) is None:
            user = User(
                email=email,
                display_name=data.display_name,
                role="patient",
                password_hash=password_hash,
            )
            session.add(user)
            session.flush()
            session.add(
                Patient(user_id=user.id, display_name=data.display_name, timezone=data.timezone)
            )
            if allowed:
                code = codes.issue(session, ctx, user.id, "verify_email", now)
                message = code_message(ctx, email, "verify_email", code)
        elif allowed:
            message = messages.already_registered(email)
        session.commit()
    except IntegrityError:
        # A concurrent registration of the same address won: it has an account now.
        session.rollback()
        message = messages.already_registered(email)
    if message is not None:
        ctx.mailer.send_later(message)


def _count_code_try(session: Session, ctx: AppContext, client_ip: str) -> None:
    rate_limit(
        session,
        code_ip_key(client_ip),
        limit=ctx.settings.code_attempts_per_ip,
        window=ctx.settings.code_attempts_window_seconds,
    )


def verify_email(session: Session, ctx: AppContext, data: CodeConfirmIn, client_ip: str) -> None:
    """Confirm the address with the code mailed at registration (or after a sign-in attempt
    that needed a confirmed address)."""
    _count_code_try(session, ctx, client_ip)
    now = utcnow()
    email = normalise_email(data.email)
    user_id = session.scalar(select(User.id).where(User.email == email))
    ok = codes.consume(session, ctx, user_id, "verify_email", data.code, now)
    if ok:
        session.execute(
            update(User)
            .where(User.id == user_id, User.email_verified_at.is_(None))
            .values(email_verified_at=now)
        )
    session.commit()  # the spent try counts whatever the outcome
    if not ok:
        raise InvalidCode(INVALID_CODE)


def request_password_reset(
    session: Session, ctx: AppContext, data: PasswordResetIn, client_ip: str
) -> None:
    """Mail a reset code to the account of the address (a "no account here" notice to an
    address without one), after the answer: the answer and its timing say nothing."""
    rate_limit(
        session,
        reset_ip_key(client_ip),
        limit=ctx.settings.register_max_per_ip,
        window=ctx.settings.register_window_seconds,
    )
    session.commit()
    mail_code_later(ctx, normalise_email(data.email), "reset_password")


def confirm_password_reset(
    session: Session, ctx: AppContext, data: PasswordResetConfirmIn, client_ip: str
) -> None:
    """Set a new password with the mailed code. Every sign-in of the account ends; the
    address counts as confirmed (the code reached it); failed sign-ins are forgotten."""
    _count_code_try(session, ctx, client_ip)
    now = utcnow()
    email = normalise_email(data.email)
    user_id = session.scalar(select(User.id).where(User.email == email))
    ok = codes.consume(session, ctx, user_id, "reset_password", data.code, now)
    session.commit()  # the spent try (or the used code) counts whatever follows
    if not ok or user_id is None:
        raise InvalidCode(INVALID_CODE)
    # Hashed only now: a wrong code costs us no hash. Outside any transaction (SQLite lock).
    new_hash = ctx.passwords.hash(data.new_password)
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            password_hash=new_hash,
            email_verified_at=func.coalesce(User.email_verified_at, now),
        )
    )
    end_all_sign_ins(session, user_id, reason="password_reset")
    reset(session, login_account_key(email))
    reset(session, login_pair_key(email, client_ip))
    session.commit()
