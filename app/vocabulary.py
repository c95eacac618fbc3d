"""The enumerations of the domain, defined once.

The pydantic schemas validate against the ``Literal`` types; the models build their CHECK
constraints and bit masks from the tuples derived here, so the two can never drift apart. The
tuples' order is part of the stored data (bit masks): append only.
"""

from __future__ import annotations

from typing import Literal, get_args

Trigger = Literal[
    "eating",
    "chewing",
    "talking",
    "touch",
    "brushing_teeth",
    "washing_face",
    "shaving",
    "makeup",
    "cold_wind",
    "drinking",
    "smiling",
    "head_movement",
    "spontaneous",
    "other",
]
Quality = Literal["electric", "stabbing", "burning", "aching", "throbbing"]
Branch = Literal["V1", "V2", "V3"]
Side = Literal["left", "right", "bilateral"]
Bni = Literal["I", "II", "IIIa", "IIIb", "IV", "V"]
Modality = Literal[
    "ketamine_iv",
    "ketamine_im",
    "ketamine_intranasal",
    "ketamine_oral",
    "esketamine_nasal",
    "other",
]
Route = Literal["iv", "im", "intranasal", "oral", "subcutaneous"]
Effect = Literal[
    "dissociation",
    "nausea",
    "vomiting",
    "hypertension",
    "tachycardia",
    "dizziness",
    "headache",
    "hallucination",
    "anxiety",
    "sedation",
    "other",
]
Severity = Literal["mild", "moderate", "severe"]

TRIGGERS: tuple[str, ...] = get_args(Trigger)
QUALITIES: tuple[str, ...] = get_args(Quality)
BRANCHES: tuple[str, ...] = get_args(Branch)
SIDES: tuple[str, ...] = get_args(Side)
BNI_GRADES: tuple[str, ...] = get_args(Bni)
MODALITIES: tuple[str, ...] = get_args(Modality)
ROUTES: tuple[str, ...] = get_args(Route)
ADVERSE_EFFECTS: tuple[str, ...] = get_args(Effect)
SEVERITIES: tuple[str, ...] = get_args(Severity)
