"""Rate limits counted in the database, so every worker and every host sees the same counts.

Each key has one row holding the times of its recent hits (a sliding log of at most ``limit``
entries), so "10 registrations within an hour" means exactly that, not "10 per clock hour".
Two kinds of limit share that storage: ``rate_limit`` (at most ``limit`` hits per window:
registrations, exports) and ``throttle`` (progressive back-off: some free failures, then
delays that double: password checks, where a hard limit would let strangers lock people out).

A hit is *taken before* the guarded work runs (the password check, the export), under a row
lock: N concurrent requests cannot all slip through while the first ones are still hashing a
password, and a correct password cannot skip the queue. Exactly ``limit`` hits fit in any window.

These helpers never commit. The caller commits straight after taking the hit: a failed sign-in
must stay counted although its request ends in an error, and on SQLite an open write
transaction would hold up every other writer during the slow work that follows.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.errors import TooManyRequests
from app.models import RateLimit
from app.trends.days import utcnow

# Rows untouched for longer than the longest window are dead weight; a hit clears a few.
MAX_WINDOW_SECONDS = 86_400
_PRUNE_BATCH = 100


@dataclass(frozen=True)
class Hit:
    """One counted hit; ``release`` takes exactly this one back."""

    key: str
    at: float


def login_account_key(email: str) -> str:
    # Hashed: the table must not collect every e-mail address someone typed at the sign-in form.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]
    return f"login:acct:{digest}"


def login_ip_key(ip: str) -> str:
    return f"login:ip:{ip[:100]}"


def login_pair_key(email: str, ip: str) -> str:
    """One guesser's count against one account: (account, client address), hashed together."""
    pair = f"{email.strip().lower()}\n{ip[:100]}"
    return f"login:pair:{hashlib.sha256(pair.encode()).hexdigest()[:40]}"


def register_ip_key(ip: str) -> str:
    return f"register:ip:{ip[:100]}"


def reset_ip_key(ip: str) -> str:
    return f"reset:ip:{ip[:100]}"


def code_ip_key(ip: str) -> str:
    return f"code:ip:{ip[:100]}"


def mail_account_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]
    return f"mail:acct:{digest}"


def export_key(subject: uuid.UUID, caller: uuid.UUID) -> str:
    """Exports are limited per exported record and caller (app/services/exports/quota.py): one
    grantee's exports never use up the patient's own, nor another grantee's."""
    return f"export:{subject}:by:{caller}"


