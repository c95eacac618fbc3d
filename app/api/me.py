"""The signed-in person's own account: who am I, password change, and their data rights
(export everything, import into a new account, erase for good)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app import memory
from app.api.exports import attachment, utc_today
from app.api.openapi import json_request_body
from app.api.responses import problems
from app.deps import ClientIP, ContextDep, CurrentActor, RequestInfoDep, SessionDep
from app.schemas.auth import PasswordChangeIn, UserOut
from app.schemas.exports import EraseIn, ExportDocument, ImportDocument, ImportResult
from app.services.exports import data_export, data_import
from app.services.identity import accounts, erasure

router = APIRouter(tags=["me"])


@router.get(
    "/me",
    operation_id="getMe",
    summary="The signed-in account",
    responses=problems(401, 403),
)
def me(actor: CurrentActor, session: SessionDep) -> UserOut:
    """Who the access token belongs to: id, e-mail, display name, role and, for patients,
    `patient_id` (null otherwise). People only: partner tokens have no account (403)."""
    return accounts.get_me(session, actor)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="changePassword",
    summary="Change the password; every other session of the account ends",
    responses=problems(401, 403, 422, 429),
)
def change_password(
    data: PasswordChangeIn,
    actor: CurrentActor,
    session: SessionDep,
    ctx: ContextDep,
    ip: ClientIP,
) -> Response:
    """Needs the current password (wrong: 401). Its check is throttled like a sign-in (see
    `POST /auth/token`: 429 with Retry-After). Answers 204; every other sign-in of the account
    ends, this one stays. People only: partner tokens get 403."""
    accounts.change_password(session, ctx, actor, data, ip)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me/export",
    operation_id="exportMyData",
    summary="Everything we hold about you, as one JSON document",
    response_model=ExportDocument,
    responses=problems(401, 403, 429),
)
def export_my_data(
    actor: CurrentActor, session: SessionDep, ctx: ContextDep, info: RequestInfoDep
) -> Response:
    """Patients: the account, profile and diagnosis, every diary and treatment record (deleted
    ones the server still keeps are included with `deleted_at`), the grants you gave and your
    access log. Clinicians and admins: the account and the grants patients gave you. The
    document can be imported into a new account (`POST /me/import`). Streamed; it is on your
    access log as an export. People only (partner tokens: 403). Each caller's exports of a
    record are rate-limited (429 with Retry-After)."""
    return StreamingResponse(
        data_export.export_me(ctx, session, actor, info),
        media_type="application/json",
        headers=attachment(f"paindiary-export-{utc_today()}.json"),
    )


@router.post(
    "/me/import",
    operation_id="importMyData",
    summary="Import a /me/export document into your new, empty account",
    responses=problems(401, 403, 409, 413, 415, 422, 429),
    openapi_extra=json_request_body(ImportDocument),
)
async def import_my_data(
    request: Request, actor: CurrentActor, ctx: ContextDep, info: RequestInfoDep
) -> ImportResult:
    """Patients only (others 403). Every record gets a new id; sessions and assessments follow
    their series. Versions start at 1, timestamps are kept (none may lie in the future, and
    `deleted_at` not before `created_at`), and the profile and diagnosis replace the account's
    (the e-mail and password stay). Every session is recorded by you: a session the document
    says someone else recorded says so, unverified, at the end of its notes. Grants and the
    access log are accepted but not imported. All or nothing: a document with any error is a
    422 naming its paths (the first 50), and nothing is written. An account that already has
    diary records gets 409 before the body is read. Bodies up to 32 MiB (413 beyond); a few
    attempts per hour (429 with Retry-After); `grants` and `access_log` may be left out to
    save space."""
    await run_in_threadpool(data_import.admit, ctx, actor)
    raw = bytearray()
    async for chunk in request.stream():  # capped by the body limit (413)
        raw += chunk
    large = len(raw) >= memory.LARGE_BYTES
    try:
        return await run_in_threadpool(data_import.import_body, ctx, actor, info, raw)
    finally:
        del raw
        if large:  # hand what the document took back to the system, not to the next request
            memory.trim()


@router.delete(
    "/me",
    status_code=204,
    operation_id="deleteMyAccount",
    summary="Erase your account and all your data for good",
    responses=problems(401, 403, 422, 429),
)
def delete_my_account(
    data: EraseIn, actor: CurrentActor, session: SessionDep, ctx: ContextDep, ip: ClientIP
) -> Response:
    """Needs your password: a wrong one is a 401 and deletes nothing; the check is throttled
    like a sign-in (429 with Retry-After). Patients: the account,
    profile, diary, treatments, grants and sign-ins are deleted in one go and cannot be
    restored; every token stops working. The access audit trail of your record stays (it holds
    who accessed it, no health data) and ends with a pseudonymous `erase` entry. Answers 204.
    People only (partner tokens: 403)."""
    erasure.erase_me(session, ctx, actor, data.password, ip)
    return Response(status_code=204)
