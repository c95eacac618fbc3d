"""Shared trend scenarios: a diary written through the API, series and sessions as rows.

The Berlin scenario (baseline_days 7, follow_up_days 56; days are local, Europe/Berlin):

baseline 2026-03-25 .. 03-31 (DST starts on Sunday 03-29):
  03-24 23:30 CET   50 attacks         before the baseline: not counted
  03-25 23:30 CET   4 attacks, NRS 8   (22:30 UTC)
  03-26 00:30 CET   4 attacks, NRS 8   (23:30 UTC on 03-25: must count on 03-26)
  03-27             missing (a check-in with BNI IV but without no_attacks is not an observed day)
  03-28 09:00       4 attacks, NRS 8 (eating, talking); 19:00 2 attacks, NRS 6 (spontaneous)
  03-29 01:30 CET   3 attacks, NRS 7;  23:30 CEST 3 attacks, NRS 7
  03-30             check-in "no attacks"
  03-31 00:30 CEST  4 attacks, NRS 8   (22:30 UTC on 03-30: must count on 03-31, DST-correct)
  03-31 12:00       100 attacks        deleted: not counted
  → observed 6 of 7, attacks 24, 4.0 a day; 7 episodes, mean NRS 52/7; burden 182/6.
sessions: 04-01 completed (pain 8 → 3, nausea), 04-02 incomplete (hypertension),
  04-03 completed (6 → 2), 04-06 incomplete (dissociation), 04-10 completed but deleted (vomiting).
treatment 04-01 .. 04-03: 04-01 2 attacks NRS 6, 04-02 "no attacks", 04-03 missing.
follow_up_1 04-04 .. 05-01: "no attacks" 04-04 .. 04-17, then 3 attacks NRS 5 daily.
follow_up_2 05-02 ..: nothing at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.models import TreatmentSession
from app.services.context import AppContext
from tests.helpers import Account, Api
from tests.trend_data import (
    API,
    add_series,
    add_session,
    checkin,
    delete_row,
    episode,
    no_attack_days,
    series_url,
    upload,
)


def days(first: str, count: int) -> list[str]:
    start = date.fromisoformat(first)
    return [(start + timedelta(days=n)).isoformat() for n in range(count)]


@dataclass
class Scenario:
    patient: Account
    series_id: uuid.UUID


def berlin_scenario(
    api: Api,
    client: TestClient,
    ctx: AppContext,
    *,
    name: str = "Test Patient",
    notes: str | None = None,
) -> Scenario:
    patient = api.register(timezone="Europe/Berlin", name=name)
    assert patient.patient_id is not None
    pid = patient.patient_id
    spontaneous = ["spontaneous"]
    baseline = [
        episode("2026-03-24T23:30:00+01:00", 50, 9),
        episode("2026-03-25T23:30:00+01:00", 4, 8),
        episode("2026-03-26T00:30:00+01:00", 4, 8),
        episode("2026-03-28T09:00:00+01:00", 4, 8, triggers=["eating", "talking"]),
        episode("2026-03-28T19:00:00+01:00", 2, 6, triggers=spontaneous),
        episode("2026-03-29T01:30:00+01:00", 3, 7),
        episode("2026-03-29T23:30:00+02:00", 3, 7),
        episode("2026-03-31T00:30:00+02:00", 4, 8),
    ]
    deleted = episode("2026-03-31T12:00:00+02:00", 100, 10)
    treatment = [episode("2026-04-01T20:00:00+02:00", 2, 6)]
    follow_up = [episode(f"{day}T12:00:00+02:00", 3, 5) for day in days("2026-04-18", 14)]
    upload(client, patient, [*baseline, deleted, *treatment, *follow_up])
    r = client.delete(f"{API}/patients/me/episodes/{deleted['id']}", headers=patient.headers)
    assert r.status_code == 204
    checkin(client, patient, "2026-03-25", bni="V")
    checkin(client, patient, "2026-03-26", bni="IV", background_pain=3)
    checkin(client, patient, "2026-03-27", bni="IV")
    no_attack_days(client, patient, ["2026-03-30", "2026-04-02", *days("2026-04-04", 14)])

    sid = add_series(ctx, pid, baseline_days=7, follow_up_days=56)
    add_session(
        ctx,
        pid,
        sid,
        "2026-04-01T10:00:00+02:00",
        pain_before=8,
        pain_after=3,
        adverse_effects=[("nausea", "mild")],
        notes=notes,
    )
    add_session(
        ctx,
        pid,
        sid,
        "2026-04-02T10:00:00+02:00",
        completed=False,
        adverse_effects=[("hypertension", "severe")],
    )
    add_session(ctx, pid, sid, "2026-04-03T10:00:00+02:00", pain_before=6, pain_after=2)
    add_session(
        ctx,
        pid,
        sid,
        "2026-04-06T10:00:00+02:00",
        completed=False,
        adverse_effects=[("dissociation", "moderate")],
    )
    gone = add_session(
        ctx, pid, sid, "2026-04-10T10:00:00+02:00", adverse_effects=[("vomiting", "mild")]
    )
    delete_row(ctx, TreatmentSession, gone)
    return Scenario(patient, sid)


def get_trend(client: TestClient, scenario: Scenario, as_of: str | None) -> dict[str, Any]:
    params = {} if as_of is None else {"as_of": as_of}
    r = client.get(
        series_url("me", scenario.series_id, "trend"),
        params=params,
        headers=scenario.patient.headers,
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body: dict[str, Any] = r.json()
    return body
