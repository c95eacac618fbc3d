"""Errors as the domain sees them: each knows its HTTP status and problem type, nothing of FastAPI.

Rendering them as RFC 9457 problem+json is app/problems.py's job."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class AppError(Exception):
    """A failure a client can act on. Subclasses fix the status and the problem type."""

    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


class NotFound(AppError):
    status, type, title = 404, "not-found", "Not found"


class Forbidden(AppError):
    status, type, title = 403, "forbidden", "Forbidden"


class InsufficientScope(Forbidden):
    """A partner token that lacks the scope a route needs (RFC 6750 §3.1)."""

    type = "insufficient-scope"

    def __init__(self, scope: str) -> None:
        super().__init__(f"This needs the scope {scope!r}, which the access token does not carry.")
        self.headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{scope}"'


class Unauthorized(AppError):
    status, type, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')


class InvalidCredentials(AppError):
    """A password check failed: unknown e-mail, wrong password or (signing in) an address not
    yet confirmed - one error for all, so they cannot be told apart. Callers that speak OAuth
    answer ``invalid_grant``; others say what fits their form."""

    status, type, title = 400, "invalid-credentials", "Invalid credentials"


class InvalidCode(AppError):
    """A mailed code that is wrong, used, expired or out of tries, or an unknown address."""

    status, type, title = 400, "invalid-code", "Invalid code"


class Conflict(AppError):
    status, type, title = 409, "conflict", "Conflict"


class Gone(AppError):
    status, type, title = 410, "gone", "Gone"


class PreconditionFailed(AppError):
    status, type, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(AppError):
    """RFC 6585 §3: a change that must name the version it applies to (PATCH without If-Match)."""

    status, type, title = 428, "precondition-required", "Precondition required"


class PayloadTooLarge(AppError):
    """Sent by the request guard (app/middleware.py) before any endpoint runs."""

    status, type, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(AppError):
    """Sent by the request guard (app/middleware.py) before any endpoint runs."""

    status, type, title = 415, "unsupported-media-type", "Unsupported media type"


class TooManyRequests(AppError):
    status, type, title = 429, "rate-limited", "Too many requests"


RETRY_AFTER_SECONDS = 5


class ServiceUnavailable(AppError):
    """The database cannot serve the request right now; the client retries after a while."""

    status, type, title = 503, "service-unavailable", "Service unavailable"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))


class NotReady(ServiceUnavailable):
    """The readiness probe's refusal: the database does not answer or its schema is behind."""

    type, title = "not-ready", "Not ready"


class ValidationFailed(AppError):
    """A 422 raised by a service after schema validation (cross-field or stateful checks)."""

    status, type, title = 422, "validation-error", "Validation failed"

    def __init__(self, loc: Sequence[str | int], msg: str, err_type: str = "value_error") -> None:
        super().__init__(msg)
        self.errors = [{"loc": list(loc), "msg": msg, "type": err_type}]
        self.extra = {"errors": self.errors}


class OAuthError(AppError):
    """RFC 6749 §5.2 token endpoint error, carried as problem+json with an ``error`` member."""

    def __init__(self, error: str, detail: str, status: int = 400) -> None:
        super().__init__(detail, extra={"error": error})
        self.status = status
        self.type = f"oauth/{error}"
        self.title = error.replace("_", " ").capitalize()
        if status == 401:
            self.headers["WWW-Authenticate"] = 'Basic realm="paindiary", charset="UTF-8"'
