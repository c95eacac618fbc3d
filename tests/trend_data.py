"""The one builder of trend data for the tests: a patient's diary, treatment series, sessions,
medications and questionnaires, every record written through the API as a client would.

Days are given as offsets from ``DAY0`` in the patient's zone (``stamp`` turns them into
RFC 3339 timestamps with the zone's offset of that instant, DST included) or as ISO dates.
Pure tests of ``app.trends`` build their dataclasses with ``tests.trends.builders`` instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi.testclient import TestClient

from tests.diary import series_url as series_url
from tests.helpers import Account, Api

API = "/api/v1"
DAY0 = date(2026, 3, 2)  # a Monday, well in the past


def day(offset: int) -> date:
    return DAY0 + timedelta(days=offset)


def iso(offset: int) -> str:
    return day(offset).isoformat()


def days(first: str, count: int) -> list[str]:
    """``count`` consecutive ISO dates from ``first``."""
    start = date.fromisoformat(first)
    return [(start + timedelta(days=n)).isoformat() for n in range(count)]


def stamp(offset: int, hour: float = 12, zone: str = "Europe/Berlin") -> str:
    """The RFC 3339 timestamp of ``hour`` o'clock on day ``offset`` in ``zone``."""
    moment = datetime.combine(day(offset), time()) + timedelta(hours=hour)
    return moment.replace(tzinfo=ZoneInfo(zone)).isoformat()


