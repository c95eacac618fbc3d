"""Hypothesis properties of the trend maths."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.trends import CheckinRow, EpisodeRow, TrendInputs, TrendResult, Window, compute_trend
from app.trends.metrics import DiaryIndex, summarise, window_metrics
from tests.trends.builders import checkin, day, episode, no_attacks, session, trend_inputs

FAST = settings(max_examples=60, deadline=None)
TRIGGERS = ("eating", "talking", "touch", "spontaneous", "cold_wind")


@dataclass(frozen=True)
class Diary:
    """A drawn series: its inputs plus the day offsets the generator left without data."""

    inputs: TrendInputs
    empty_days: tuple[int, ...]
    first: int
    last: int


episodes_of_a_day = st.lists(
    st.builds(
        lambda attacks, intensity, duration, triggers: (attacks, intensity, duration, triggers),
        st.integers(1, 30),
        st.integers(1, 10),
        st.integers(1, 600),
        st.lists(st.sampled_from(TRIGGERS), max_size=2),
    ),
    max_size=3,  # [] = a "no attacks" check-in
)


@st.composite
def diaries(draw: st.DrawFn) -> Diary:
    baseline_days = draw(st.integers(7, 21))
    treatment_days = draw(st.integers(0, 5))
    follow_up_days = draw(st.integers(28, 60))
    as_of = treatment_days + draw(st.integers(0, 70))
    first, last = -baseline_days, treatment_days + follow_up_days
    days = draw(st.dictionaries(st.integers(first, last + 3), episodes_of_a_day, max_size=60))
    bni_days = draw(
        st.dictionaries(st.integers(first, last), st.sampled_from(["I", "IIIb", "IV", "V"]))
    )
    episodes = [
        episode(offset, attacks, intensity, duration, triggers)
        for offset, rows in days.items()
        for attacks, intensity, duration, triggers in rows
    ]
    checkins = [no_attacks(offset) for offset, rows in days.items() if not rows]
    checkins += [checkin(offset, bni=bni) for offset, bni in bni_days.items() if offset not in days]
    sessions = [session(0, before=8, after=4), session(treatment_days)]
    inputs = trend_inputs(
        as_of,
        sessions=sessions,
        episodes=episodes,
        checkins=checkins,
        baseline_days=baseline_days,
        follow_up_days=follow_up_days,
    )
    empty = tuple(d for d in range(first, last + 1) if d not in days and d not in bni_days)
    return Diary(inputs, empty, first, last)


def with_rows(
    inputs: TrendInputs,
    episodes: tuple[EpisodeRow, ...] | None = None,
    checkins: tuple[CheckinRow, ...] | None = None,
) -> TrendInputs:
    return dataclasses.replace(
        inputs,
        episodes=inputs.episodes if episodes is None else episodes,
        checkins=inputs.checkins if checkins is None else checkins,
    )


@FAST
@given(diary=diaries(), data=st.data())
def test_adding_unobserved_days_changes_nothing(diary: Diary, data: st.DataObject) -> None:
    # A check-in without no_attacks, BNI or background pain leaves its day unobserved.
    empty = diary.empty_days
    blanks = data.draw(st.lists(st.sampled_from(empty), unique=True)) if empty else []
    padded = with_rows(
        diary.inputs, checkins=(*diary.inputs.checkins, *(checkin(offset) for offset in blanks))
    )
    assert compute_trend(padded) == compute_trend(diary.inputs)


@FAST
@given(
    daily=st.lists(st.lists(st.tuples(st.integers(1, 20), st.integers(1, 10)), max_size=3),
                   min_size=1, max_size=20),
    gaps=st.data(),
)  # fmt: skip
def test_missing_days_are_never_zero_days(
    daily: list[list[tuple[int, int]]], gaps: st.DataObject
) -> None:
    """The same observed days, packed or spread over a longer window, give the same metrics."""
    spread_offsets, offset = [], 0
    for _ in daily:
        offset += gaps.draw(st.integers(0, 3))
        spread_offsets.append(offset)
        offset += 1

    def metrics_at(offsets: list[int], window_days: int) -> dict[str, object]:
        episodes = [
            episode(o, attacks, intensity)
            for o, rows in zip(offsets, daily, strict=True)
            for attacks, intensity in rows
        ]
        checkins = [no_attacks(o) for o, rows in zip(offsets, daily, strict=True) if not rows]
        window = Window("w", day(0), day(window_days - 1))
        summary = summarise(DiaryIndex.build(episodes, checkins), window.start, window.end)
        metrics = dataclasses.asdict(window_metrics(window, summary))
        # Blocks run over calendar days: spreading the days apart changes them.
        ignored = {"end", "days", "coverage", "weekly_rate_range"}
        return {k: v for k, v in metrics.items() if k not in ignored}

    assert metrics_at(spread_offsets, offset) == metrics_at(list(range(len(daily))), len(daily))


@FAST
@given(diary=diaries(), data=st.data())
def test_adding_then_deleting_an_episode_changes_nothing(diary: Diary, data: st.DataObject) -> None:
    extra = episode(data.draw(st.integers(diary.first, diary.last)), attacks=5, intensity=7)
    added = (*diary.inputs.episodes, extra)
    position = len(added) - 1 - added[::-1].index(extra)  # the row just added
    deleted = added[:position] + added[position + 1 :]
    assert compute_trend(with_rows(diary.inputs, episodes=deleted)) == compute_trend(diary.inputs)

    # ... while the episode itself did count, in the window of its day (if one holds it).
    before = compute_trend(diary.inputs).windows
    after = compute_trend(with_rows(diary.inputs, episodes=added)).windows
    for old, new in zip(before, after, strict=True):
        assert new.attacks == old.attacks + (5 if old.start <= extra.local_day <= old.end else 0)


@FAST
@given(diary=diaries(), data=st.data())
def test_row_order_does_not_matter(diary: Diary, data: st.DataObject) -> None:
    shuffler = random.Random(data.draw(st.integers(0, 2**32)))
    episodes, checkins = list(diary.inputs.episodes), list(diary.inputs.checkins)
    shuffler.shuffle(episodes)
    shuffler.shuffle(checkins)
    shuffled = with_rows(diary.inputs, tuple(episodes), tuple(checkins))
    assert compute_trend(shuffled) == compute_trend(diary.inputs)


@FAST
@given(diary=diaries(), k=st.integers(2, 9))
def test_scaling_attacks_by_k(diary: Diary, k: int) -> None:
    scaled_inputs = with_rows(
        diary.inputs,
        episodes=tuple(
            dataclasses.replace(row, attack_count=row.attack_count * k)
            for row in diary.inputs.episodes
        ),
    )
    plain, scaled = compute_trend(diary.inputs), compute_trend(scaled_inputs)
    for old, new in zip(plain.windows, scaled.windows, strict=True):
        assert new.attacks == k * old.attacks
        assert new.mean_intensity == old.mean_intensity
        for name in ("attacks_per_day", "attacks_per_28_days", "pain_burden_per_day"):
            _assert_scaled(getattr(old, name), getattr(new, name), k)
        if old.weekly_rate_range is None:
            assert new.weekly_rate_range is None
        else:
            assert new.weekly_rate_range == pytest.approx(
                [k * bound for bound in old.weekly_rate_range], rel=1e-12
            )
    for old_c, new_c in zip(plain.comparisons, scaled.comparisons, strict=True):
        if old_c.metric in ("attacks_per_day", "pain_burden_per_day"):
            assert new_c.change_pct == old_c.change_pct  # exact: the ratio is unchanged
            assert new_c.category == old_c.category
        if old_c.p_value is None:
            assert new_c.p_value is None
        else:
            assert new_c.p_value == pytest.approx(old_c.p_value, rel=1e-9)
        assert new_c.rate_ratio == old_c.rate_ratio
    assert scaled.responder == plain.responder
    assert scaled.baseline_flags == plain.baseline_flags
    if plain.relief is None:
        assert scaled.relief is None
    else:
        assert scaled.relief is not None
        assert dataclasses.replace(scaled.relief, lowest_rate=None, relief_rate=None) == (
            dataclasses.replace(plain.relief, lowest_rate=None, relief_rate=None)
        )


def _assert_scaled(old: float | None, new: float | None, k: int) -> None:
    if old is None:
        assert new is None
    else:
        assert new == pytest.approx(k * old, rel=1e-12)


@FAST
@given(diary=diaries())
def test_report_invariants(diary: Diary) -> None:
    result = compute_trend(diary.inputs)
    json.dumps(dataclasses.asdict(result), default=str, allow_nan=False)  # never a NaN
    for window in result.windows:
        assert 0 <= window.observed_days <= window.days
        assert window.coverage == window.observed_days / window.days
        assert window.pain_free_days <= window.observed_days
        assert window.spontaneous_attacks <= window.attacks
        assert (window.attacks_per_day is None) == (window.observed_days == 0)
        if window.weekly_rate_range is not None:
            low, high = window.weekly_rate_range
            assert window.observed_days >= 6
            assert 0 <= low <= high
    for comparison in result.comparisons:
        if comparison.category is not None:
            assert comparison.change_pct is not None
        if comparison.p_value is not None:
            assert comparison.metric == "attacks_per_day"
            assert 0.0 <= comparison.p_value <= 1.0
            assert not math.isnan(comparison.p_value)
    _relief_is_consistent(result)
    _baseline_is_stable(diary.inputs, result)


def _relief_is_consistent(result: TrendResult) -> None:
    relief = result.relief
    if relief is None:
        return
    with_onset = relief.status in {"ended", "ongoing", "censored"}
    assert (relief.onset_day is not None) == with_onset
    assert (relief.duration_days is not None) == with_onset
    assert (relief.end_day is not None) == (relief.status == "ended")
    assert (relief.censor_reason is None) == (relief.status in {"ended", "no_relief"})
    assert (relief.censor_reason == "as_of") == (
        relief.status == "ongoing"
        or (relief.status == "undetermined" and relief.censor_reason == "as_of")
    )
    if relief.onset_day is not None:
        assert relief.duration_days is not None
        assert relief.duration_days >= 1
        assert result.end < relief.onset_day <= result.as_of
        assert relief.depth_pct is not None
        assert relief.lowest_rate is not None
        assert relief.relief_rate is not None


def _baseline_is_stable(inputs: TrendInputs, result: TrendResult) -> None:
    """The baseline window (and its bootstrap) does not depend on how far as_of has moved."""
    later = compute_trend(dataclasses.replace(inputs, as_of=day(400)))
    assert later.windows[0] == result.windows[0]
