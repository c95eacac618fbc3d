"""The enumerations and limits of the domain, defined once.

The pydantic schemas validate against the ``Literal`` types and the limits; the models build
their CHECK constraints, column sizes and bit masks from the same names, so the two can never
drift apart. The tuples' order is part of the stored data (bit masks): append only.
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

# Questionnaires: instrument → (item count, item minimum, item maximum); the total is the sum of
# the items.
Instrument = Literal["phq9", "gad7", "penn_fps_r", "pgic", "cadss6"]
INSTRUMENTS: dict[str, tuple[int, int, int]] = {
    "phq9": (9, 0, 3),
    "gad7": (7, 0, 3),
    "penn_fps_r": (12, 0, 10),
    "pgic": (1, 1, 7),
    "cadss6": (6, 0, 4),
}
assert get_args(Instrument) == tuple(INSTRUMENTS)

# Sizes of free text, in characters.
NOTE_MAX = 2000
NAME_MAX = 200
PROTOCOL_MAX = 2000

# Doses above these are typos, not treatments.
MAX_DOSE_MG_PER_DAY = 100_000
MAX_DOSE_MG = 5000
MAX_DOSE_MG_PER_KG = 20
