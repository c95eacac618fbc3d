"""The Kaplan-Meier relief curve: the steps and ticks a clinician reads, and the same bytes
every time."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest

from app.reports.km import render_relief_km
from app.trends.survival import relief_curve

SVG = "{http://www.w3.org/2000/svg}"
FIRST = [(5, True), (10, True), (20, False), (30, True), (40, False)]
BOOSTERS = [(7, True), (14, False), (21, True)]


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_id(root: ET.Element, gid: str) -> ET.Element:
    (element,) = (element for element in root.iter() if element.get("id") == gid)
    return element


def path_points(group: ET.Element) -> list[tuple[float, float]]:
    """The vertices of the first path in ``group`` (SVG user units, y down)."""
    path = next(group.iter(f"{SVG}path"))
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def test_curve_is_scipy_kaplan_meier() -> None:
    curve = relief_curve(FIRST)
    # 5 at risk: 5 ends (4/5), 10 ends (3/4 of that), 20 censored, 30 ends (1/2 of that).
    assert curve.at(4) == 1.0
    assert curve.at(5) == pytest.approx(0.8)
    assert curve.at(10) == pytest.approx(0.6)
    assert curve.at(29) == pytest.approx(0.6)
    assert curve.at(30) == pytest.approx(0.3)
    assert [day for day, _ in curve.censored] == [20.0, 40.0]
    assert [share for _, share in curve.censored] == pytest.approx([0.6, 0.3])
    assert curve.last_day == 40.0


def test_only_censored_reliefs_stay_at_one() -> None:
    curve = relief_curve([(10, False), (20, False)])
    assert curve.at(100) == 1.0
    assert [share for _, share in curve.censored] == [1.0, 1.0]


def test_svg_has_both_step_curves_censor_ticks_and_a_worded_summary() -> None:
    svg = render_relief_km(FIRST, BOOSTERS)
    root = parsed(svg)
    assert root.findtext(f"{SVG}title") == "Kaplan\u2013Meier relief curve"
    assert root.findtext(f"{SVG}desc") == (
        "First series: n = 5, 3 ended, median 30 days. Boosters: n = 3, 2 ended, median 21 days."
    )
    first = path_points(by_id(root, "km-first-series"))
    # A step curve: from (0, 100 %) horizontal and vertical segments only, 3 drops, then flat
    # to the longest follow-up (40 days).
    pairs = list(pairwise(first))
    assert all(a[0] == b[0] or a[1] == b[1] for a, b in pairs)
    drops = [(a, b) for a, b in pairs if a[0] == b[0] and b[1] > a[1]]
    assert len(drops) == 3
    assert len({y for _, y in first}) == 4  # 100 %, 80 %, 60 %, 30 %
    # Two censored first-series reliefs, one censored booster: one tick mark each.
    assert len(list(by_id(root, "km-first-series-censored").iter(f"{SVG}use"))) == 2
    assert len(list(by_id(root, "km-boosters-censored").iter(f"{SVG}use"))) == 1
    assert by_id(root, "median-line") is not None
    # Nothing to fetch, nothing to run.
    assert "<script" not in svg
    assert "<image" not in svg
    assert "http://" not in svg.replace("http://www.w3.org/", "")


def test_same_input_same_bytes_even_when_rendered_alongside_others() -> None:
    alone = render_relief_km(FIRST, BOOSTERS)
    other = render_relief_km(BOOSTERS, FIRST)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(
                lambda i: render_relief_km(*[(FIRST, BOOSTERS), (BOOSTERS, FIRST)][i % 2]), range(8)
            )
        )
    assert results[0::2] == [alone] * 4
    assert results[1::2] == [other] * 4
    assert alone != other


def test_empty_groups_draw_no_curve_and_say_so() -> None:
    root = parsed(render_relief_km([], []))
    ids = {element.get("id") for element in root.iter()}
    assert not {gid for gid in ids if gid and gid.startswith("km-")}
    assert root.findtext(f"{SVG}desc") == (
        "First series: no relief to show. Boosters: no relief to show."
    )
    one = parsed(render_relief_km([(12, True)], []))
    assert "km-first-series" in {element.get("id") for element in one.iter()}
    assert one.findtext(f"{SVG}desc") == (
        "First series: n = 1, 1 ended, median 12 days. Boosters: no relief to show."
    )


def test_median_not_reached_is_said() -> None:
    root = parsed(render_relief_km([(10, True), (30, False), (40, False)], []))
    assert root.findtext(f"{SVG}desc", "").startswith(
        "First series: n = 3, 1 ended, median not reached."
    )
