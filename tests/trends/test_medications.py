"""Medication changes for the trends: starts, stops and every later dose ``from``."""

from __future__ import annotations

from app.trends import compute_trend
from app.trends.inputs import DoseEntry
from app.trends.medications import (
    MedicationEvent,
    changes_in_windows,
    dose_history,
    first_added_treatment,
    medication_events,
)
from app.trends.windows import Window
from tests.trends.builders import daily, day, medication, trend_inputs

CBZ = 1


def summary(events: tuple[MedicationEvent, ...]) -> list[tuple[int, str, float, float | None]]:
    return [((e.date - day(0)).days, e.kind, e.mg_per_day, e.previous_mg_per_day) for e in events]


def test_medication_changes_are_starts_stops_and_every_later_dose_from() -> None:
    row = medication(
        CBZ, "Carbamazepine", 400, started=-100, stopped=50,
        doses=[(-100, 200), (-10, 400), (20, 300)],
    )  # fmt: skip
    assert summary(medication_events([row])) == [
        (-100, "start", 200, None),
        (-10, "dose", 400, 200),
        (20, "dose", 300, 400),
        (50, "stop", 0.0, 300),
    ]


def test_a_medication_without_history_had_one_dose_since_its_start() -> None:
    row = medication(CBZ, "Carbamazepine", 400, started=-5)
    assert dose_history(row) == (DoseEntry(day(-5), 400),)
    assert summary(medication_events([row])) == [(-5, "start", 400, None)]


def test_dose_history_keeps_one_entry_per_change_while_taken() -> None:
    row = medication(
        CBZ, "Carbamazepine", 600, started=0, stopped=30,
        doses=[(-3, 200), (5, 200), (10, 400), (10, 600), (30, 800), (40, 900)],
    )  # fmt: skip
    # Before the start: from the start; the same dose again: no change; the last of a day
    # wins; on or after the stop: never taken.
    assert dose_history(row) == (DoseEntry(day(0), 200), DoseEntry(day(10), 600))


def test_increases_and_starts_add_treatment_decreases_and_stops_do_not() -> None:
    row = medication(
        CBZ, "Carbamazepine", 300, started=0, stopped=40, doses=[(0, 200), (10, 400), (20, 300)]
    )
    adds = [(e.kind, e.adds_treatment) for e in medication_events([row])]
    assert adds == [("start", True), ("dose", True), ("dose", False), ("stop", False)]
    events = medication_events([row])
    assert first_added_treatment(events, day(1), day(60)) == day(10)
    assert first_added_treatment(events, day(11), day(60)) is None
    assert first_added_treatment(events, day(0), day(60)) == day(0)


def test_medication_changes_inside_windows_each_with_its_window() -> None:
    rows = [
        medication(1, "Carbamazepine", 600, started=-300, doses=[(-300, 400), (-3, 600)]),
        medication(2, "Gabapentin", 900, started=5, stopped=20),
        medication(3, "Baclofen", 30, started=-500, stopped=-400),  # outside every window
    ]
    windows = (Window("baseline", day(-7), day(-1)), Window("treatment", day(0), day(10)))
    changes = changes_in_windows(medication_events(rows), windows)
    assert [(c.date, c.kind, c.name, c.window) for c in changes] == [
        (day(-3), "dose", "Carbamazepine", "baseline"),
        (day(5), "start", "Gabapentin", "treatment"),
    ]


def test_events_are_sorted_by_date_then_name() -> None:
    rows = [
        medication(2, "baclofen", 30, started=5),
        medication(1, "Amitriptyline", 10, started=5),
        medication(3, "Carbamazepine", 100, started=1),
    ]
    assert [e.name for e in medication_events(rows)] == [
        "Carbamazepine",
        "Amitriptyline",
        "baclofen",
    ]


def test_trend_lists_changes_in_any_window_and_ignores_those_after_as_of() -> None:
    rows = [
        medication(1, "Carbamazepine", 600, started=-300, doses=[(-300, 400), (-3, 600)]),
        medication(2, "Gabapentin", 900, started=5, stopped=60),  # the stop is after as_of
        medication(3, "Baclofen", 30, started=45),  # after as_of
    ]
    result = compute_trend(trend_inputs(40, episodes=daily(range(-28, 41), 4), medications=rows))
    assert [
        (c.date, c.kind, c.window, c.mg_per_day, c.previous_mg_per_day)
        for c in result.medication_changes
    ] == [
        (day(-3), "dose", "baseline", 600, 400),
        (day(5), "start", "follow_up_1", 900, None),
    ]
    codes = [w.code for w in result.warnings]
    assert codes == ["baseline_medication_change", "medication_changed_during_series"]
    assert "1 of them a start or dose increase" in result.warnings[1].message
