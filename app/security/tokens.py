"""JWT access tokens and opaque refresh tokens. The only module that imports python-jose."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt

ACCESS = "access"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "aud", "iss", "jti", "typ")
# NumericDate claims must be whole seconds between the epoch and 9999-12-31T23:59:59Z, the
# last instant a datetime can hold on every platform: anything else is a forged token.
MAX_TIMESTAMP = 253_402_300_799
# How far ahead of our clock a token's iat or nbf may be (clocks of several servers).
CLOCK_LEEWAY_SECONDS = 60
# Tokens whose signature was verified, kept with their claims: an app sends the same token with
# every request until it expires, and verifying it again cost more than a tenth of a write's CPU.
# The time claims are checked on every use; revocation is checked by the callers, per request.
VERIFIED_CACHE_SIZE = 4096


class InvalidToken(Exception):
    """Any reason a bearer token is not accepted; callers answer 401 without detail."""


@dataclass(frozen=True)
class AccessClaims:
    subject: str
    subject_kind: str  # "user" or "client"
    session_id: str | None
    scopes: frozenset[str]
    jti: str
    expires_at: datetime


class TokenService:
    def __init__(
        self, *, key: str, algorithm: str, issuer: str, audience: str, access_ttl: timedelta
    ) -> None:
        if algorithm not in ("HS256", "HS384", "HS512"):
            raise ValueError(f"unsupported JWT algorithm {algorithm}")
        self._key = key
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self.access_ttl = access_ttl
        self._verified: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def issue_access(
        self,
        *,
        subject: str,
        subject_kind: str,
        now: datetime,
        session_id: str | None = None,
        scopes: frozenset[str] = frozenset(),
    ) -> str:
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": int(now.timestamp()),
            "exp": int((now + self.access_ttl).timestamp()),
            "jti": uuid.uuid4().hex,
            "typ": ACCESS,
            "knd": subject_kind,
        }
        if session_id is not None:
            claims["sid"] = session_id
        if scopes:
            claims["scope"] = " ".join(sorted(scopes))
        return str(jwt.encode(claims, self._key, algorithm=self._algorithm))

    def decode_access(self, token: str, *, now: datetime | None = None) -> AccessClaims:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            with self._lock:
                if len(self._verified) >= VERIFIED_CACHE_SIZE:
                    self._verified.pop(next(iter(self._verified)))  # the oldest entry
                self._verified[token] = claims
        return _checked(claims, now)

    def _verify(self, token: str) -> dict[str, Any]:
        """The claims of a token whose signature, algorithm, audience and issuer are ours."""
        try:
            header = jwt.get_unverified_header(token)
            # Only the configured algorithm, whatever the token claims (no "none", no RS/HS swap).
            if header.get("alg") != self._algorithm:
                raise InvalidToken("algorithm not allowed")
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={
                    **{"require_" + c: True for c in ("exp", "iat", "sub", "aud", "iss", "jti")},
                    # The time claims are checked below, strictly: the library converts them
                    # unchecked (a huge exp overflowed into a 500).
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except (JWTError, ValueError, TypeError, OverflowError) as exc:
            raise InvalidToken(str(exc)) from exc
        return dict(claims)


def _checked(claims: dict[str, Any], now: datetime | None) -> AccessClaims:
    """The claims of a verified token, if they make it an access token valid ``now``."""
    if any(c not in claims for c in REQUIRED_CLAIMS) or claims.get("typ") != ACCESS:
        raise InvalidToken("not an access token")
    current = int((now or datetime.now(UTC)).timestamp())
    expires = _numeric_date(claims, "exp")
    if expires <= current:
        raise InvalidToken("expired")
    if _numeric_date(claims, "iat") > current + CLOCK_LEEWAY_SECONDS:
        raise InvalidToken("issued in the future")
    if "nbf" in claims and _numeric_date(claims, "nbf") > current + CLOCK_LEEWAY_SECONDS:
        raise InvalidToken("not yet valid")
    kind = claims.get("knd")
    if kind not in ("user", "client"):
        raise InvalidToken("unknown subject kind")
    scope = claims.get("scope", "")
    return AccessClaims(
        subject=str(claims["sub"]),
        subject_kind=str(kind),
        session_id=str(claims["sid"]) if "sid" in claims else None,
        scopes=frozenset(str(scope).split()) if scope else frozenset(),
        jti=str(claims["jti"]),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


def _numeric_date(claims: dict[str, Any], name: str) -> int:
    """A NumericDate claim as whole seconds, or ``InvalidToken``: never a bool, a string, a
    fraction, a negative number or one past what a datetime can hold."""
    value = claims.get(name)
    if type(value) is not int or not 0 <= value <= MAX_TIMESTAMP:
        raise InvalidToken(f"claim {name} is not a valid time")
    return value


def new_opaque_token() -> str:
    """A refresh token or client secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_opaque_token(token: str) -> str:
    """Opaque tokens are high-entropy, so a plain SHA-256 is the right storage form (not Argon2)."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
