"""Per-window diary metrics, computed exactly (``Fraction``) and published as floats.

An observed day has at least one live episode or a check-in with ``no_attacks``; every other day
is missing data for the attack metrics, never a zero-attack day. Check-ins without ``no_attacks``
still feed the BNI and background-pain metrics.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import cached_property

from app.trends.days import day_range, inclusive_days
from app.trends.inputs import CheckinRow, EpisodeRow
from app.trends.windows import Window

BNI_ORDER = ("I", "II", "IIIa", "IIIb", "IV", "V")
BNI_CONTROLLED = frozenset(BNI_ORDER[:4])
SPONTANEOUS = "spontaneous"
COMPARED = ("attacks_per_day", "mean_intensity", "pain_burden_per_day")
BLOCK_DAYS = 7
BLOCK_MIN_OBSERVED_DAYS = 3


@dataclass(frozen=True)
class DiaryIndex:
    """Episodes and check-ins by local day, and the set of observed days."""

    episodes_by_day: Mapping[date, tuple[EpisodeRow, ...]]
    checkins_by_day: Mapping[date, tuple[CheckinRow, ...]]
    observed_days: frozenset[date]

    @classmethod
    def build(
        cls,
        episodes: Iterable[EpisodeRow],
        checkins: Iterable[CheckinRow],
        last_day: date | None = None,
    ) -> DiaryIndex:
        """Index the rows, ignoring those after ``last_day`` (data after ``as_of`` never exists)."""
        episodes_by_day: defaultdict[date, list[EpisodeRow]] = defaultdict(list)
        checkins_by_day: defaultdict[date, list[CheckinRow]] = defaultdict(list)
        for episode in episodes:
            if last_day is None or episode.local_day <= last_day:
                episodes_by_day[episode.local_day].append(episode)
        for checkin in checkins:
            if last_day is None or checkin.day <= last_day:
                checkins_by_day[checkin.day].append(checkin)
        no_attack_days = {
            day for day, rows in checkins_by_day.items() if any(row.no_attacks for row in rows)
        }
        return cls(
            episodes_by_day={day: tuple(rows) for day, rows in episodes_by_day.items()},
            checkins_by_day={day: tuple(rows) for day, rows in checkins_by_day.items()},
            observed_days=frozenset(episodes_by_day) | frozenset(no_attack_days),
        )


@dataclass(frozen=True)
class RangeSummary:
    """What a day range holds: the exact material every metric is computed from."""

    start: date
    end: date
    daily: tuple[tuple[date, int], ...]  # (day, attacks) for each observed day, in day order
    pain_free_days: int
    episodes: tuple[EpisodeRow, ...]
    checkins: tuple[CheckinRow, ...]

    @property
    def days(self) -> int:
        return inclusive_days(self.start, self.end)

    @property
    def observed_days(self) -> int:
        return len(self.daily)

    @cached_property
    def attacks(self) -> int:
        return sum(attacks for _, attacks in self.daily)

    @cached_property
    def burden(self) -> int:
        """Σ intensity x attack_count: each attack of a volley counts with its intensity."""
        return sum(episode.intensity * episode.attack_count for episode in self.episodes)

    @property
    def attacks_per_day(self) -> Fraction | None:
        return _ratio(self.attacks, self.observed_days)

    @property
    def mean_intensity(self) -> Fraction | None:
        """Attack-weighted: "30 shocks at NRS 9" weighs 30 times one shock."""
        return _ratio(self.burden, self.attacks)

    @property
    def pain_burden_per_day(self) -> Fraction | None:
        return _ratio(self.burden, self.observed_days)

    @property
    def max_intensity(self) -> int | None:
        return max((episode.intensity for episode in self.episodes), default=None)

    def exact(self, metric: str) -> Fraction | None:
        """One of the compared metrics by its contract name, exactly."""
        if metric not in COMPARED:
            raise ValueError(f"not a compared metric: {metric}")
        value: Fraction | None = getattr(self, metric)
        return value

    def block_rates(self) -> tuple[Fraction, ...]:
        """The rates of the counting 7-day blocks from ``start`` (≥ 3 observed days each)."""
        blocks: defaultdict[int, list[int]] = defaultdict(list)
        for day, attacks in self.daily:
            blocks[(day - self.start).days // BLOCK_DAYS].append(attacks)
        return tuple(
            Fraction(sum(counts), len(counts))
            for _, counts in sorted(blocks.items())
            if len(counts) >= BLOCK_MIN_OBSERVED_DAYS
        )


def summarise(index: DiaryIndex, start: date, end: date) -> RangeSummary:
    """Collect the observed days, episodes and check-ins of ``[start, end]``."""
    daily: list[tuple[date, int]] = []
    pain_free_days = 0
    episodes: list[EpisodeRow] = []
    checkins: list[CheckinRow] = []
    for day in day_range(start, end):
        day_episodes = index.episodes_by_day.get(day, ())
        episodes.extend(day_episodes)
        checkins.extend(index.checkins_by_day.get(day, ()))
        if day in index.observed_days:
            daily.append((day, sum(episode.attack_count for episode in day_episodes)))
            pain_free_days += not day_episodes
    return RangeSummary(start, end, tuple(daily), pain_free_days, tuple(episodes), tuple(checkins))


@dataclass(frozen=True)
class WindowMetrics:
    """One window of the trend report; field names are the contract's JSON names."""

    name: str
    start: date
    end: date
    days: int
    observed_days: int
    coverage: float
    attacks: int
    attacks_per_day: float | None
    weekly_rate_range: tuple[float, float] | None
    mean_intensity: float | None
    max_intensity: int | None
    pain_burden_per_day: float | None
    pain_free_days: int
    median_duration_seconds: float | None
    attacks_per_28_days: float | None
    spontaneous_attacks: int
    bni_controlled_fraction: float | None
    worst_bni: str | None
    mean_background_pain: float | None
    trigger_counts: dict[str, int]


