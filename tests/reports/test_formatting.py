"""Report formatting: sensible decimals, and a dash wherever a value is missing."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from app.reports import formatting as fmt

MINUS = "\u2212"
DASH = "\u2014"


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        (fmt.number, None, DASH),
        (fmt.number, math.nan, DASH),
        (fmt.number, math.inf, DASH),
        (fmt.number, 7, "7"),
        (fmt.number, 0, "0"),
        (fmt.number, 2.345, "2.3"),
        (fmt.number, -0.25, f"{MINUS}0.2"),
        (fmt.percent, None, DASH),
        (fmt.percent, math.nan, DASH),
        (fmt.percent, 0.857, "86 %"),
        (fmt.percent, 0.0, "0 %"),
        (fmt.signed_percent, None, DASH),
        (fmt.signed_percent, -62.4, f"{MINUS}62 %"),
        (fmt.signed_percent, 12.0, "+12 %"),
        (fmt.p_value, None, DASH),
        (fmt.p_value, math.nan, DASH),
        (fmt.p_value, 0.0004, "< 0.001"),
        (fmt.p_value, 0.0123, "0.012"),
        (fmt.p_value, 1.0, "1.000"),
        (fmt.interval, None, DASH),
        (fmt.interval, (1.234, 3.5), "1.23\u20133.50"),
        (fmt.interval, (math.nan, 3.5), DASH),
        (fmt.day, None, DASH),
        (fmt.day, date(2026, 1, 2), "2026-01-02"),
        (fmt.yes_no, None, DASH),
        (fmt.yes_no, True, "yes"),
        (fmt.yes_no, False, "no"),
    ],
)
def test_values(function: Callable[[object], str], value: object, expected: str) -> None:
    assert function(value) == expected


def test_decimals_can_be_chosen() -> None:
    assert fmt.number(2.345, 2) == "2.35"
    assert fmt.number(400.0, 0) == "400"
    assert fmt.percent(0.8567, 1) == "85.7 %"


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        (fmt.window_label, "baseline", "Baseline"),
        (fmt.window_label, "follow_up_12", "Follow-up 12"),
        (fmt.metric_label, "attacks_per_day", "Attacks per day"),
        (fmt.category_label, "no_change", "no change"),
        (fmt.category_label, "substantial", "substantial"),
        (fmt.category_label, None, DASH),
        (fmt.modality_label, "esketamine_nasal", "Esketamine nasal spray"),
        (fmt.route_label, "iv", "IV"),
        (fmt.route_label, "intranasal", "intranasal"),
        (fmt.ichd3_label, "unknown", "Trigeminal neuralgia, type not recorded"),
        (fmt.instrument_label, "penn_fps_r", "Penn-FPS-R"),
        (fmt.instrument_label, "new_scale", "new scale"),  # unknown values pass through
        (fmt.plain_label, "tachycardia", "tachycardia"),
    ],
)
def test_labels(function: Callable[[str | None], str], value: str | None, expected: str) -> None:
    assert function(value) == expected


def test_pgic_and_severity() -> None:
    assert fmt.pgic_label(2) == "much improved"
    assert fmt.pgic_label(9) == "9"
    assert fmt.worst_severity(["mild", "severe", "moderate"]) == "severe"
    assert fmt.worst_severity(["odd", "mild"]) == "mild"
    assert fmt.worst_severity([]) == DASH


def test_instants_are_shown_in_the_patients_zone() -> None:
    moment = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)
    assert fmt.instant(moment, "Europe/Berlin") == "2026-07-02 00:30 (Europe/Berlin)"
    assert fmt.instant_day(moment, "Europe/Berlin") == "2026-07-02"
    # A zone the server does not know falls back to UTC, and says so.
    assert fmt.instant(moment, "Mars/Olympus") == "2026-07-01 22:30 (UTC)"
    assert fmt.instant_day(moment, "Mars/Olympus") == "2026-07-01"
