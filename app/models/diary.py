"""Diary records: episodes, daily check-ins, medications and questionnaires.

Every record shares the sync columns of ``SyncedRecord``: a version for optimistic concurrency,
the patient's change position (``change_seq``) for the change feed, and ``deleted_at`` for
tombstones, which the feed must keep reporting for at least 180 days.

Enumerated lists (triggers, qualities, branches) are stored as bit masks: portable, filterable in
SQL on every engine (``trigger_mask & bit``), cheap to aggregate for the trends, and CHECK-able.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.trends.days import utcnow
from app.vocabulary import (
    BNI_GRADES,
    BRANCHES,
    INSTRUMENTS,
    MAX_DOSE_MG_PER_DAY,
    NAME_MAX,
    NOTE_MAX,
    QUALITIES,
    SIDES,
    TRIGGERS,
)


def _in(column: str, values: tuple[str, ...], *, nullable: bool = False) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    check = f"{column} IN ({listed})"
    return f"{column} IS NULL OR {check}" if nullable else check


def _mask_check(column: str, members: tuple[str, ...]) -> str:
    return f"{column} >= 0 AND {column} < {1 << len(members)}"


def _sync_checks() -> tuple[CheckConstraint | UniqueConstraint, ...]:
    return (
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("change_seq >= 1", name="change_seq"),
        # One change position per record and patient: the feed pages by it.
        UniqueConstraint("patient_id", "change_seq"),
    )


def _total_check() -> str:
    return " OR ".join(
        f"(instrument = '{name}' AND total BETWEEN {count * low} AND {count * high})"
        for name, (count, low, high) in INSTRUMENTS.items()
    )


class SyncedRecord:
    """Columns every diary record carries for versioning, the change feed and tombstones."""

    patient_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    change_seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Episode(SyncedRecord, Base):
    __tablename__ = "episodes"
    __table_args__ = (
        *_sync_checks(),
        CheckConstraint("duration_seconds > 0 AND duration_seconds <= 86400", name="duration"),
        CheckConstraint("attack_count BETWEEN 1 AND 1000", name="attack_count"),
        CheckConstraint("intensity BETWEEN 1 AND 10", name="intensity"),
        CheckConstraint(_in("side", SIDES, nullable=True), name="side"),
        CheckConstraint(_mask_check("branch_mask", BRANCHES), name="branch_mask"),
        CheckConstraint(_mask_check("quality_mask", QUALITIES), name="quality_mask"),
        CheckConstraint(_mask_check("trigger_mask", TRIGGERS), name="trigger_mask"),
        CheckConstraint(
            f"rescue_medication IS NULL OR length(rescue_medication) <= {NAME_MAX}",
            name="rescue_medication",
        ),
        CheckConstraint(f"note IS NULL OR length(note) <= {NOTE_MAX}", name="note"),
        # Newest-first listing and the trends' per-local-day aggregation read only this index.
        Index(
            "ix_episodes_patient_started",
            "patient_id",
            "started_at",
            "id",
            "intensity",
            "attack_count",
            "duration_seconds",
            "trigger_mask",
            "deleted_at",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    attack_count: Mapped[int] = mapped_column(Integer, default=1)
    intensity: Mapped[int] = mapped_column(SmallInteger)
    side: Mapped[str | None] = mapped_column(String(16), default=None)
    branch_mask: Mapped[int] = mapped_column(SmallInteger, default=0)
    quality_mask: Mapped[int] = mapped_column(SmallInteger, default=0)
    trigger_mask: Mapped[int] = mapped_column(Integer, default=0)
    rescue_medication: Mapped[str | None] = mapped_column(String(NAME_MAX), default=None)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX), default=None)


class Checkin(SyncedRecord, Base):
    """One per patient and local day: the date is the record's key (PUT again after DELETE
    revives the same row with a higher version)."""

    __tablename__ = "checkins"
    __table_args__ = (
        *_sync_checks(),
        CheckConstraint(
            "background_pain IS NULL OR background_pain BETWEEN 0 AND 10", name="background_pain"
        ),
        CheckConstraint(_in("bni", BNI_GRADES, nullable=True), name="bni"),
        CheckConstraint("mood IS NULL OR mood BETWEEN 0 AND 10", name="mood"),
        CheckConstraint("sleep_hours IS NULL OR sleep_hours BETWEEN 0 AND 24", name="sleep_hours"),
        CheckConstraint(f"note IS NULL OR length(note) <= {NOTE_MAX}", name="note"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    no_attacks: Mapped[bool] = mapped_column(Boolean, default=False)
    background_pain: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    bni: Mapped[str | None] = mapped_column(String(4), default=None)
    mood: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    sleep_hours: Mapped[float | None] = mapped_column(Float, default=None)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX), default=None)


class Medication(SyncedRecord, Base):
    __tablename__ = "medications"
    __table_args__ = (
        *_sync_checks(),
        CheckConstraint(f"length(name) BETWEEN 1 AND {NAME_MAX}", name="name"),
        CheckConstraint(
            f"dose_mg_per_day > 0 AND dose_mg_per_day <= {MAX_DOSE_MG_PER_DAY}", name="dose"
        ),
        CheckConstraint("stopped_on IS NULL OR stopped_on >= started_on", name="stopped_on"),
        Index("ix_medications_patient_started", "patient_id", "started_on", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    dose_mg_per_day: Mapped[float] = mapped_column(Float)
    started_on: Mapped[date] = mapped_column(Date)
    stopped_on: Mapped[date | None] = mapped_column(Date, default=None)


class Assessment(SyncedRecord, Base):
    __tablename__ = "assessments"
    __table_args__ = (
        *_sync_checks(),
        CheckConstraint(_in("instrument", tuple(INSTRUMENTS)), name="instrument"),
        # The total is server-computed; this keeps it inside its instrument's range.
        CheckConstraint(_total_check(), name="total"),
        Index("ix_assessments_patient_taken", "patient_id", "taken_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    instrument: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    items: Mapped[list[int]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(SmallInteger)
    # The treatment series it belongs to (e.g. a CADSS-6 after an infusion).
    series_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("treatment_series.id", ondelete="SET NULL"), default=None
    )


class MedicationDose(Base):
    """A medication's dose history: from ``effective_on`` on it was taken at this dose.

    ``medications.dose_mg_per_day`` is changed in place (PATCH/PUT), which would lose the old
    dose; the medications service writes an entry here whenever a dose changes, so the trends
    can report the change (services/diary/medication_doses.py). Not a synced record: the change feed
    carries the medication itself. Entries go with their medication (cascade).
    """

    __tablename__ = "medication_doses"
    __table_args__ = (
        CheckConstraint(
            f"dose_mg_per_day > 0 AND dose_mg_per_day <= {MAX_DOSE_MG_PER_DAY}", name="dose"
        ),
        # The trend loader reads the history of a patient's medications.
        Index(
            "ix_medication_doses_patient_medication", "patient_id", "medication_id", "effective_on"
        ),
        # The cascade from a purged medication finds its entries without a scan.
        Index("ix_medication_doses_medication_id", "medication_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE")
    )
    medication_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("medications.id", ondelete="CASCADE")
    )
    effective_on: Mapped[date] = mapped_column(Date)
    dose_mg_per_day: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
