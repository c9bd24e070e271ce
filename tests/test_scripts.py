"""Every name renders with real glyphs, in the right font, and nothing prints as a box."""

from __future__ import annotations

import logging

import pdfplumber
import pytest

from handouts import RenderError, assemble, load_library, render_html, validate, write_handout

NAMES = {
    "Arabic": ("سارا", "Noto-Sans-Arabic"),
    "Hebrew": ("דָּנִיאֵל", "Noto-Sans-Hebrew"),
    "Chinese": ("王小明", "Noto-Sans-CJK"),
    "Japanese": ("さくら", "Noto-Sans-CJK"),
    "Korean": ("민준", "Noto-Sans-CJK"),
    "Devanagari": ("अनन्या", "Noto-Sans-Devanagari"),
    "Cyrillic": ("Дмитрий", ("Literata", "Atkinson")),
    "Greek": ("Ελένη", ("Literata", "Atkinson")),
    "Vietnamese": ("Nguyễn Thị Hương", ("Literata", "Atkinson")),
    "combining marks": ("Zoe\u0308 Jose\u0301", ("Literata", "Atkinson")),
    "emoji": ("🌈👩🏽‍❤️‍👨🏿", "Noto-Color-Emoji"),
}


def handout(**overrides):
    params = {"client_id": "intl-1", "partners": [{"name": "Avery"}],
              "session_date": "2026-12-01", "modules": ["barometer"], **overrides}
    return assemble(validate(params), load_library())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    partners = [{"name": name} for name, _ in list(NAMES.values())[:8]]  # at most 8
    out = tmp_path_factory.mktemp("intl") / "h.pdf"
    write_handout(handout(partners=partners, note="Hello " + ", ".join(
        name for name, _ in NAMES.values())), out)
    with pdfplumber.open(out) as pdf:
        return [(c["text"], c["fontname"]) for page in pdf.pages[:2] for c in page.chars]


@pytest.mark.parametrize("script", list(NAMES))
def test_each_script_is_drawn_by_a_bundled_font(rendered, script):
    name, font = NAMES[script]
    letters = [ch for ch in name if ch.isalpha() or ord(ch) >= 0x1F000]
    drawn = {fontname.split("+")[-1] for text, fontname in rendered if text in letters}
    assert drawn, f"{script}: no glyphs drawn"
    assert all(f.startswith(font) for f in drawn), (script, drawn)


def test_digits_keep_the_text_font(rendered):
    fonts = {f.split("+")[-1] for text, f in rendered if text.isdigit()}
    assert fonts and all(f.startswith(("Literata", "Atkinson")) for f in fonts), fonts


def test_latin_only_handouts_load_no_fallback_font(tmp_path):
    html = render_html(handout())
    assert "NotoSans" not in html and "NotoColorEmoji" not in html  # no @font-face file


def test_a_character_no_font_has_is_an_error_naming_field_and_code_point():
    with pytest.raises(RenderError) as info:
        render_html(handout(partners=[{"name": "Ur 𒀀 Secretname"}]))
    message = str(info.value)
    assert "partners[0].name: character U+12000 (CUNEIFORM SIGN A) has no glyph" in message
    assert "Secretname" not in message


def test_templates_render_without_css_warnings(caplog, tmp_path):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    write_handout(handout(partners=[{"name": "سارا 🌈"}], cards=True, fillable=True,
                          rituals=["six-second-kiss"], scripts=["missing-closeness"]),
                  tmp_path / "h.pdf")
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")]
    assert not warnings, warnings[:5]


@pytest.mark.parametrize("name", ["דניאל", "سامي"])
def test_right_to_left_names_read_right_to_left(tmp_path, name):
    out = write_handout(handout(partners=[{"name": "Avery"}, {"name": name}]), tmp_path / "h.pdf")
    with pdfplumber.open(out) as pdf:
        cover = pdf.pages[0].chars
        glyphs = [c for c in cover if "\u0590" <= c["text"] <= "\u06ff"]
    assert len(glyphs) == len(name)
    by_x = sorted(glyphs, key=lambda c: c["x0"])
    assert by_x[-1]["text"] == name[0]  # the first letter stands rightmost
    assert by_x[0]["text"] == name[-1]
