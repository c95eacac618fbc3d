"""A session's dose in mg and in mg/kg: one derived from the other through the patient's weight.

Arithmetic is decimal on the numbers as written (``0.45 * 70.5`` is exactly 31.725, not a binary
approximation), and derived values are rounded half up: mg to 0.1 mg, mg/kg to 0.001 mg/kg — the
precision a syringe or a pump is set to. Given values are stored as given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.errors import ValidationFailed
from app.vocabulary import MAX_DOSE_MG, MAX_DOSE_MG_PER_KG

MG_STEP = Decimal("0.1")
MG_PER_KG_STEP = Decimal("0.001")
# Both forms given: dose_mg may differ from dose_mg_per_kg * weight by this fraction of the latter
# (rounding on a pump or a rounded weight), no more: beyond it one of them is a typo.
TOLERANCE = Decimal("0.05")


@dataclass(frozen=True)
class Doses:
    dose_mg: float | None
    dose_mg_per_kg: float | None
    weight_kg: float | None  # the weight used to derive or cross-check; None when none was

    def columns(self) -> dict[str, float | None]:
        return {
            "dose_mg": self.dose_mg,
            "dose_mg_per_kg": self.dose_mg_per_kg,
            "weight_kg": self.weight_kg,
        }


def _exact(value: float) -> Decimal:
    return Decimal(repr(value))


def _rounded(value: Decimal, step: Decimal) -> float:
    return float(value.quantize(step, rounding=ROUND_HALF_UP))


def resolve(
    dose_mg: float | None,
    dose_mg_per_kg: float | None,
    weight_kg: float | None,
    *,
    loc: tuple[str, ...] = ("body",),
) -> Doses:
    """The doses to store. Without a weight, what was given; with one, the missing form is
    derived, or both forms are cross-checked (422 naming dose_mg_per_kg beyond 5 %)."""
    if weight_kg is None or (dose_mg is None and dose_mg_per_kg is None):
        return Doses(dose_mg, dose_mg_per_kg, None)
    weight = _exact(weight_kg)
    if dose_mg_per_kg is None:
        assert dose_mg is not None
        per_kg = _rounded(_exact(dose_mg) / weight, MG_PER_KG_STEP)
        if not 0 < per_kg <= MAX_DOSE_MG_PER_KG:
            raise ValidationFailed(
                [*loc, "dose_mg"],
                f"For the patient's weight of {weight_kg} kg this is {per_kg} mg/kg, outside "
                f"(0, {MAX_DOSE_MG_PER_KG}] mg/kg.",
            )
        return Doses(dose_mg, per_kg, weight_kg)
    expected = _exact(dose_mg_per_kg) * weight
    if dose_mg is None:
        mg = _rounded(expected, MG_STEP)
        if not 0 < mg <= MAX_DOSE_MG:
            raise ValidationFailed(
                [*loc, "dose_mg_per_kg"],
                f"For the patient's weight of {weight_kg} kg this is {mg} mg, outside "
                f"(0, {MAX_DOSE_MG}] mg.",
            )
        return Doses(mg, dose_mg_per_kg, weight_kg)
    if abs(_exact(dose_mg) - expected) > TOLERANCE * expected:
        raise ValidationFailed(
            [*loc, "dose_mg_per_kg"],
            f"dose_mg_per_kg * the patient's weight ({weight_kg} kg) is "
            f"{_rounded(expected, MG_STEP)} mg, which differs from dose_mg ({dose_mg} mg) by more "
            "than 5 %; correct one of them or send only one.",
        )
    return Doses(dose_mg, dose_mg_per_kg, weight_kg)


# --- dose safety (API.md, Treatments) ----------------------------------------------------------
# An IV infusion's rate is its mg/kg over its hours. Above the usual 1.0 mg/kg/h a session is
# flagged; above 2.0 mg/kg/h, or above 5 mg/kg in total by any route, it is refused unless the
# writer confirms it (``high_dose_confirmed: true``): then it is stored, flagged and audited.
USUAL_IV_RATE = Decimal("1.0")  # mg/kg/h
MAX_IV_RATE = Decimal("2.0")  # mg/kg/h
MAX_TOTAL_MG_PER_KG = Decimal("5")


def iv_rate(route: str, duration_minutes: int, dose_mg_per_kg: float | None) -> Decimal | None:
    """mg/kg/h of an IV session, or None (another route, or no mg/kg known)."""
    if route != "iv" or dose_mg_per_kg is None or duration_minutes <= 0:
        return None
    return _exact(dose_mg_per_kg) * 60 / Decimal(duration_minutes)


def rate_above_usual(route: str, duration_minutes: int, dose_mg_per_kg: float | None) -> bool:
    rate = iv_rate(route, duration_minutes, dose_mg_per_kg)
    return rate is not None and rate > USUAL_IV_RATE


def high_dose(route: str, duration_minutes: int, dose_mg_per_kg: float | None) -> str | None:
    """Why this dose needs ``high_dose_confirmed`` (the figures), or None when it does not."""
    if dose_mg_per_kg is None:
        return None
    if _exact(dose_mg_per_kg) > MAX_TOTAL_MG_PER_KG:
        return f"{dose_mg_per_kg} mg/kg is above {MAX_TOTAL_MG_PER_KG} mg/kg in one session"
    rate = iv_rate(route, duration_minutes, dose_mg_per_kg)
    if rate is not None and rate > MAX_IV_RATE:
        shown = rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
        return (
            f"{dose_mg_per_kg} mg/kg over {duration_minutes} minutes is {shown} mg/kg/h, above "
            f"{MAX_IV_RATE} mg/kg/h for an IV infusion"
        )
    return None


def check_high_dose(
    route: str,
    duration_minutes: int,
    dose_mg_per_kg: float | None,
    confirmed: bool,
    *,
    loc: Sequence[str | int] = ("body",),
) -> bool:
    """422 naming the figures for a high dose that is not confirmed; True for a confirmed one
    (the caller audits it as such)."""
    reason = high_dose(route, duration_minutes, dose_mg_per_kg)
    if reason is None:
        return False
    if not confirmed:
        raise ValidationFailed(
            [*loc, "dose_mg_per_kg"],
            f"{reason}. Check the dose and the duration; if they are right, send "
            "high_dose_confirmed: true with them.",
        )
    return True
