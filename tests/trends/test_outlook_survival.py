"""The courses' outlook, the cohort summary and its Kaplan-Meier median (through SciPy)."""

from __future__ import annotations

from uuid import UUID

import pytest

from app.trends import Relief, outlook, relief_survival
from app.trends.cohort import CohortEntry, cohort_group
from app.trends.survival import ReliefSurvival
from tests.trends.builders import day

LATEST = UUID(int=9)


def ended(days: int) -> Relief:
    return Relief("ended", onset_day=day(3), duration_days=days, end_day=day(days + 1))


def censored(days: int, status: str = "censored") -> Relief:
    return Relief(status, onset_day=day(3), duration_days=days, censor_reason="next_series")  # type: ignore[arg-type]


def test_outlook_null_under_two_ended_reliefs() -> None:
    reliefs = [ended(30), censored(90), Relief("no_relief"), None]
    assert outlook(reliefs, LATEST, None, day(0)) is None


def test_outlook_describes_the_patient_past_reliefs() -> None:
    reliefs = [ended(30), ended(50), ended(44), ended(36), Relief("no_relief"), None]
    found = outlook(reliefs, LATEST, reliefs[3], day(100))
    assert found is not None
    assert (found.ended_reliefs, found.shortest_days, found.median_days, found.longest_days) == (
        4,
        30,
        40.0,  # even count: the mean of 36 and 44
        50,
    )
    assert not found.longest_censored
    assert (found.latest_series_id, found.latest_relief_status) == (LATEST, "ended")
    assert found.expected_return == (day(131), day(151))  # end + 1 + 30, end + 1 + 50


def test_outlook_longest_counts_censored_reliefs_and_says_so() -> None:
    reliefs = [ended(30), ended(40), censored(70, "ongoing")]
    found = outlook(reliefs, LATEST, reliefs[2], day(0))
    assert found is not None
    assert (found.median_days, found.longest_days, found.longest_censored) == (35.0, 70, True)
    assert found.expected_return == (day(31), day(71))
    assert found.latest_relief_status == "ongoing"


def test_outlook_longest_tie_between_ended_and_censored_is_censored() -> None:
    found = outlook([ended(30), ended(70), censored(70)], LATEST, None, day(0))
    assert found is not None
    assert (found.longest_days, found.longest_censored, found.latest_relief_status) == (
        70,
        True,
        None,
    )


# --- Kaplan-Meier -----------------------------------------------------------------------------


def test_kaplan_meier_median_and_interval_from_scipy() -> None:
    # Events at 10, 20, 30, 40; censored at 25 and 50. S: 5/6, 4/6, (25: 4/6), 4/9, 2/9, 2/9.
    found = relief_survival(
        [(10, True), (20, True), (25, False), (30, True), (40, True), (50, False)]
    )
    assert (found.n, found.events) == (6, 4)
    assert found.median_days == 30.0  # the least time where S <= 0.5
    # Linear 95 % bounds: the lower reaches 0.5 at 20 (0.29), the upper never does (0.60).
    assert found.median_ci95 == (20.0, None)


def test_kaplan_meier_without_events_has_no_median() -> None:
    assert relief_survival([(40, False), (60, False)]) == ReliefSurvival(2, 0, None, (None, None))


def test_kaplan_meier_with_nothing_is_null_not_null_pair() -> None:
    assert relief_survival([]) == ReliefSurvival(0, 0, None, None)


def test_kaplan_meier_single_event_interval_undefined_without_warning() -> None:
    assert relief_survival([(12, True)]) == ReliefSurvival(1, 1, 12.0, (None, None))


# --- the cohort summary -----------------------------------------------------------------------


def entry(
    patient: int,
    series: int,
    start: int,
    booster: bool,
    responder: bool | None,
    relief: Relief | None,
) -> CohortEntry:
    return CohortEntry(UUID(int=patient), UUID(int=series), day(start), booster, responder, relief)


def test_cohort_group_takes_each_patient_earliest_series_in_the_group() -> None:
    entries = [
        entry(1, 11, 0, False, True, ended(40)),
        entry(1, 12, 60, True, True, ended(20)),  # the patient's first booster
        entry(1, 13, 100, True, False, ended(10)),  # later boosters do not count
        entry(1, 14, 500, False, False, Relief("no_relief")),  # a second course: not counted
        entry(2, 21, 5, False, None, censored(30)),
        entry(3, 31, 9, False, False, Relief("no_relief")),
    ]
    first = cohort_group(entries, booster=False)
    assert (first.n, first.responders, first.responder_rate, first.no_relief) == (3, 1, 0.5, 1)
    assert (first.relief.n, first.relief.events) == (2, 1)
    boosters = cohort_group(entries, booster=True)
    assert (boosters.n, boosters.responders, boosters.responder_rate) == (1, 1, 1.0)
    assert boosters.relief == relief_survival([(20, True)])


def test_cohort_group_empty_and_without_verdicts() -> None:
    empty = cohort_group([], booster=True)
    assert (empty.n, empty.responders, empty.responder_rate, empty.no_relief) == (0, 0, None, 0)
    assert empty.relief == ReliefSurvival(0, 0, None, None)
    pending = cohort_group([entry(1, 11, 0, False, None, None)], booster=False)
    assert (pending.n, pending.responder_rate) == (1, None)


@pytest.mark.parametrize("step", [1, -1])
def test_cohort_group_orders_a_patient_series_by_start_then_id(step: int) -> None:
    entries = [entry(1, 12, 0, False, True, None), entry(1, 11, 0, False, False, None)]
    group = cohort_group(entries[::step], booster=False)
    assert group.responders == 0  # series 11 comes first
