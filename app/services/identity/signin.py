"""Checking a password under throttling: the one function every password form calls.

``check_password`` serves the token endpoint's password grant, the current-password checks of
``POST /me/password`` and ``DELETE /me``, and the clinician web app's sign-in form. Throttling
follows OWASP's authentication guidance, so that strangers cannot turn it against a user:

- Failures are counted per (account, client address) - one guesser against one account - with
  a few free failures, then delays doubling from 1 s up to 15 minutes.
- Per client address, across accounts (one address spraying many accounts): free far longer,
  then delays of at most a minute, so a clinic or mobile network behind one NAT address is at
  worst slowed, never locked out.
- Per account, from anywhere (guessing spread over many addresses): free longer still, then
  delays of at most a minute: a slow-down, not a lock-out.
- A correct password clears its address's and its pair's counts and takes its own attempt back
  from the account's count.

Every attempt is counted *before* the password is checked (app/security/rate_limit.py), so
concurrent guesses cannot slip through while the first ones are still hashing. A refused
attempt (429) is not counted, and for an unknown e-mail everything happens exactly as for a
known one: same keys, same hash work, same answer.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidCredentials
from app.models import User
from app.security.rate_limit import (
    Backoff,
    login_account_key,
    login_ip_key,
    login_pair_key,
    release,
    reset,
    throttle,
)
from app.services.context import AppContext
from app.services.identity.mailing import mail_code_later

INVALID_LOGIN = "The e-mail address or password is wrong."


def normalise_email(email: str) -> str:
    return email.strip().lower()


def login_limits(ctx: AppContext, email: str, client_ip: str) -> list[tuple[str, Backoff]]:
    """The three counts of a password attempt, in the one order every caller locks them."""
    s = ctx.settings
    memory = s.login_failure_memory_seconds
    shared = s.login_max_shared_delay_seconds
    return [
        (
            login_pair_key(email, client_ip),
            Backoff(s.login_free_failures_per_pair, s.login_max_delay_seconds, memory),
        ),
        (login_ip_key(client_ip), Backoff(s.login_free_failures_per_ip, shared, memory)),
        (login_account_key(email), Backoff(s.login_free_failures_per_account, shared, memory)),
    ]


def check_password(
    session: Session,
    ctx: AppContext,
    *,
    email: str,
    password: str,
    client_ip: str,
    sign_in: bool = True,
) -> User:
    """The account of ``email`` if ``password`` is its password, under the throttling above.

    Raises ``TooManyRequests`` (429, ``Retry-After`` in its headers) while a count is in its
    back-off, and ``InvalidCredentials`` for an unknown e-mail or a wrong password - the same
    error, after the same work. With ``sign_in`` (signing in, as opposed to re-confirming the
    password of someone already signed in) and ``PAINDIARY_EMAIL_VERIFICATION=required``, an
    account whose address is not yet confirmed fails the same way even with the right
    password: a distinct answer would confirm a guessed password. Its owner learns why from
    their mailbox instead, where a fresh confirmation code is sent.

    Commits its own work (the counted attempt, and the cleared counts on success); the caller
    goes on in the same session with whatever the sign-in is for.
    """
    email = normalise_email(email)
    attempt = throttle(session, login_limits(ctx, email, client_ip))
    user = session.scalar(select(User).where(User.email == email))
    session.commit()  # the attempt stays counted; and no transaction during the slow hash

    ok = ctx.passwords.verify(password, user.password_hash if user else None)
    if user is None or not ok:
        raise InvalidCredentials(INVALID_LOGIN)
    if sign_in and user.email_verified_at is None and ctx.settings.verification_required:
        # Counted as a failure (no counts cleared), so nothing about the password shows.
        mail_code_later(ctx, email, "verify_email")
        raise InvalidCredentials(INVALID_LOGIN)
    pair_hit, ip_hit, account_hit = attempt.hits
    reset(session, pair_hit.key)
    reset(session, ip_hit.key)
    release(session, account_hit)
    session.commit()
    return user
