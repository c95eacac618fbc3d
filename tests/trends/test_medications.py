"""Medication starts, stops and dose changes inside the windows."""

from __future__ import annotations

from app.trends import MedicationChange, MedicationDoseRow, MedicationRow, Window
from app.trends.medications import medication_changes
from tests.trends.builders import day, dose, medication

WINDOWS = (
    Window("baseline", day(-28), day(-1)),
    Window("treatment", day(0), day(2)),
    Window("follow_up_1", day(3), day(20)),  # clipped at as_of = day 20
)


def changes(*rows: MedicationRow) -> list[tuple[str, int, str, str, float, float | None]]:
    return [
        (c.kind, (c.date - day(0)).days, c.window, c.name, c.dose_mg_per_day,
         c.previous_dose_mg_per_day)
        for c in medication_changes(rows, WINDOWS)
    ]  # fmt: skip


def test_dose_change_is_a_stop_and_a_start_of_the_same_drug() -> None:
    old = medication(1, "Carbamazepine", 400, started=-300, stopped=5)
    new = medication(2, "carbamazepine ", 600, started=6)
    assert medication_changes([old, new], WINDOWS) == (
        MedicationChange("dose_change", day(6), "follow_up_1", new.id, new.name, 600, 400),
    )
    same_day = medication(3, "CARBAMAZEPINE", 200, started=5)
    assert changes(old, same_day) == [("dose_change", 5, "follow_up_1", "CARBAMAZEPINE", 200, 400)]


def test_start_and_stop_events() -> None:
    assert changes(
        medication(1, "gabapentin", 900, started=-10),
        medication(2, "baclofen", 30, started=-100, stopped=1),
        medication(3, "pregabalin", 150, started=-100),  # unchanged all along
        medication(4, "lamotrigine", 50, started=21),  # after as_of
        medication(5, "oxcarbazepine", 600, started=-50, stopped=-29),  # before the baseline
    ) == [
        ("start", -10, "baseline", "gabapentin", 900, None),
        ("stop", 1, "treatment", "baclofen", 30, None),
    ]


def test_same_dose_entered_again_is_no_change() -> None:
    assert (
        changes(
            medication(1, "oxcarbazepine", 300, started=-60, stopped=10),
            medication(2, "Oxcarbazepine", 300, started=11),
        )
        == []
    )


def test_unrelated_stop_and_start_stay_separate() -> None:
    assert changes(
        medication(1, "carbamazepine", 400, started=-60, stopped=4),
        medication(2, "carbamazepine", 600, started=7),  # a 3-day gap: a stop, then a start
        medication(3, "baclofen", 30, started=4),  # another drug the same day
    ) == [
        ("start", 4, "follow_up_1", "baclofen", 30, None),
        ("stop", 4, "follow_up_1", "carbamazepine", 400, None),
        ("start", 7, "follow_up_1", "carbamazepine", 600, None),
    ]


def test_a_short_course_is_a_start_and_a_stop() -> None:
    assert changes(medication(1, "carbamazepine", 100, started=-5, stopped=-5)) == [
        ("start", -5, "baseline", "carbamazepine", 100, None),
        ("stop", -5, "baseline", "carbamazepine", 100, None),
    ]


def test_a_chain_of_dose_changes() -> None:
    assert changes(
        medication(1, "carbamazepine", 400, started=-60, stopped=-2),
        medication(2, "carbamazepine", 600, started=-2, stopped=8),
        medication(3, "carbamazepine", 800, started=9),
    ) == [
        ("dose_change", -2, "baseline", "carbamazepine", 600, 400),
        ("dose_change", 9, "follow_up_1", "carbamazepine", 800, 600),
    ]


def test_a_stop_on_the_last_window_day_with_a_start_after_it() -> None:
    assert changes(
        medication(1, "carbamazepine", 400, started=-60, stopped=20),
        medication(2, "carbamazepine", 600, started=21),
    ) == [("stop", 20, "follow_up_1", "carbamazepine", 400, None)]


# --- dose history: a dose changed in place on the same row ---------------------------------------


def history_changes(
    rows: tuple[MedicationRow, ...], doses: tuple[MedicationDoseRow, ...]
) -> list[tuple[str, int, str, float, float | None]]:
    return [
        (c.kind, (c.date - day(0)).days, c.window, c.dose_mg_per_day, c.previous_dose_mg_per_day)
        for c in medication_changes(rows, WINDOWS, doses)
    ]


def test_a_dose_changed_in_place_is_a_dose_change() -> None:
    row = medication(1, "carbamazepine", 800, started=-300)
    doses = (dose(1, -300, 400), dose(1, 5, 800))
    assert medication_changes([row], WINDOWS, doses) == (
        MedicationChange("dose_change", day(5), "follow_up_1", row.id, row.name, 800, 400),
    )


def test_each_step_inside_the_windows_counts_and_steps_outside_do_not() -> None:
    row = medication(1, "carbamazepine", 600, started=-300)
    doses = (
        dose(1, -300, 200),
        dose(1, -100, 400),  # before the baseline: not reported
        dose(1, -3, 800),
        dose(1, 1, 600),
        dose(1, 25, 900),  # after as_of: not reported
    )
    assert history_changes((row,), doses) == [
        ("dose_change", -3, "baseline", 800, 400),
        ("dose_change", 1, "treatment", 600, 800),
    ]


def test_the_last_entry_of_a_day_wins_and_equal_doses_are_no_step() -> None:
    row = medication(1, "carbamazepine", 400, started=-300)
    doses = (
        dose(1, -300, 400),
        dose(1, 4, 400, order=2),  # corrected back the same day
        dose(1, 4, 600, order=1),
        dose(1, 8, 400),  # the same dose again
    )
    assert history_changes((row,), doses) == []


def test_a_start_reports_the_first_dose_and_a_stop_the_last() -> None:
    row = medication(1, "gabapentin", 900, started=-10, stopped=12)
    doses = (dose(1, -10, 300), dose(1, 2, 900), dose(1, 15, 1200))  # 15: after the stop
    assert history_changes((row,), doses) == [
        ("start", -10, "baseline", 300, None),
        ("dose_change", 2, "treatment", 900, 300),
        ("stop", 12, "follow_up_1", 900, None),
    ]


def test_history_dated_around_a_moved_start() -> None:
    moved_later = medication(1, "carbamazepine", 600, started=-5)
    assert history_changes(
        (moved_later,), (dose(1, -300, 200), dose(1, -50, 400), dose(1, 6, 600))
    ) == [("start", -5, "baseline", 400, None), ("dose_change", 6, "follow_up_1", 600, 400)]
    moved_earlier = medication(2, "baclofen", 30, started=-8)
    assert history_changes((moved_earlier,), (dose(2, -4, 20), dose(2, 3, 30))) == [
        ("start", -8, "baseline", 20, None),
        ("dose_change", 3, "follow_up_1", 30, 20),
    ]


def test_a_stop_and_restart_compares_the_last_and_the_first_dose() -> None:
    old = medication(1, "carbamazepine", 600, started=-300, stopped=5)
    new = medication(2, "carbamazepine", 800, started=6)
    doses = (dose(1, -300, 400), dose(1, -20, 600), dose(2, 6, 600), dose(2, 10, 800))
    assert history_changes((old, new), doses) == [
        ("dose_change", -20, "baseline", 600, 400),
        ("dose_change", 10, "follow_up_1", 800, 600),
    ]


def test_history_of_a_row_not_given_is_ignored() -> None:
    row = medication(1, "carbamazepine", 600, started=-300)
    assert history_changes((row,), (dose(9, -300, 100), dose(9, 3, 200))) == []
