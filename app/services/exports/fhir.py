"""FHIR R4 resources built from database rows, as plain dicts (no FHIR library at run time).

Codes are only those we verified; anything without a verified standard code carries
``code.text`` alone, and our own enumerations (triggers, qualities, BNI grades) use code
systems under ``LOCAL_SYSTEM`` rather than borrowed standard codes. Patient-reported scores
use the ``survey`` observation category: the R4 ``vital-signs`` category brings the vital signs
profile, whose code list does not contain pain scores.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping

from app.services.diary.episodes import from_mask
from app.trends.days import utc_text
from app.vocabulary import BRANCHES, QUALITIES, TRIGGERS

Json = dict[str, Any]

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
# HL7 extensions: laterality of a body site (mCODE, usable on Condition/Observation.bodySite)
# and the date a condition was first asserted (the diagnosis date), from the R4 core.
LATERALITY_EXTENSION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"
ASSERTED_DATE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"
LOCAL_SYSTEM = "https://paindiary.example/fhir/CodeSystem/"
# Stable ids for resources without a UUID of their own (the condition, check-ins).
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://paindiary.example/fhir")

PAIN_SEVERITY = {
    "system": LOINC,
    "code": "72514-3",
    "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}
TRIGEMINAL_NEURALGIA = [
    {"system": SNOMED, "code": "31681005", "display": "Trigeminal neuralgia"},
    {"system": ICD10, "code": "G50.0", "display": "Trigeminal neuralgia"},
]
LATERALITY = {
    "left": {"system": SNOMED, "code": "7771000", "display": "Left"},
    "right": {"system": SNOMED, "code": "24028007", "display": "Right"},
    "bilateral": {"system": SNOMED, "code": "51440002", "display": "Right and left"},
}
BRANCH_TEXT = {
    "V1": "V1, ophthalmic division of the trigeminal nerve",
    "V2": "V2, maxillary division of the trigeminal nerve",
    "V3": "V3, mandibular division of the trigeminal nerve",
}
ROUTES = {
    "iv": {"system": SNOMED, "code": "47625008", "display": "Intravenous route"},
    "im": {"system": SNOMED, "code": "78421000", "display": "Intramuscular route"},
    "intranasal": {"system": SNOMED, "code": "46713006", "display": "Nasal route"},
    "oral": {"system": SNOMED, "code": "26643006", "display": "Oral route"},
    "subcutaneous": {"system": SNOMED, "code": "34206005", "display": "Subcutaneous route"},
}
KETAMINE = {
    "coding": [{"system": RXNORM, "code": "6130", "display": "ketamine"}],
    "text": "ketamine",
}
ESKETAMINE_NASAL = {
    "coding": [{"system": RXNORM, "code": "2201623", "display": "esketamine Nasal Spray"}],
    "text": "esketamine nasal spray",
}
INSTRUMENTS: dict[str, Json] = {
    "phq9": {
        "coding": [
            {
                "system": LOINC,
                "code": "44261-6",
                "display": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
            }
        ],
        "text": "PHQ-9 total score",
    },
    "gad7": {
        "coding": [
            {
                "system": LOINC,
                "code": "70274-6",
                "display": "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
            }
        ],
        "text": "GAD-7 total score",
    },
    "penn_fps_r": {"text": "Penn Facial Pain Scale-Revised (Penn-FPS-R) total score"},
    "pgic": {"text": "Patient Global Impression of Change (PGIC), 1-7"},
    "cadss6": {"text": "Clinician-Administered Dissociative States Scale, 6 items (CADSS-6)"},
}
SURVEY = [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}]


def urn(value: uuid.UUID) -> str:
    return f"urn:uuid:{value}"


def condition_id(patient_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(ID_NAMESPACE, f"condition:{patient_id}")


def checkin_id(patient_id: uuid.UUID, day: dt.date) -> uuid.UUID:
    return uuid.uuid5(ID_NAMESPACE, f"checkin:{patient_id}:{day.isoformat()}")


def entry(resource: Json) -> Json:
    """A bundle entry; references between resources use these ``urn:uuid`` full URLs."""
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _subject(patient_id: uuid.UUID) -> Json:
    return {"reference": urn(patient_id)}


def _local(kind: str, code: str) -> Json:
    return {"coding": [{"system": LOCAL_SYSTEM + kind, "code": code}], "text": code}


def _laterality(side: str | None) -> list[Json]:
    if side is None:
        return []
    return [{"url": LATERALITY_EXTENSION, "valueCodeableConcept": {"coding": [LATERALITY[side]]}}]


def _body_sites(side: str | None, branches: Sequence[str]) -> list[Json]:
    """One site per affected division, each with the side as a laterality qualifier."""
    sites: list[Json] = [{"text": BRANCH_TEXT[branch]} for branch in branches]
    if not sites and side is not None:
        sites = [{"text": "Trigeminal nerve territory of the face"}]
    for site in sites:
        if side is not None:
            site["extension"] = _laterality(side)
    return sites


def patient(row: RowMapping) -> Json:
    """No identifiers leave: the record id, the name the patient chose, a birth year at most."""
    resource: Json = {
        "resourceType": "Patient",
        "id": str(row["id"]),
        "name": [{"text": row["display_name"]}],
    }
    if row["birth_year"] is not None:
        resource["birthDate"] = f"{row['birth_year']:04d}"
    return resource


def condition(row: RowMapping) -> Json:
    notes = [f"ICHD-3 subtype: {row['ichd3_type']}"]
    if row["concomitant_continuous_pain"]:
        notes.append("With concomitant continuous pain")
    resource: Json = {
        "resourceType": "Condition",
        "id": str(condition_id(row["id"])),
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": {"coding": TRIGEMINAL_NEURALGIA, "text": "Trigeminal neuralgia"},
        "subject": _subject(row["id"]),
        "note": [{"text": text} for text in notes],
    }
    sites = _body_sites(row["side"], sorted(row["branches"] or []))
    if sites:
        resource["bodySite"] = sites
    if row["diagnosed_on"] is not None:
        resource["extension"] = [
            {"url": ASSERTED_DATE_EXTENSION, "valueDateTime": row["diagnosed_on"].isoformat()}
        ]
    return resource


def _text_component(text: str, **value: Any) -> Json:
    return {"code": {"text": text}, **value}


def episode(row: RowMapping) -> Json:
    start = row["started_at"]
    components = [
        _text_component("Number of attacks in this episode", valueInteger=row["attack_count"])
    ]
    components += [
        _text_component("Trigger", valueCodeableConcept=_local("trigger", name))
        for name in from_mask(row["trigger_mask"], TRIGGERS)
    ]
    components += [
        _text_component("Pain quality", valueCodeableConcept=_local("pain-quality", name))
        for name in from_mask(row["quality_mask"], QUALITIES)
    ]
    if row["rescue_medication"]:
        components.append(
            _text_component("Rescue medication", valueString=row["rescue_medication"])
        )
    resource: Json = {
        "resourceType": "Observation",
        "id": str(row["id"]),
        "status": "final",
        "category": SURVEY,
        "code": {"coding": [PAIN_SEVERITY], "text": "Trigeminal neuralgia attack intensity"},
        "subject": _subject(row["patient_id"]),
        "effectivePeriod": {
            "start": utc_text(start),
            "end": utc_text(start + dt.timedelta(seconds=row["duration_seconds"])),
        },
        "valueInteger": row["intensity"],
        "component": components,
    }
    sites = _body_sites(row["side"], from_mask(row["branch_mask"], BRANCHES))
    if sites:
        # Observation.bodySite holds one site: the divisions together, with the side.
        resource["bodySite"] = {
            "text": "; ".join(site["text"] for site in sites),
            **({"extension": _laterality(row["side"])} if row["side"] else {}),
        }
    if row["note"]:
        resource["note"] = [{"text": row["note"]}]
    return resource


def checkin(row: RowMapping) -> Json:
    """One observation per daily check-in; each answer is a component."""
    components = [_text_component("No attacks on this day", valueBoolean=row["no_attacks"])]
    if row["background_pain"] is not None:
        components.append(
            {
                "code": {
                    "coding": [PAIN_SEVERITY],
                    "text": "Background (continuous) pain between attacks",
                },
                "valueInteger": row["background_pain"],
            }
        )
    if row["bni"] is not None:
        components.append(
            _text_component(
                "BNI pain intensity score", valueCodeableConcept=_local("bni", row["bni"])
            )
        )
    if row["mood"] is not None:
        components.append(_text_component("Mood, 0-10 (self-rated)", valueInteger=row["mood"]))
    if row["sleep_hours"] is not None:
        components.append(
            _text_component(
                "Sleep duration",
                valueQuantity={
                    "value": row["sleep_hours"],
                    "unit": "h",
                    "system": UCUM,
                    "code": "h",
                },
            )
        )
    resource: Json = {
        "resourceType": "Observation",
        "id": str(checkin_id(row["patient_id"], row["local_date"])),
        "status": "final",
        "category": SURVEY,
        "code": {"text": "Daily trigeminal neuralgia check-in"},
        "subject": _subject(row["patient_id"]),
        "effectiveDateTime": row["local_date"].isoformat(),
        "component": components,
    }
    if row["note"]:
        resource["note"] = [{"text": row["note"]}]
    return resource


def assessment(row: RowMapping) -> Json:
    instrument = row["instrument"]
    return {
        "resourceType": "Observation",
        "id": str(row["id"]),
        "status": "final",
        "category": SURVEY,
        "code": INSTRUMENTS[instrument],
        "subject": _subject(row["patient_id"]),
        "effectiveDateTime": utc_text(row["taken_at"]),
        "valueInteger": row["total"],
        "component": [
            _text_component(f"{instrument} item {index}", valueInteger=value)
            for index, value in enumerate(row["items"], start=1)
        ],
    }


def _medication(modality: str, series_name: str) -> Json:
    if modality.startswith("ketamine_"):
        return KETAMINE
    if modality == "esketamine_nasal":
        return ESKETAMINE_NASAL
    return {"text": f"Treatment of the series '{series_name}' (drug not specified)"}


def _dose(row: RowMapping) -> Json | None:
    if row["dose_mg"] is not None:
        return {"value": row["dose_mg"], "unit": "mg", "system": UCUM, "code": "mg"}
    if row["dose_mg_per_kg"] is not None:
        return {"value": row["dose_mg_per_kg"], "unit": "mg/kg", "system": UCUM, "code": "mg/kg"}
    return None


def _session_notes(row: RowMapping) -> list[str]:
    notes = []
    if row["pain_before"] is not None or row["pain_after"] is not None:
        notes.append(f"Pain (NRS 0-10) before: {row['pain_before']}, after: {row['pain_after']}")
    vitals = [
        f"{label} {row[column]}"
        for label, column in (
            ("systolic max", "systolic_max"),
            ("diastolic max", "diastolic_max"),
            ("heart rate max", "heart_rate_max"),
            ("SpO2 min", "spo2_min"),
        )
        if row[column] is not None
    ]
    if vitals:
        notes.append("Vitals: " + ", ".join(vitals))
    effects = row["adverse_effects"] or []
    if effects:
        listed = ", ".join(f"{e['effect']} ({e['severity']})" for e in effects)
        notes.append(f"Adverse effects: {listed}")
    if row["notes"]:
        notes.append(row["notes"])
    return notes


def medication_administration(row: RowMapping) -> Json:
    """One per session: ``stopped`` when the session was not completed (R4: halted before all
    of it was given), else ``completed``."""
    start = row["started_at"]
    dosage: Json = {"route": {"coding": [ROUTES[row["route"]]], "text": row["route"]}}
    dose = _dose(row)
    if dose is not None:
        dosage["dose"] = dose
    if row["dose_mg"] is not None and row["dose_mg_per_kg"] is not None:
        dosage["text"] = f"{row['dose_mg']} mg ({row['dose_mg_per_kg']} mg/kg)"
    resource: Json = {
        "resourceType": "MedicationAdministration",
        "id": str(row["id"]),
        "status": "completed" if row["completed"] else "stopped",
        "medicationCodeableConcept": _medication(row["modality"], row["series_name"]),
        "subject": _subject(row["patient_id"]),
        "effectivePeriod": {
            "start": utc_text(start),
            "end": utc_text(start + dt.timedelta(minutes=row["duration_minutes"])),
        },
        "dosage": dosage,
    }
    notes = _session_notes(row)
    if notes:
        resource["note"] = [{"text": text} for text in notes]
    return resource
