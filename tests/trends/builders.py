"""Terse constructors for the trend tests: days are offsets from day 0 (a Thursday)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from app.trends import (
    AssessmentRow,
    CheckinRow,
    EpisodeRow,
    MedicationDoseRow,
    MedicationRow,
    SeriesInfo,
    SessionRow,
    TrendInputs,
)

DAY0 = date(2026, 1, 1)
SERIES_ID = UUID("0f0e0d0c-0b0a-4908-8706-050403020100")


def day(offset: int) -> date:
    return DAY0 + timedelta(days=offset)


def episode(
    offset: int,
    attacks: int = 1,
    intensity: int = 5,
    duration: int = 30,
    triggers: Iterable[str] = (),
) -> EpisodeRow:
    return EpisodeRow(day(offset), attacks, intensity, duration, tuple(triggers))


def no_attacks(offset: int) -> CheckinRow:
    return CheckinRow(day(offset), no_attacks=True)


def checkin(
    offset: int, bni: str | None = None, background: int | None = None, no_attacks: bool = False
) -> CheckinRow:
    return CheckinRow(day(offset), no_attacks, bni, background)


def session(
    offset: int,
    completed: bool = True,
    before: int | None = None,
    after: int | None = None,
    effects: Iterable[tuple[str, str]] = (),
) -> SessionRow:
    return SessionRow(
        UUID(int=offset + 1000 * completed + 10**6),
        day(offset),
        completed,
        before,
        after,
        tuple(effects),
    )


def assessment(instrument: str, offset: int, total: int, hour: int = 12) -> AssessmentRow:
    return AssessmentRow(
        instrument, day(offset), datetime.combine(day(offset), time(hour), UTC), total
    )


def medication(
    number: int, name: str, dose: float, started: int, stopped: int | None = None
) -> MedicationRow:
    return MedicationRow(
        UUID(int=number), name, dose, day(started), None if stopped is None else day(stopped)
    )


def dose(number: int, offset: int, mg: float, order: int = 0) -> MedicationDoseRow:
    """History entry of medication ``number``: ``mg`` from day ``offset``; ``order`` sorts a day."""
    recorded = datetime.combine(day(offset), time(12), UTC) + timedelta(minutes=order)
    return MedicationDoseRow(UUID(int=number), day(offset), mg, recorded)


def daily(offsets: Iterable[int], attacks: int = 1, intensity: int = 5) -> list[EpisodeRow]:
    """One episode of ``attacks`` attacks on each day offset."""
    return [episode(offset, attacks, intensity) for offset in offsets]


def trend_inputs(
    as_of: int,
    sessions: Iterable[SessionRow] = (session(0),),
    episodes: Iterable[EpisodeRow] = (),
    checkins: Iterable[CheckinRow] = (),
    assessments: Iterable[AssessmentRow] = (),
    medications: Iterable[MedicationRow] = (),
    doses: Iterable[MedicationDoseRow] = (),
    baseline_days: int = 28,
    follow_up_days: int = 84,
) -> TrendInputs:
    return TrendInputs(
        series=SeriesInfo(SERIES_ID, baseline_days, follow_up_days),
        timezone="Europe/Berlin",
        as_of=day(as_of),
        sessions=tuple(sessions),
        episodes=tuple(episodes),
        checkins=tuple(checkins),
        assessments=tuple(assessments),
        medications=tuple(medications),
        medication_doses=tuple(doses),
    )
