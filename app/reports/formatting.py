"""Number, date and label formatting for the report: a null is "—", never "None" or "nan"."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfoNotFoundError

from app.trends.days import local_day, wall_clock

MISSING = "—"
MINUS = "\u2212"  # a typographic minus reads better than a hyphen in print
EN_DASH = "\u2013"

WINDOW_LABELS = {
    "baseline": "Baseline",
    "reference_baseline": "Reference baseline",
    "treatment": "Treatment",
}
METRIC_LABELS = {
    "attacks_per_day": "Attacks per day",
    "mean_intensity": "Mean intensity",
    "pain_burden_per_day": "Pain burden per day",
}
# The thresholds are spelled out once, in the report's definitions.
CATEGORY_LABELS = {"no_change": "no change"}
MODALITY_LABELS = {
    "ketamine_iv": "Ketamine IV",
    "ketamine_im": "Ketamine IM",
    "ketamine_intranasal": "Ketamine intranasal",
    "ketamine_oral": "Ketamine oral",
    "esketamine_nasal": "Esketamine nasal spray",
    "other": "Other",
}
ROUTE_LABELS = {"iv": "IV", "im": "IM", "subcutaneous": "SC"}
ICHD3_LABELS = {
    "classical": "Classical trigeminal neuralgia (ICHD-3 13.1.1.1)",
    "secondary": "Secondary trigeminal neuralgia (ICHD-3 13.1.1.2)",
    "idiopathic": "Idiopathic trigeminal neuralgia (ICHD-3 13.1.1.3)",
    "unknown": "Trigeminal neuralgia, type not recorded",
}
INSTRUMENT_LABELS = {
    "phq9": "PHQ-9",
    "gad7": "GAD-7",
    "penn_fps_r": "Penn-FPS-R",
    "pgic": "PGIC",
    "cadss6": "CADSS-6",
}
PGIC_LABELS = {
    1: "very much improved",
    2: "much improved",
    3: "minimally improved",
    4: "no change",
    5: "minimally worse",
    6: "much worse",
    7: "very much worse",
}
SEVERITY_ORDER = ("mild", "moderate", "severe")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def number(value: float | None, digits: int = 1) -> str:
    """``value`` with ``digits`` decimals (integers as they are); "—" for null or non-finite."""
    if value is None or not _finite(value):
        return MISSING
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}".replace("-", MINUS)


def percent(fraction: float | None, digits: int = 0) -> str:
    """A fraction as a percentage: 0.857 -> "86 %"."""
    if fraction is None or not _finite(fraction):
        return MISSING
    return f"{100 * fraction:.{digits}f} %"


def signed_percent(change: float | None) -> str:
    """A change in per cent with its sign: "+12 %", or a typographic minus."""
    if change is None or not _finite(change):
        return MISSING
    return f"{change:+.0f} %".replace("-", MINUS)


def p_value(value: float | None) -> str:
    if value is None or not _finite(value):
        return MISSING
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def interval(bounds: tuple[float, float] | None, digits: int = 2) -> str:
    """A confidence interval: low and high joined by an en dash."""
    if bounds is None or not all(_finite(bound) for bound in bounds):
        return MISSING
    low, high = bounds
    return f"{number(low, digits)}{EN_DASH}{number(high, digits)}"


def day(value: date | None) -> str:
    return MISSING if value is None else value.isoformat()


def instant(value: datetime, timezone: str) -> str:
    """An aware instant in the patient's zone, e.g. "2026-03-01 10:15 (Europe/Berlin)"."""
    try:
        local = wall_clock(value, timezone)
    except (ZoneInfoNotFoundError, ValueError):
        local, timezone = wall_clock(value, "UTC"), "UTC"
    return f"{local:%Y-%m-%d %H:%M} ({timezone})"


def instant_day(value: datetime, timezone: str) -> str:
    """The patient's local day of an aware instant."""
    try:
        return local_day(value, timezone).isoformat()
    except (ZoneInfoNotFoundError, ValueError):
        return local_day(value, "UTC").isoformat()


def yes_no(value: bool | None) -> str:
    return MISSING if value is None else ("yes" if value else "no")


def window_label(name: str) -> str:
    if name.startswith("follow_up_"):
        return "Follow-up " + name.removeprefix("follow_up_")
    return WINDOW_LABELS.get(name, name)


def _label(labels: dict[str, str]) -> Callable[[str | None], str]:
    def label(value: str | None) -> str:
        if value is None:
            return MISSING
        return labels.get(value, value.replace("_", " "))

    return label


metric_label = _label(METRIC_LABELS)
category_label = _label(CATEGORY_LABELS)
modality_label = _label(MODALITY_LABELS)
route_label = _label(ROUTE_LABELS)
ichd3_label = _label(ICHD3_LABELS)
instrument_label = _label(INSTRUMENT_LABELS)
plain_label = _label({})


def pgic_label(total: int) -> str:
    return PGIC_LABELS.get(total, str(total))


# Severity bands by total (CLINICAL.md): PHQ-9 5/10/15/20, GAD-7 5/10/15.
SEVERITY_BANDS = {
    "phq9": ((20, "severe"), (15, "moderately severe"), (10, "moderate"), (5, "mild")),
    "gad7": ((15, "severe"), (10, "moderate"), (5, "mild")),
}


def severity_band(total: int, instrument: str) -> str:
    """The PHQ-9 or GAD-7 severity band of ``total``; empty for other instruments."""
    bands = SEVERITY_BANDS.get(instrument)
    if bands is None:
        return ""
    return next((name for low, name in bands if total >= low), "minimal")


def signed(value: int | None) -> str:
    """A change in points: "+6", "0", or a minus sign and the points; the dash when there is
    nothing to compare with."""
    if value is None:
        return MISSING
    if value > 0:
        return f"+{value}"
    return f"{MINUS}{-value}" if value < 0 else "0"


def worst_severity(severities: list[str]) -> str:
    """The most severe of ``severities`` (mild < moderate < severe; unknown ones rank last)."""
    return max(
        severities,
        key=lambda severity: SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else -1,
        default=MISSING,
    )


FILTERS: dict[str, Callable[..., str]] = {
    "num": number,
    "pct": percent,
    "change": signed_percent,
    "pvalue": p_value,
    "ci": interval,
    "day": day,
    "yesno": yes_no,
    "window": window_label,
    "metric": metric_label,
    "category": category_label,
    "modality": modality_label,
    "route": route_label,
    "ichd3": ichd3_label,
    "instrument": instrument_label,
    "label": plain_label,
    "pgic": pgic_label,
    "band": severity_band,
    "signed": signed,
}