def episode(started_at: str, attacks: int = 1, intensity: int = 5, **fields: Any) -> dict[str, Any]:
    """An episode body with a client id; ``fields`` add or override members."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "started_at": started_at,
        "duration_seconds": 30,
        "attack_count": attacks,
        "intensity": intensity,
    }
    body.update(fields)
    return body


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json() if response.content else None


@dataclass
class TrendPatient:
    """A registered patient whose trend data the test writes through the API."""

    client: TestClient
    account: Account
    zone: str

    @property
    def pid(self) -> uuid.UUID:
        assert self.account.patient_id is not None
        return self.account.patient_id

    @property
    def headers(self) -> dict[str, str]:
        return self.account.headers

    def at(self, offset: int, hour: float = 12) -> str:
        """A timestamp on day ``offset`` in the patient's zone."""
        return stamp(offset, hour, self.zone)

    # --- diary ---------------------------------------------------------------------------

    def upload(self, episodes: Iterable[dict[str, Any]]) -> list[str]:
        """Episodes through the batch endpoint (500 at a time); returns their ids."""
        items = list(episodes)
        for first in range(0, len(items), 500):
            body = ok(
                self.client.post(
                    f"{API}/patients/me/episodes/batch",
                    json={"items": items[first : first + 500]},
                    headers=self.headers,
                )
            )
            statuses = {result["status"] for result in body["results"]}
            assert statuses <= {"created"}, body
        return [item["id"] for item in items]

    def daily(
        self, offsets: Iterable[int], attacks: int = 1, intensity: int = 5, **fields: Any
    ) -> list[str]:
        """One episode of ``attacks`` attacks at noon on each day offset."""
        return self.upload(episode(self.at(d), attacks, intensity, **fields) for d in offsets)

    def checkin(self, local_date: str, **fields: Any) -> None:
        ok(
            self.client.put(
                f"{API}/patients/me/checkins/{local_date}",
                json={"no_attacks": False, **fields},
                headers=self.headers,
            )
        )

    def no_attack_days(self, local_dates: Iterable[str]) -> None:
        for local_date in local_dates:
            self.checkin(local_date, no_attacks=True)

    def no_attacks(self, offsets: Iterable[int]) -> None:
        self.no_attack_days(iso(d) for d in offsets)

    def delete_episode(self, episode_id: str) -> None:
        ok(
            self.client.delete(f"{API}/patients/me/episodes/{episode_id}", headers=self.headers),
            204,
        )

    # --- treatments ----------------------------------------------------------------------

    def series(
        self,
        *,
        name: str = "Ketamine IV series",
        modality: str = "ketamine_iv",
        baseline_days: int = 28,
        follow_up_days: int = 84,
        **fields: Any,
    ) -> uuid.UUID:
        body = {
            "name": name,
            "modality": modality,
            "baseline_days": baseline_days,
            "follow_up_days": follow_up_days,
            **fields,
        }
        created = ok(
            self.client.post(f"{API}/patients/me/series", json=body, headers=self.headers), 201
        )
        return uuid.UUID(created["id"])

    def session(
        self,
        series_id: uuid.UUID,
        started_at: str,
        *,
        completed: bool = True,
        pain_before: int | None = None,
        pain_after: int | None = None,
        adverse_effects: Iterable[tuple[str, str]] = (),
        notes: str | None = None,
        dose_mg_per_kg: float | None = 0.5,
        **fields: Any,
    ) -> uuid.UUID:
        """A session; ``started_at`` is an RFC 3339 timestamp with an offset."""
        body: dict[str, Any] = {
            "started_at": started_at,
            "duration_minutes": 40,
            "route": "iv",
            "completed": completed,
            "adverse_effects": [{"effect": e, "severity": s} for e, s in adverse_effects],
            **fields,
        }
        optional = {
            "pain_before": pain_before,
            "pain_after": pain_after,
            "notes": notes,
            "dose_mg_per_kg": dose_mg_per_kg,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        created = ok(
            self.client.post(
                f"{API}/patients/me/series/{series_id}/sessions", json=body, headers=self.headers
            ),
            201,
        )
        return uuid.UUID(created["id"])

    def sessions(self, series_id: uuid.UUID, offsets: Iterable[int], **fields: Any) -> None:
        for offset in offsets:
            self.session(series_id, self.at(offset, 10), **fields)

    def delete_session(self, series_id: uuid.UUID, session_id: uuid.UUID) -> None:
        ok(
            self.client.delete(
                f"{API}/patients/me/series/{series_id}/sessions/{session_id}",
                headers=self.headers,
            ),
            204,
        )

    # --- medications and questionnaires -------------------------------------------------

    def medication(self, **fields: Any) -> dict[str, Any]:
        created: dict[str, Any] = ok(
            self.client.post(f"{API}/patients/me/medications", json=fields, headers=self.headers),
            201,
        )
        return created

    def patch_medication(self, medication: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
        headers = {**self.headers, "If-Match": f'"{medication["version"]}"'}
        patched: dict[str, Any] = ok(
            self.client.patch(
                f"{API}/patients/me/medications/{medication['id']}", json=fields, headers=headers
            )
        )
        return patched

    def assessment(self, instrument: str, taken_at: str, items: list[int]) -> None:
        ok(
            self.client.put(
                f"{API}/patients/me/assessments/{uuid.uuid4()}",
                json={"instrument": instrument, "taken_at": taken_at, "items": items},
                headers=self.headers,
            ),
            201,
        )

    # --- reading -------------------------------------------------------------------------

    def get(
        self,
        path: str,
        as_of: str | None = None,
        headers: Mapping[str, str] | None = None,
        **params: str,
    ) -> httpx.Response:
        query = dict(params)
        if as_of is not None:
            query["as_of"] = as_of
        response: httpx.Response = self.client.get(
            path, params=query, headers=dict(headers or self.headers)
        )
        return response

    def trend(self, series_id: uuid.UUID, as_of: str | None = None) -> dict[str, Any]:
        response = self.get(series_url("me", series_id, "trend"), as_of)
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body: dict[str, Any] = response.json()
        return body

    def courses(self, as_of: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = ok(self.get(f"{API}/patients/me/courses", as_of))
        return body


def trend_patient(
    api: Api, *, zone: str = "Europe/Berlin", name: str = "Test Patient"
) -> TrendPatient:
    return TrendPatient(api.client, api.register(timezone=zone, name=name), zone)


# --- scenarios ----------------------------------------------------------------------------------


@dataclass
class Berlin:
    """The Berlin scenario (baseline_days 7, follow_up_days 56; days are local, Europe/Berlin):

    baseline 2026-03-25 .. 03-31 (DST starts on Sunday 03-29):
      03-24 23:30 CET   50 attacks         before the baseline: not counted
      03-25 23:30 CET   4 attacks, NRS 8   (22:30 UTC)
      03-26 00:30 CET   4 attacks, NRS 8   (23:30 UTC on 03-25: must count on 03-26)
      03-27             missing (a check-in with BNI IV but without no_attacks is not observed)
      03-28 09:00       4 attacks, NRS 8 (eating, talking); 19:00 2 attacks, NRS 6 (spontaneous)
      03-29 01:30 CET   3 attacks, NRS 7;  23:30 CEST 3 attacks, NRS 7
      03-30             check-in "no attacks"
      03-31 00:30 CEST  4 attacks, NRS 8   (22:30 UTC on 03-30: must count on 03-31, DST-correct)
      03-31 12:00       100 attacks        deleted: not counted
      → observed 6 of 7, attacks 24, 4.0 a day; burden 182 (per attack 182/24).
    sessions: 04-01 completed (pain 8 → 3, nausea), 04-02 incomplete (hypertension),
      04-03 completed (6 → 2), 04-06 incomplete (dissociation), 04-10 completed but deleted.
    treatment 04-01 .. 04-03: 04-01 2 attacks NRS 6, 04-02 "no attacks", 04-03 missing.
    follow_up_1 04-04 .. 05-01: "no attacks" 04-04 .. 04-17, then 3 attacks NRS 5 daily.
    follow_up_2 05-02 ..: nothing at all.
    """

    patient: TrendPatient
    series_id: uuid.UUID

    def trend(self, as_of: str | None) -> dict[str, Any]:
        return self.patient.trend(self.series_id, as_of)


def berlin(api: Api, *, name: str = "Test Patient", notes: str | None = None) -> Berlin:
    patient = trend_patient(api, name=name)
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
    follow_up = [episode(f"{d}T12:00:00+02:00", 3, 5) for d in days("2026-04-18", 14)]
    patient.upload([*baseline, deleted, *treatment, *follow_up])
    patient.delete_episode(deleted["id"])
    patient.checkin("2026-03-25", bni="V")
    patient.checkin("2026-03-26", bni="IV", background_pain=3)
    patient.checkin("2026-03-27", bni="IV")
    patient.no_attack_days(["2026-03-30", "2026-04-02", *days("2026-04-04", 14)])

    sid = patient.series(baseline_days=7, follow_up_days=56)
    patient.session(
        sid,
        "2026-04-01T10:00:00+02:00",
        pain_before=8,
        pain_after=3,
        adverse_effects=[("nausea", "mild")],
        notes=notes,
    )
    patient.session(
        sid,
        "2026-04-02T10:00:00+02:00",
        completed=False,
        adverse_effects=[("hypertension", "severe")],
    )
    patient.session(sid, "2026-04-03T10:00:00+02:00", pain_before=6, pain_after=2)
    patient.session(
        sid,
        "2026-04-06T10:00:00+02:00",
        completed=False,
        adverse_effects=[("dissociation", "moderate")],
    )
    gone = patient.session(sid, "2026-04-10T10:00:00+02:00", adverse_effects=[("vomiting", "mild")])
    patient.delete_session(sid, gone)
    return Berlin(patient, sid)


@dataclass
class Course:
    """An induction and a booster within 182 days (days are offsets from ``DAY0``, Berlin):

    days -28..-1   6 attacks a day                 the course's reference baseline, B = 6
    days 0, 2, 4   induction sessions              end 4
    days 5..60     1 a day                         relief from day 7 (R(5..7) = 1 < 3)
    days 61..89    5 a day                         relief ends on day 64 (R(64) = 23/7 >= 3)
    days 90, 91    booster sessions                its own baseline (62..89) is 5 a day
    days 92..150   1 a day                         the booster's relief, from day 94
    days 151..175  5 a day                         … ends on day 154
    """

    patient: TrendPatient
    induction: uuid.UUID
    booster: uuid.UUID


def induction_and_booster(
    api: Api, *, name: str = "Test Patient", notes: str | None = None, **series: Any
) -> Course:
    patient = trend_patient(api, name=name)
    patient.daily(range(-28, 0), 6, 8)
    patient.daily(range(5, 61), 1, 4)
    patient.daily(range(61, 90), 5, 7)
    patient.daily(range(92, 151), 1, 4)
    patient.daily(range(151, 176), 5, 7)
    induction = patient.series(name="Ketamine IV induction")
    patient.sessions(induction, (0, 2, 4), pain_before=7, pain_after=3, notes=notes)
    booster = patient.series(name=series.pop("name", "Ketamine IV booster"), **series)
    patient.sessions(booster, (90, 91), notes=notes)
    return Course(patient, induction, booster)


# --- report scenarios (days are offsets from DAY0, Europe/Berlin) -------------------------------

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAKOUT = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{SCRIPT}{ATTRIBUTE_BREAKOUT}"


@dataclass
class Report:
    """A series of a patient and the as_of its report is read at."""

    patient: TrendPatient
    series_id: uuid.UUID
    as_of: str

    def fetch(self, what: str) -> httpx.Response:
        response = self.patient.get(series_url("me", self.series_id, what), self.as_of)
        assert response.status_code == 200, response.text
        return response

    def html(self) -> str:
        return self.fetch("report").text

    def svg(self) -> str:
        return self.fetch("chart.svg").text

    def trend(self) -> dict[str, Any]:
        return self.patient.trend(self.series_id, self.as_of)


def typical(api: Api, *, text: str | None = None) -> Report:
    """A 14-day baseline of 6 attacks a day with days -10 and -9 missing; sessions on days 0,
    2 (incomplete), 4 and 6; from day 7 no attacks for 20 days, then 2 a day with gaps (every
    fifth day missing); as of day 70 follow_up_1 (7..34) is complete and follow_up_2 (35..62),
    follow_up_3 (63..70) are in view. One maintenance drug is started in the baseline (a flag),
    another stopped on day 20 (listed, but a stop does not cut relief). ``text`` (say, hostile
    markup) names the patient, the series, its protocol, every session note and both
    medications."""
    patient = trend_patient(api, name=text or "Anna Example")
    patient.daily([d for d in range(-14, 0) if d not in (-10, -9)], 6, 8, triggers=["eating"])
    patient.daily([1], 3, 6)
    patient.daily([d for d in range(27, 71) if d % 5], 2, 5)
    patient.no_attacks(d for d in range(7, 27) if d != 20)
    patient.checkin(iso(20), no_attacks=True, bni="IIIa", background_pain=1)
    patient.checkin(iso(-3), bni="IV", background_pain=4)
    patient.assessment("phq9", patient.at(-5), [2, 2, 2, 2, 2, 1, 1, 1, 1])
    patient.assessment("pgic", patient.at(30), [2])
    medication = text or "Carbamazepine"
    patient.medication(
        name=medication, dose_mg_per_day=400, started_on=iso(-300), stopped_on=iso(20)
    )
    patient.medication(name=medication, dose_mg_per_day=600, started_on=iso(-2))
    sid = patient.series(
        name=text or "Ketamine IV, spring",
        protocol=text or "0.5 mg/kg over 40 min, 4 sessions",
        planned_sessions=4,
        baseline_days=14,
    )
    notes = text or "Tolerated well"
    patient.session(
        sid,
        patient.at(0, 10),
        pain_before=8,
        pain_after=3,
        adverse_effects=[("nausea", "mild"), ("dissociation", "moderate")],
        notes=notes,
        vitals={"systolic_max": 165, "heart_rate_max": 96},
    )
    patient.session(
        sid,
        patient.at(2, 10),
        completed=False,
        adverse_effects=[("hypertension", "severe")],
        notes=notes,
        vitals={"systolic_max": 182},
    )
    patient.session(sid, patient.at(4, 10), pain_before=7, pain_after=2, notes=notes)
    patient.session(
        sid,
        patient.at(6, 10),
        pain_before=6,
        pain_after=2,
        adverse_effects=[("nausea", "moderate")],
        notes=notes,
    )
    return Report(patient, sid, iso(70))


def no_baseline(api: Api) -> Report:
    """No diary before the first session: nothing to compare with."""
    patient = trend_patient(api)
    patient.daily(range(1, 41, 2), 3)
    sid = patient.series(baseline_days=14)
    patient.sessions(sid, [0])
    return Report(patient, sid, iso(40))


def inside_treatment(api: Api) -> Report:
    """as_of = day 2, the last completed session so far (day 5 is later): no follow-up yet."""
    patient = trend_patient(api)
    patient.daily(range(-7, 6), 4)
    sid = patient.series(baseline_days=7)
    patient.sessions(sid, [0])
    patient.session(sid, patient.at(1, 10), completed=False)
    patient.sessions(sid, [2, 5])
    return Report(patient, sid, iso(2))


def empty(api: Api) -> Report:
    """One completed session and no diary at all: every rate and mean is null."""
    patient = trend_patient(api)
    sid = patient.series(baseline_days=7, follow_up_days=28)
    patient.sessions(sid, [0])
    return Report(patient, sid, iso(10))
