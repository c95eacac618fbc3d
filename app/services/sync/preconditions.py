"""Conditional requests on versioned records (RFC 9110 §13): the ETag of a version, and the
``If-Match`` / ``If-None-Match`` checks every versioned write makes (diary records, treatment
series and sessions, the patient profile).

A record's ETag is its version in quotes (``"3"``); a weak ``W/"3"`` names the same version.
"""

from __future__ import annotations

from app.errors import PreconditionFailed, PreconditionRequired

IF_MATCH_REQUIRED = (
    "A PATCH must say which version it changes: send If-Match with the ETag you read "
    '(e.g. If-Match: "3"), so that no one else\'s change is overwritten unseen.'
)


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> set[str]:
    """The versions (or ``*``) a conditional header lists."""
    return {tag.strip().removeprefix("W/").strip('"') for tag in header.split(",")}


def check_if_match(if_match: str | None, version: int) -> None:
    """A stale ``If-Match`` is a lost update waiting to happen: refuse it with 412."""
    if if_match is None:
        return
    tags = _tags(if_match)
    if "*" not in tags and str(version) not in tags:
        raise PreconditionFailed(
            f"The record is at version {version}; reload it and apply the change again."
        )


def require_if_match(if_match: str | None) -> str:
    """PATCH changes part of a record as the client last saw it: without If-Match it could
    silently undo a change the client never saw (428, RFC 6585)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(IF_MATCH_REQUIRED)
    return if_match


def check_if_none_match(if_none_match: str | None, version: int) -> None:
    """``If-None-Match: *`` makes a PUT create-only; a listed current ETag refuses it too."""
    if if_none_match is None:
        return
    tags = _tags(if_none_match)
    if "*" in tags or str(version) in tags:
        raise PreconditionFailed("The record already exists (If-None-Match).")
