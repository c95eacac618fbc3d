"""Terse constructors for the trend tests: days are offsets from day 0 (a Thursday)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from app.trends import (
    AssessmentRow,
    CheckinRow,
    DoseEntry,
    EpisodeRow,
    MedicationRow,
    OtherSeries,
    SeriesInfo,
    SessionRow,
    TrendInputs,
    Vitals,
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
    mg_per_kg: float | None = 0.5,
    vitals: Vitals = Vitals(),
) -> SessionRow:
    return SessionRow(
        UUID(int=offset + 1000 * completed + 10**6),
        day(offset),
        completed,
        before,
        after,
        tuple(effects),
        mg_per_kg,
        vitals,
    )


def assessment(instrument: str, offset: int, total: int, hour: int = 12) -> AssessmentRow:
    return AssessmentRow(
        instrument, day(offset), datetime.combine(day(offset), time(hour), UTC), total
    )


def medication(
    number: int,
    name: str,
    dose: float,
    started: int,
    stopped: int | None = None,
    doses: Iterable[tuple[int, float]] = (),
) -> MedicationRow:
    """Medication ``number``; ``doses``: (day offset, mg per day) history entries, oldest first."""
    return MedicationRow(
        UUID(int=number),
        name,
        dose,
        day(started),
        None if stopped is None else day(stopped),
        tuple(DoseEntry(day(offset), mg) for offset, mg in doses),
    )


def series_info(
    number: int,
    baseline_days: int = 28,
    follow_up_days: int = 84,
    new_course: bool | None = None,
) -> SeriesInfo:
    """Series ``number`` (0 is ``SERIES_ID``, the series under test)."""
    series_id = SERIES_ID if number == 0 else UUID(int=number)
    return SeriesInfo(series_id, baseline_days, follow_up_days, new_course)


def other(
    number: int,
    *session_offsets: int,
    baseline_days: int = 28,
    follow_up_days: int = 84,
    new_course: bool | None = None,
) -> OtherSeries:
    """Another series of the patient with completed sessions on the day offsets given."""
    info = series_info(number, baseline_days, follow_up_days, new_course)
    return OtherSeries(info, tuple(day(offset) for offset in session_offsets))


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
    baseline_days: int = 28,
    follow_up_days: int = 84,
    new_course: bool | None = None,
    others: Iterable[OtherSeries] = (),
) -> TrendInputs:
    return TrendInputs(
        series=SeriesInfo(SERIES_ID, baseline_days, follow_up_days, new_course),
        timezone="Europe/Berlin",
        as_of=day(as_of),
        sessions=tuple(sessions),
        episodes=tuple(episodes),
        checkins=tuple(checkins),
        assessments=tuple(assessments),
        medications=tuple(medications),
        other_series=tuple(others),
    )
