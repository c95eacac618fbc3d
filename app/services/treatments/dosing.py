"""A session's dose in mg and in mg/kg: one derived from the other through the patient's weight.

Arithmetic is decimal on the numbers as written (``0.45 * 70.5`` is exactly 31.725, not a binary
approximation), and derived values are rounded half up: mg to 0.1 mg, mg/kg to 0.001 mg/kg — the
precision a syringe or a pump is set to. Given values are stored as given.
"""

from __future__ import annotations

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
