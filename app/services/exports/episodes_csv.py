"""GET /patients/{pid}/export/episodes.csv: the live episodes as a spreadsheet-safe CSV, streamed.

One row per live episode, oldest first, with a header row. Times come in UTC and in the
patient's zone (with the local calendar date the trends use); enumerated lists are joined with
``;``. Any cell that a spreadsheet could read as a formula (it begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is prefixed with ``'`` (OWASP's CSV injection advice): a note
like ``=HYPERLINK(…)`` then shows as text instead of running when a clinician opens the file.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator

from sqlalchemy import RowMapping, select

from app.db import Database
from app.models import Episode, Patient
from app.services.context import AppContext
from app.services.diary.episodes import from_mask
from app.services.exports.quota import take_export
from app.services.exports.streaming import chunked, rows, snapshot
from app.services.identity.actors import Actor
from app.services.sync.sql import table_of
from app.trends.days import utc_text, wall_clock
from app.vocabulary import BRANCHES, QUALITIES, TRIGGERS

COLUMNS = (
    "id",
    "started_at_utc",
    "started_at_local",
    "local_date",
    "timezone",
    "duration_seconds",
    "attack_count",
    "intensity",
    "side",
    "branches",
    "qualities",
    "triggers",
    "rescue_medication",
    "note",
    "version",
    "created_at_utc",
    "updated_at_utc",
)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"

_episodes = table_of(Episode)


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would evaluate becomes plain text."""
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def episode_cells(row: RowMapping, timezone: str) -> list[str]:
    local = wall_clock(row["started_at"], timezone)
    cells = [
        str(row["id"]),
        utc_text(row["started_at"]),
        local.isoformat(),
        local.date().isoformat(),
        timezone,
        str(row["duration_seconds"]),
        str(row["attack_count"]),
        str(row["intensity"]),
        row["side"] or "",
        LIST_SEPARATOR.join(from_mask(row["branch_mask"], BRANCHES)),
        LIST_SEPARATOR.join(from_mask(row["quality_mask"], QUALITIES)),
        LIST_SEPARATOR.join(from_mask(row["trigger_mask"], TRIGGERS)),
        row["rescue_medication"] or "",
        row["note"] or "",
        str(row["version"]),
        utc_text(row["created_at"]),
        utc_text(row["updated_at"]),
    ]
    return [neutralise(cell) for cell in cells]


class _Line:
    """A file that hands back what is written: ``csv.writer(...).writerow`` returns the line."""

    def write(self, value: str) -> str:
        return value


def export_episodes(ctx: AppContext, patient: Patient, caller: Actor) -> Iterator[bytes]:
    """GET …/export/episodes.csv: counts against the caller's export quota, then streams."""
    take_export(ctx, patient.id, caller)
    return episodes_csv(ctx.db, patient.id, patient.timezone)


def episodes_csv(db: Database, patient_id: uuid.UUID, timezone: str) -> Iterator[bytes]:
    """The CSV body, UTF-8, CRLF line ends (RFC 4180), produced as the rows are read."""
    return chunked(_lines(db, patient_id, timezone))


def _lines(db: Database, patient_id: uuid.UUID, timezone: str) -> Iterator[bytes]:
    writer = csv.writer(_Line())
    yield str(writer.writerow(COLUMNS)).encode()
    t = _episodes
    query = (
        select(t)
        .where(t.c.patient_id == patient_id, t.c.deleted_at.is_(None))
        .order_by(t.c.started_at, t.c.id)
    )
    with snapshot(db) as session:
        for row in rows(session, query):
            yield str(writer.writerow(episode_cells(row, timezone))).encode()
