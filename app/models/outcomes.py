"""Outcomes kept ready: each patient's and each live series' figures as of the patient's today.

A derived copy of what ``app.trends.analyse`` computes (services/outcomes/ready.py), so that
the cohort table and the clinicians' patients page read one indexed query per page instead of
recomputing every series. A row says what it was computed from: the patient's ``change_seq``
(bumped by every write of the patient's records) and ``version`` (bumped by every change of the
patient record, its time zone and name included), and the local day ``as_of`` with the instant
``valid_until`` at which the patient's today moves on. A change of either number leaves an
``outcome_changes`` row (a trigger). Readers recompute whatever changed or whose day is over
before they answer, so no response is ever built from a stale row.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime

# Names sort by code point on every engine (PostgreSQL's default collation may be a locale's).
SortName = String(200).with_variant(String(200, collation="C"), "postgresql")


class OutcomeChange(Base):
    """A patient whose records or record changed since their outcomes were stored: written by
    database triggers on ``patients`` (a change of ``change_seq`` or ``version``, and every new
    patient; migration 0016o1), so that no write path has to know, and deleted by the
    refresher only up to the positions it computed from. Finding what to recompute reads
    these few rows, never every patient."""

    __tablename__ = "outcome_changes"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    change_seq: Mapped[int] = mapped_column(BigInteger)
    patient_version: Mapped[int] = mapped_column(Integer)


class PatientOutcome(Base):
    """One per patient: what the figures were computed from, and the patient's latest series
    (the last by course order; else the last created) with its relief and outlook."""

    __tablename__ = "patient_outcomes"
    __table_args__ = (
        # The patients page's orders: by name; relief ended (latest first); return expected soon.
        Index("ix_patient_outcomes_name", "sort_name", "patient_id"),
        # Whose day is over: found without reading every patient.
        Index("ix_patient_outcomes_valid_until", "valid_until"),
        Index(
            "ix_patient_outcomes_ended",
            "ended_rank",
            "ended_key",
            "sort_name",
            "patient_id",
        ),
        Index(
            "ix_patient_outcomes_return",
            "return_rank",
            "return_key",
            "sort_name",
            "patient_id",
        ),
        # The patients page's "needs attention first": relief ended (latest end first), then a
        # return expected within 14 days (soonest first), then the rest; each by name.
        Index(
            "ix_patient_outcomes_attention",
            "ended_rank",
            "ended_key",
            "return_rank",
            "return_key",
            "sort_name",
            "patient_id",
        ),
        # "Longest since the last session first", patients without a session last.
        Index(
            "ix_patient_outcomes_last_session",
            "session_rank",
            "session_key",
            "sort_name",
            "patient_id",
        ),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    change_seq: Mapped[int] = mapped_column(BigInteger)
    patient_version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    sort_name: Mapped[str] = mapped_column(SortName)
    series_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    series_name: Mapped[str | None] = mapped_column(String(200), default=None)
    modality: Mapped[str | None] = mapped_column(String(32), default=None)
    start: Mapped[date | None] = mapped_column(Date, default=None)
    end: Mapped[date | None] = mapped_column("end_day", Date, default=None)
    responder: Mapped[bool | None] = mapped_column(Boolean, default=None)
    relief_status: Mapped[str | None] = mapped_column(String(16), default=None)
    relief_days: Mapped[int | None] = mapped_column(Integer, default=None)
    relief_onset: Mapped[date | None] = mapped_column(Date, default=None)
    relief_end: Mapped[date | None] = mapped_column(Date, default=None)
    censor_reason: Mapped[str | None] = mapped_column(String(24), default=None)
    expected_return_from: Mapped[date | None] = mapped_column(Date, default=None)
    expected_return_to: Mapped[date | None] = mapped_column(Date, default=None)
    # The expected return's latest day is a lower bound (the longest relief is still running).
    expected_return_open: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # 0: the latest series' relief has ended (ended_key = minus its end day's ordinal, so the
    # latest end comes first in ascending order); 1: any other patient (ended_key 0).
    ended_rank: Mapped[int] = mapped_column(SmallInteger)
    ended_key: Mapped[int] = mapped_column(Integer)
    # 0: the outlook's expected return begins within 14 days of as_of while the latest relief
    # has not ended (return_key = that day's ordinal: soonest first); 1: any other (key 0).
    return_rank: Mapped[int] = mapped_column(SmallInteger)
    return_key: Mapped[int] = mapped_column(Integer)
    # 0: the latest series has an end day (session_key = minus the days from it to as_of, so
    # the longest since the last session comes first); 1: no completed session (key 0).
    session_rank: Mapped[int] = mapped_column(SmallInteger, default=1, server_default=text("1"))
    session_key: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class SeriesOutcome(Base):
    """One per live series: the cohort row's figures as of the patient's ``as_of``."""

    __tablename__ = "series_outcomes"
    __table_args__ = (
        # The cohort table's order (patient name, patient, the patient's series by creation).
        Index("ix_series_outcomes_order", "sort_name", "patient_id", "ordinal"),
        Index("ix_series_outcomes_patient_id", "patient_id"),
    )

    series_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("patients.id", ondelete="CASCADE")
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    sort_name: Mapped[str] = mapped_column(SortName)
    patient_name: Mapped[str] = mapped_column(String(200))
    series_name: Mapped[str] = mapped_column(String(200))
    modality: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[date] = mapped_column(Date)
    start: Mapped[date | None] = mapped_column(Date, default=None)
    end: Mapped[date | None] = mapped_column("end_day", Date, default=None)
    course_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    booster: Mapped[bool | None] = mapped_column(Boolean, default=None)
    baseline_attacks_per_day: Mapped[float | None] = mapped_column(Float, default=None)
    follow_up_1_attacks_per_day: Mapped[float | None] = mapped_column(Float, default=None)
    change_pct: Mapped[float | None] = mapped_column(Float, default=None)
    category: Mapped[str | None] = mapped_column(String(16), default=None)
    responder: Mapped[bool | None] = mapped_column(Boolean, default=None)
    relief_status: Mapped[str | None] = mapped_column(String(16), default=None)
    relief_days: Mapped[int | None] = mapped_column(Integer, default=None)
    relief_onset: Mapped[date | None] = mapped_column(Date, default=None)
    relief_end: Mapped[date | None] = mapped_column(Date, default=None)
    censor_reason: Mapped[str | None] = mapped_column(String(24), default=None)
    baseline_flags: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    # The course outlook's expected return, on the course's latest series only.
    expected_return_from: Mapped[date | None] = mapped_column(Date, default=None)
    expected_return_to: Mapped[date | None] = mapped_column(Date, default=None)
