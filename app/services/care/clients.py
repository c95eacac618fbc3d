"""Partner clients: registration by admins, the client_credentials grant, resolving their tokens."""

from __future__ import annotations

import uuid

from sqlalchemy import RowMapping, select, update
from sqlalchemy.orm import Session

from app.errors import NotFound, OAuthError, Unauthorized
from app.models import PartnerClient, RevokedToken
from app.schemas.auth import TokenOut
from app.schemas.clients import ClientCreatedOut, ClientIn, ClientOut
from app.schemas.common import Page
from app.security.tokens import constant_time_equal, hash_opaque_token, new_opaque_token
from app.services.context import AppContext
from app.services.identity.actors import Actor
from app.services.sync import listing
from app.trends.days import utcnow

INVALID_CLIENT = "Unknown client, wrong secret, or the client is disabled."


def register_client(session: Session, data: ClientIn) -> ClientCreatedOut:
    secret = new_opaque_token()
    client = PartnerClient(
        name=data.name, secret_hash=hash_opaque_token(secret), scopes=list(data.scopes)
    )
    session.add(client)
    session.commit()
    return ClientCreatedOut(
        client_id=client.id, client_secret=secret, name=client.name, scopes=data.scopes
    )


LIST = listing.Keyset("clients", (PartnerClient.id,), newest_first=False)


def _client_out(row: RowMapping) -> ClientOut:
    return ClientOut(
        client_id=row["id"],
        name=row["name"],
        scopes=sorted(row["scopes"]),
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )


def list_clients(session: Session, *, limit: int, cursor: str | None) -> Page[ClientOut]:
    c = PartnerClient
    query = select(c.id, c.name, c.scopes, c.created_at, c.disabled_at)
    return listing.page(session, query, LIST, limit=limit, cursor=cursor, out=_client_out)


def disable_client(session: Session, client_id: uuid.UUID) -> None:
    """Its tokens stop working on the next request; idempotent. Grants stay for the record."""
    if session.get(PartnerClient, client_id) is None:
        raise NotFound("No such client.")
    session.execute(
        update(PartnerClient)
        .where(PartnerClient.id == client_id, PartnerClient.disabled_at.is_(None))
        .values(disabled_at=utcnow())
    )
    session.commit()


def client_credentials_grant(
    session: Session, ctx: AppContext, client_id: str, client_secret: str, scope: str | None
) -> TokenOut:
    client = _authenticate(session, client_id, client_secret)
    registered = frozenset(client.scopes)
    requested = frozenset(scope.split()) if scope and scope.strip() else registered
    if not requested <= registered:
        unknown = " ".join(sorted(requested - registered))
        raise OAuthError("invalid_scope", f"The client is not registered for: {unknown}.")
    token = ctx.tokens.issue_access(
        subject=str(client.id), subject_kind="client", now=utcnow(), scopes=requested
    )
    return TokenOut(
        access_token=token,
        expires_in=int(ctx.tokens.access_ttl.total_seconds()),
        scope=" ".join(sorted(requested)),
    )


def _authenticate(session: Session, client_id: str, client_secret: str) -> PartnerClient:
    presented = hash_opaque_token(client_secret)
    try:
        client = session.get(PartnerClient, uuid.UUID(client_id))
    except ValueError:
        client = None
    if (
        client is None
        or client.disabled_at is not None
        or not constant_time_equal(presented, client.secret_hash)
    ):
        raise OAuthError("invalid_client", INVALID_CLIENT, status=401)
    return client


def resolve_client_actor(
    session: Session, client_id: uuid.UUID, scopes: frozenset[str], jti: str
) -> Actor:
    """Checked on every request: a disabled or deleted client's tokens, and a revoked token
    (``POST /auth/revoke``), stop working at once - on every worker, as the database says."""
    revoked = select(RevokedToken.jti).where(RevokedToken.jti == jti).exists()
    found = session.execute(
        select(
            PartnerClient.name,
            PartnerClient.scopes,
            PartnerClient.disabled_at,
            revoked.label("revoked"),
        ).where(PartnerClient.id == client_id)
    ).first()
    if found is None or found.disabled_at is not None:
        raise Unauthorized("The client is unknown or disabled.")
    if found.revoked:
        raise Unauthorized("The access token was revoked.")
    return Actor(
        id=client_id,
        role="partner",
        display_name=found.name,
        # A token never carries more than the client is registered for now.
        scopes=scopes & frozenset(found.scopes),
    )
