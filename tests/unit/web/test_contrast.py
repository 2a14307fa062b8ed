"""The UI's palette meets WCAG 2.2 AA: 4.5:1 for text, 3:1 for borders and the focus ring (success criteria
1.4.3 and 1.4.11). The colours are read from the stylesheet itself, so a change there is checked here."""

from __future__ import annotations

import re

import pytest

from tests.helpers import ROOT

CSS = (ROOT / "services/web/static/css/wenyuan.css").read_text(encoding="utf-8")
ROOT_BLOCK = re.search(r":root\s*\{(.*?)\}", CSS, re.S)
assert ROOT_BLOCK
PALETTE = {name: value.lower() for name, value in re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", ROOT_BLOCK[1])}

# (foreground, background, where the pair is used)
TEXT = [("ink", "paper", "body text"), ("ink", "surface", "text on cards and panels"),
        ("muted", "paper", "hints and counts"), ("muted", "surface", "hints on cards"),
        ("accent", "paper", "links"), ("accent", "surface", "secondary buttons, links on cards"),
        ("accent-hover", "paper", "links under the pointer"), ("accent-hover", "surface", "secondary buttons hovered"),
        ("accent-ink", "accent", "primary buttons"), ("accent-ink", "accent-hover", "primary buttons hovered"),
        ("open-ink", "open-bg", "reusable licence badge"), ("closed-ink", "closed-bg", "other licence badge"),
        ("ink", "closed-bg", "search highlights"), ("ai-ink", "ai-bg", "AI badge"),
        ("error-ink", "error-bg", "error messages"), ("error-ink", "surface", "failed states in tables"),
        ("ok-ink", "surface", "succeeded states in tables"), ("ok-ink", "paper", "confirmations")]
NON_TEXT = [("border", "paper", "field and card borders"), ("border", "surface", "field borders in panels"),
            ("focus", "paper", "the focus ring"), ("focus", "surface", "the focus ring in panels")]


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_ratio_is_the_wcag_one() -> None:
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey


@pytest.mark.parametrize(("fg", "bg", "use"), TEXT, ids=[u for *_, u in TEXT])
def test_text_colours_have_at_least_4_5_to_1(fg: str, bg: str, use: str) -> None:
    assert ratio(PALETTE[fg], PALETTE[bg]) >= 4.5, f"{use}: {fg} on {bg}"


@pytest.mark.parametrize(("fg", "bg", "use"), NON_TEXT, ids=[u for *_, u in NON_TEXT])
def test_borders_and_focus_have_at_least_3_to_1(fg: str, bg: str, use: str) -> None:
    assert ratio(PALETTE[fg], PALETTE[bg]) >= 3.0, f"{use}: {fg} on {bg}"


def test_every_colour_of_the_palette_is_checked_and_every_one_used_is_defined() -> None:
    checked = {c for fg, bg, _ in TEXT + NON_TEXT for c in (fg, bg)}
    used = set(re.findall(r"var\(--([\w-]+)\)", CSS))
    colours_used = used - {"radius", "gap"}

    assert set(PALETTE) == checked
    assert colours_used <= set(PALETTE)
