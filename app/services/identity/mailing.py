"""Mail about accounts: what goes out for a registration, a reset request or a sign-in that
needs a confirmed address, and the per-address allowance that keeps us from flooding anyone.

Whatever depends on whether an address has an account happens here, on the mail thread after
the answer has gone (``Mailer.later``), or inside a transaction that commits either way: the
caller's response and its timing are the same for an address with an account and without.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import TooManyRequests
from app.models import User
from app.security.rate_limit import mail_account_key, rate_limit
from app.services.context import AppContext
from app.services.identity import codes
from app.services.mail import messages
from app.trends.days import utcnow

HOUR = 3600


def mail_allowed(session: Session, ctx: AppContext, email: str, now: datetime) -> bool:
    """Count one mail to ``email``; False once the hourly allowance is used up (then nothing
    is sent, and the request is answered exactly as if it had been). Never commits."""
    try:
        rate_limit(
            session,
            mail_account_key(email),
            limit=ctx.settings.mails_per_address_per_hour,
            window=HOUR,
            now=now,
        )
    except TooManyRequests:
        return False
    return True


def code_message(ctx: AppContext, email: str, purpose: codes.Purpose, code: str) -> EmailMessage:
    ttl = ctx.settings.code_ttl_seconds
    if purpose == "verify_email":
        return messages.verification_code(email, code, ttl)
    return messages.password_reset_code(email, code, ttl)


def mail_code_later(ctx: AppContext, email: str, purpose: codes.Purpose) -> None:
    """After the answer: a new code for ``purpose`` mailed to the account of ``email``. For an
    address without an account, a reset request gets a "no account here" notice; a
    verification reminder nothing."""

    def job() -> None:
        now = utcnow()
        message: EmailMessage | None = None
        with ctx.db.session(write=True) as session:
            user_id = session.scalar(select(User.id).where(User.email == email))
            if mail_allowed(session, ctx, email, now):
                if user_id is not None:
                    code = codes.issue(session, ctx, user_id, purpose, now)
                    message = code_message(ctx, email, purpose, code)
                elif purpose == "reset_password":
                    message = messages.no_account(email)
            session.commit()
        if message is not None:
            ctx.mailer.deliver_with_retries(message)

    ctx.mailer.later(job)
