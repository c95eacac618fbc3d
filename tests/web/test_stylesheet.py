"""The stylesheet's text colours are readable (WCAG 2 AA: contrast ≥ 4.5:1) on the backgrounds
they are used on, and keyboard focus is always drawn."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "app/web/static/clinic.css").read_text()
RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
HEX = r"#([0-9a-fA-F]{6})\b"


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rules() -> list[tuple[str, dict[str, str]]]:
    found = []
    for selector, body in RULE.findall(re.sub(r"/\*.*?\*/", "", CSS, flags=re.DOTALL)):
        declarations = {}
        for declaration in body.split(";"):
            name, _, value = declaration.partition(":")
            if value:
                declarations[name.strip()] = value.strip()
        found.append((selector.strip(), declarations))
    return found


def colour(value: str | None) -> str | None:
    match = re.search(HEX, value or "")
    return match.group(1).lower() if match else None


def text_on_backgrounds() -> list[tuple[str, str, str]]:
    """``(selector, text colour, background)`` for every rule that sets a text colour: on its
    own background when it sets one, in the header bar on the bar's, else on every light
    background of the page (white, highlighted rows, notices)."""
    parsed = rules()
    backgrounds = {s: colour(d.get("background") or d.get("background-color")) for s, d in parsed}
    bar = backgrounds[".appbar"]
    light = {"ffffff"} | {
        b for s, b in backgrounds.items() if b and not s.startswith((".appbar", ".badge"))
    }
    light.discard(bar)
    light -= {b for s, b in backgrounds.items() if s.startswith((".stack button", "button"))}
    pairs = []
    for selector, declarations in parsed:
        text = colour(declarations.get("color"))
        if text is None:
            continue
        own = backgrounds[selector]
        if own is not None:
            pairs.append((selector, text, own))
        elif selector.startswith(".appbar"):
            assert bar is not None
            pairs.append((selector, text, bar))
        else:
            pairs.extend((selector, text, background) for background in sorted(light))
    return pairs


def test_the_parser_sees_the_stylesheet() -> None:
    pairs = text_on_backgrounds()
    assert len(pairs) > 20
    assert ("html", "1a1a1a", "ffffff") in pairs
    assert (".appbar", "ffffff", "12355b") in pairs


@pytest.mark.parametrize(("selector", "text", "background"), text_on_backgrounds())
def test_text_colours_meet_aa_contrast(selector: str, text: str, background: str) -> None:
    assert contrast(text, background) >= 4.5, (selector, text, background)


def test_a_too_light_grey_would_fail() -> None:
    assert contrast("999999", "ffffff") < 4.5


def test_focus_is_always_drawn() -> None:
    declarations = dict(rules())
    assert "outline" in declarations[":focus-visible"]
    assert "none" not in declarations[":focus-visible"]["outline"]
