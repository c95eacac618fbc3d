"""Insert treatment rows straight through the models, for tests of code that only reads them."""

from __future__ import annotations

import uuid

from app.models import Series
from app.services import records
from app.services.context import AppContext


def insert_series(ctx: AppContext, patient_id: uuid.UUID, name: str = "Ketamine IV") -> uuid.UUID:
    series_id = uuid.uuid4()
    with ctx.db.session(write=True) as session:
        seq = records.ChangeSeq(session, patient_id)
        session.add(
            Series(
                id=series_id,
                patient_id=patient_id,
                name=name,
                modality="ketamine_iv",
                change_seq=seq.take(),
            )
        )
        session.commit()
    return series_id
