"""The cohort page's Kaplan-Meier chart from the cohort table's rows."""

from __future__ import annotations

import uuid

from app.reports.km import KmGroup, render_km_chart
from app.schemas.trends import CohortOut, CohortRowOut

WITH_ONSET = ("ended", "ongoing", "censored")


def km_groups(result: CohortOut) -> list[KmGroup]:
    """First series and boosters, one series per patient (the earliest by start, id), as the
    cohort summary counts them: the reliefs with an onset."""
    groups = []
    for booster, label in ((False, "First series"), (True, "Boosters")):
        earliest: dict[uuid.UUID, CohortRowOut] = {}
        rows = [row for row in result.items if row.booster is booster and row.start is not None]
        for row in sorted(rows, key=lambda row: (row.start, str(row.series_id))):
            earliest.setdefault(row.patient_id, row)
        chosen = [
            row
            for row in earliest.values()
            if row.relief_status in WITH_ONSET and row.relief_days is not None
        ]
        groups.append(
            KmGroup(
                label,
                tuple(row.relief_days or 0 for row in chosen),
                tuple(row.relief_status == "ended" for row in chosen),
            )
        )
    return groups


def km_svg(result: CohortOut) -> str:
    return render_km_chart(km_groups(result))
