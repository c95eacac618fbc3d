"""Property tests for the input validators: what passes is exactly what the rules allow."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.schemas.auth import PasswordChangeIn, RegisterIn
from app.schemas.common import Password, TimeZoneName, UTCDatetime
from app.schemas.patients import DiagnosisPatch, PatientPatch

ZONES = sorted(zoneinfo.available_timezones())
zone_adapter: TypeAdapter[str] = TypeAdapter(TimeZoneName)
password_adapter: TypeAdapter[str] = TypeAdapter(Password)


def _valid(model: type[BaseModel], data: dict[str, Any]) -> bool:
    try:
        model.model_validate(data)
    except ValidationError:
        return False
    return True


@given(st.sampled_from(ZONES))
def test_every_iana_zone_is_accepted(name: str) -> None:
    assert zone_adapter.validate_python(name) == name


@given(st.text(max_size=70))
def test_a_string_is_a_zone_only_if_iana_knows_it(name: str) -> None:
    try:
        zone_adapter.validate_python(name)
    except ValidationError:
        assert name not in ZONES
    else:
        assert name in ZONES


@given(st.text(max_size=1100))
def test_passwords_need_10_to_1024_characters(password: str) -> None:
    ok = 10 <= len(password) <= 1024
    try:
        password_adapter.validate_python(password)
    except ValidationError:
        assert not ok
    else:
        assert ok


@given(
    weight=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    birth_year=st.one_of(st.none(), st.integers(min_value=1800, max_value=2200)),
)
def test_weight_and_birth_year_ranges(weight: float | None, birth_year: int | None) -> None:
    expected = (weight is None or 0 < weight <= 500) and (
        birth_year is None or 1900 <= birth_year <= 2100
    )
    assert _valid(PatientPatch, {"weight_kg": weight, "birth_year": birth_year}) == expected


@given(st.lists(st.sampled_from(["V1", "V2", "V3"]), max_size=4))
def test_branches_are_unique_and_come_back_sorted(branches: list[str]) -> None:
    try:
        patch = DiagnosisPatch.model_validate({"branches": branches})
    except ValidationError:
        assert len(set(branches)) != len(branches)
    else:
        assert patch.branches == sorted(branches)


@given(st.sampled_from(["display_name", "timezone", "diagnosis"]))
def test_fields_that_cannot_be_cleared_refuse_null(name: str) -> None:
    assert not _valid(PatientPatch, {name: None})


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=12).filter(
            lambda k: k not in PatientPatch.model_fields and k.isidentifier()
        ),
        st.integers(),
        min_size=1,
        max_size=3,
    )
)
def test_unknown_fields_are_refused(extra: dict[str, int]) -> None:
    assert not _valid(PatientPatch, {"display_name": "A", **extra})
    assert not _valid(
        PasswordChangeIn, {"current_password": "x", "new_password": "y" * 10, **extra}
    )


@given(st.text(min_size=0, max_size=210))
def test_display_names_need_1_to_200_characters_and_no_nul(name: str) -> None:
    data = {"email": "a@example.org", "password": "p" * 10, "display_name": name, "timezone": "UTC"}
    assert _valid(RegisterIn, data) == (1 <= len(name) <= 200 and "\x00" not in name)


class _Stamped(BaseModel):
    at: UTCDatetime


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(2200, 1, 1),
        timezones=st.builds(
            timezone, st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m))
        ),
    )
)
def test_timestamps_leave_in_utc_with_z_and_mean_the_same_instant(moment: datetime) -> None:
    text = _Stamped(at=moment).model_dump(mode="json")["at"]
    assert text.endswith("Z")
    assert datetime.fromisoformat(text) == moment
    assert datetime.fromisoformat(text).tzinfo == UTC


@pytest.mark.parametrize("email", ["a@b.test", "a@localhost", "a@x.invalid", "not-an-email"])
def test_undeliverable_emails_are_refused(email: str) -> None:
    data = {"email": email, "password": "p" * 10, "display_name": "A", "timezone": "UTC"}
    assert not _valid(RegisterIn, data)
