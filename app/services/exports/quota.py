"""The export quota. Exports are heavy and carry a whole record, so one caller may export one
record (a patient's, or a staff account's own data) at most ``export_max_per_patient`` times per
``export_window_seconds`` (429 with Retry-After beyond). Counted per caller: a grantee's exports
never use up the patient's own quota, nor another grantee's.
"""

from __future__ import annotations

import uuid

from app.security.rate_limit import export_key, rate_limit
from app.services.context import AppContext
from app.services.identity.actors import Actor


def take_export(ctx: AppContext, subject: uuid.UUID, caller: Actor) -> None:
    """Count one export of ``subject`` by ``caller``, in a short write transaction of its own,
    committed before anything streams (no write transaction stays open while it does)."""
    with ctx.db.session(write=True) as session:
        rate_limit(
            session,
            export_key(subject, caller.id),
            limit=ctx.settings.export_max_per_patient,
            window=ctx.settings.export_window_seconds,
        )
        session.commit()