def rate_limit(
    session: Session,
    key: str,
    *,
    limit: int,
    window: int,
    now: datetime | None = None,
) -> Hit:
    """Count one hit on ``key``, or raise ``TooManyRequests`` (429 with ``Retry-After``) when
    ``limit`` hits already lie within the last ``window`` seconds. A refused hit is not counted,
    so hammering a limited key does not push its release further away."""
    if not 0 < window <= MAX_WINDOW_SECONDS:
        raise ValueError(f"window must be 1..{MAX_WINDOW_SECONDS} seconds")
    now = now or utcnow()
    stamp = now.timestamp()
    _prune(session, now)
    recent = [h for h in _locked_hits(session, key, now) if h > stamp - window]
    if len(recent) >= limit:
        # The count drops below the limit when the limit-th newest hit leaves the window.
        wait = max(1, math.ceil(recent[-limit] + window - stamp))
        raise TooManyRequests(
            f"Too many attempts; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    recent.append(stamp)
    _store(session, key, recent[-limit:], now)
    return Hit(key=key, at=stamp)


@dataclass(frozen=True)
class Backoff:
    """Progressive back-off: ``free`` failures within ``memory`` seconds cost nothing; then
    each further attempt waits 1, 2, 4 … seconds after the latest failure, at most
    ``max_delay``. Failures older than ``memory`` are forgotten."""

    free: int
    max_delay: int
    memory: int

    def delay(self, failures: int) -> int:
        if failures < self.free:
            return 0
        return int(min(self.max_delay, 2 ** min(failures - self.free, 62)))

    @property
    def kept(self) -> int:
        """Failures worth remembering: past these the delay is at its cap anyway."""
        return self.free + max(1, math.ceil(math.log2(self.max_delay))) + 1


@dataclass(frozen=True)
class Attempt:
    """One attempt counted on each of several keys (see ``throttle``)."""

    hits: tuple[Hit, ...]


def throttle(
    session: Session,
    limits: list[tuple[str, Backoff]],
    *,
    now: datetime | None = None,
) -> Attempt:
    """Count one attempt on every key, or raise ``TooManyRequests`` with the longest wait
    when any key is still in its back-off. A refused attempt is not counted, on any key.

    The attempt is counted as a failure *before* the guarded check runs (see the module
    docstring); the caller takes it back with ``clear`` / ``release`` when the check passes.
    Keys are locked in the order given: callers list their kinds of key in one fixed order,
    so two attempts never wait for each other's locks in a cycle.
    """
    now = now or utcnow()
    stamp = now.timestamp()
    _prune(session, now)
    wait = 0
    counted: list[tuple[str, Backoff, list[float]]] = []
    for key, policy in limits:
        if not 0 < policy.memory <= MAX_WINDOW_SECONDS:
            raise ValueError(f"memory must be 1..{MAX_WINDOW_SECONDS} seconds")
        recent = [h for h in _locked_hits(session, key, now) if h > stamp - policy.memory]
        delay = policy.delay(len(recent))
        if delay and recent:
            wait = max(wait, math.ceil(recent[-1] + delay - stamp))
        counted.append((key, policy, recent))
    if wait > 0:
        raise TooManyRequests(
            f"Too many attempts; try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    for key, policy, recent in counted:
        recent.append(stamp)
        _store(session, key, recent[-policy.kept :], now)
    return Attempt(hits=tuple(Hit(key=key, at=stamp) for key, _, _ in counted))


def release(session: Session, hit: Hit) -> None:
    """Take one counted hit back (e.g. a sign-in from this IP that turned out to be correct)."""
    now = utcnow()
    hits = _locked_hits(session, hit.key, now)
    if hit.at in hits:
        hits.remove(hit.at)
        _store(session, hit.key, hits, now)


def reset(session: Session, key: str) -> None:
    """Forget every hit on ``key`` (e.g. the account's failures after a correct sign-in)."""
    session.execute(delete(RateLimit).where(RateLimit.key == key))


def _locked_hits(session: Session, key: str, now: datetime) -> list[float]:
    """The key's hits, with its row created if needed and locked until the transaction ends.

    ON CONFLICT DO UPDATE takes the row lock in the same statement that guarantees the row
    exists, so no concurrent ``reset`` can slip between "create" and "lock". SQLite has no row
    locks; the writer session's BEGIN IMMEDIATE serialises writers there instead.
    """
    dialect = session.get_bind().dialect.name
    insert_: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert_(RateLimit)
        .values(key=key, hits=[], updated_at=now)
        .on_conflict_do_update(
            index_elements=[RateLimit.key], set_={"updated_at": RateLimit.updated_at}
        )
        .returning(RateLimit.hits)
    )
    hits = session.execute(statement).scalar_one()
    return sorted(float(h) for h in hits or [])


def _store(session: Session, key: str, hits: list[float], now: datetime) -> None:
    session.execute(update(RateLimit).where(RateLimit.key == key).values(hits=hits, updated_at=now))


def _prune(session: Session, now: datetime) -> None:
    # SKIP LOCKED: pruning never waits for a row another request holds, so it cannot deadlock
    # with a concurrent hit (SQLite ignores the clause; it has one writer anyway).
    stale = (
        select(RateLimit.key)
        .where(RateLimit.updated_at < now - timedelta(seconds=MAX_WINDOW_SECONDS))
        .order_by(RateLimit.updated_at)
        .limit(_PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(RateLimit).where(RateLimit.key.in_(stale.scalar_subquery())))