def weekly_rate_range(summary: RangeSummary) -> tuple[float, float] | None:
    """[min, max] of the counting blocks' rates; ``None`` under 2 counting blocks."""
    rates = summary.block_rates()
    if len(rates) < 2:
        return None
    return float(min(rates)), float(max(rates))


def window_metrics(window: Window, summary: RangeSummary) -> WindowMetrics:
    """The published metrics of ``window``."""
    attacks_per_day = summary.attacks_per_day
    bnis = [row.bni for row in summary.checkins if row.bni is not None]
    background = [
        row.background_pain for row in summary.checkins if row.background_pain is not None
    ]
    # Per attack: a volley of 30 shocks logged as 60 s lasted 2 s a shock.
    durations = [
        Fraction(episode.duration_seconds, episode.attack_count) for episode in summary.episodes
    ]
    return WindowMetrics(
        name=window.name,
        start=window.start,
        end=window.end,
        days=summary.days,
        observed_days=summary.observed_days,
        coverage=summary.observed_days / summary.days,
        attacks=summary.attacks,
        attacks_per_day=as_float(attacks_per_day),
        weekly_rate_range=weekly_rate_range(summary),
        mean_intensity=as_float(summary.mean_intensity),
        max_intensity=summary.max_intensity,
        pain_burden_per_day=as_float(summary.pain_burden_per_day),
        pain_free_days=summary.pain_free_days,
        median_duration_seconds=float(statistics.median(durations)) if durations else None,
        attacks_per_28_days=as_float(None if attacks_per_day is None else 28 * attacks_per_day),
        spontaneous_attacks=sum(
            episode.attack_count
            for episode in summary.episodes
            if set(episode.triggers) <= {SPONTANEOUS}
        ),
        bni_controlled_fraction=as_float(
            _ratio(sum(bni in BNI_CONTROLLED for bni in bnis), len(bnis))
        ),
        worst_bni=max(bnis, key=_bni_rank, default=None),
        mean_background_pain=as_float(_ratio(sum(background), len(background))),
        trigger_counts=trigger_counts(summary.episodes),
    )


def trigger_counts(episodes: Iterable[EpisodeRow]) -> dict[str, int]:
    """Attacks per trigger (Σ attack_count of the episodes naming it), keys sorted."""
    counts: Counter[str] = Counter()
    for episode in episodes:
        for trigger in set(episode.triggers):
            counts[trigger] += episode.attack_count
    return dict(sorted(counts.items()))


def _bni_rank(bni: str) -> int:
    # An unknown grade cannot come from the API; rank it worst rather than fail a report.
    return BNI_ORDER.index(bni) if bni in BNI_ORDER else len(BNI_ORDER)


def _ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def as_float(value: Fraction | None) -> float | None:
    """A published float from an exact value (``None`` stays ``None``)."""
    return None if value is None else float(value)
