"""Every name renders with real glyphs, in the right font, and nothing prints as a box."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import unicodedata
from functools import cache

import pdfplumber
import pikepdf
import pytest
from helpers import without_harfbuzz_subset

from handouts import RenderError, load_library, render_html, validate, write_handout
from handouts.core.resources import emoji_font, is_emoji
from handouts.plan.assemble import assemble

NAMES = {
    "Arabic": ("سارا", "Noto-Sans-Arabic"),
    "Hebrew": ("דָּנִיאֵל", "Noto-Sans-Hebrew"),
    "Chinese": ("王小明", "Noto-Sans-CJK"),
    "Japanese": ("さくら", "Noto-Sans-CJK"),
    "Korean": ("민준", "Noto-Sans-CJK"),
    "Devanagari": ("अनन्या", "Noto-Sans-Devanagari"),
    "Thai": ("สมชาย", "Noto-Sans-Thai"),
    "Tamil": ("கார்த்திக்", "Noto-Sans-Tamil"),
    "Telugu": ("లక్ష్మి", "Noto-Sans-Telugu"),
    "Khmer": ("សុភា", "Noto-Sans-Khmer"),
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
    partners[-1]["pronouns"] = " ".join(name for name, _ in list(NAMES.values())[8:12])
    out = tmp_path_factory.mktemp("intl") / "h.pdf"
    write_handout(handout(partners=partners, note="Hello " + ", ".join(
        name for name, _ in NAMES.values())), out)
    with pdfplumber.open(out) as pdf:
        return [(c["text"], c["fontname"]) for page in pdf.pages[:2] for c in page.chars]


@pytest.mark.parametrize("script", list(NAMES))
def test_each_script_is_drawn_by_a_bundled_font(rendered, script):
    name, font = NAMES[script]
    if script == "emoji" and emoji_font() is None:  # left out (see the test below)
        assert not [t for t, _ in rendered if t in name and is_emoji(t)]
        return
    # Letters and the vowel signs of Indic, Thai and Khmer (combining marks) alike.
    letters = [ch for ch in name if ch.isalpha() or ord(ch) >= 0x1F000
               or unicodedata.category(ch).startswith("M")]
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


HIDDEN_SUBSETTER_RENDER = """
import logging, sys
from handouts import load_library, validate, write_handout
from handouts.plan.assemble import assemble
import weasyprint.text.ffi
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
assert weasyprint.text.ffi.harfbuzz_subset is None, "libharfbuzz-subset0 was not hidden"
profile = validate({"client_id": "intl-1", "partners": [{"name": "سارا 🌈"}],
                    "session_date": "2026-12-01", "modules": ["barometer"], "fillable": True})
write_handout(assemble(profile, load_library()), sys.argv[1])
"""


def test_without_libharfbuzz_subset_the_handout_renders_without_warnings(tmp_path):
    env = without_harfbuzz_subset(tmp_path / "lib", {**os.environ, "PYTHONWARNINGS": "ignore"})
    out = tmp_path / "h.pdf"
    done = subprocess.run([sys.executable, "-c", HIDDEN_SUBSETTER_RENDER, str(out)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "WARNING" not in done.stderr, done.stderr[-2000:]
    with pdfplumber.open(out) as pdf:
        fonts = {c["fontname"].split("+")[-1] for c in pdf.pages[0].chars}
    assert any(f.startswith("Noto-Sans-Arabic") for f in fonts), fonts


def test_without_an_emoji_font_emoji_are_left_out_with_one_note(tmp_path):
    """The colour emoji font is the system's (fonts-noto-color-emoji), not the wheel's."""
    profile = tmp_path / "c.yaml"
    profile.write_text("client_id: emo-1\npartners: [{name: 'Sam 🌈'}, {name: Ana}]\n"
                       "session_date: 2026-12-01\nmodules: [barometer]\n"
                       "note: 'See you soon 👩🏽‍❤️‍👨🏿'\n", encoding="utf-8")
    env = {**os.environ, "HANDOUTS_EMOJI_FONT": ""}
    done = subprocess.run([sys.executable, "-m", "handouts", "build", str(profile), "-o",
                           str(tmp_path / "out")], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr.strip() == ("note: emoji in note, partners[0].name left out: no colour "
                                   "emoji font (install fonts-noto-color-emoji)")
    [pdf] = (tmp_path / "out").rglob("*.pdf")
    with pdfplumber.open(pdf) as opened:
        chars = [c for page in opened.pages for c in page.chars]
    text = "".join(c["text"] for c in chars)
    assert "Sam & Ana" in text and "See you soon" in text
    assert not [c for c in chars if is_emoji(c["text"]) or "Emoji" in c["fontname"]]


def test_without_the_cjk_font_a_cjk_name_is_one_line_naming_the_package(
        tmp_path, monkeypatch, capsys):
    from handouts.core import resources
    from handouts.render import glyphs
    from handouts.ui.cli import main

    monkeypatch.setattr(resources, "CJK_FONT_PATHS", ("/nonexistent/NotoSansCJK.ttc",))
    glyphs.coverage.cache_clear()
    profile = tmp_path / "c.yaml"
    profile.write_text("client_id: cjk-1\npartners: [{name: 王小明}]\n"
                       "session_date: 2026-12-01\nmodules: [barometer]\n", encoding="utf-8")
    try:
        assert main(["check", str(profile)]) == 1
    finally:
        glyphs.coverage.cache_clear()
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "partners[0].name: character U+" in line and line.endswith("install fonts-noto-cjk")
    assert "王" not in line  # the name itself is never printed


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


# Han characters are drawn differently in Japan, Korea and Taiwan. The CJK font is Pan-CJK:
# its `locl` feature picks the Japanese or Korean glyph when the run is marked ja or ko.
@cache
def _cjk_glyphs():
    """Return (cmap, {lang tag: locl substitutions}) of the bundled CJK font, as glyph ids."""

    from fontTools.ttLib import TTCollection

    from handouts.core.resources import font_files

    path = font_files(("Noto Sans CJK TC",))["Noto Sans CJK TC"][0][0]  # the system's
    faces = TTCollection(str(path), lazy=True).fonts
    font = next(f for f in faces if f["name"].getDebugName(1) == "Noto Sans CJK TC")
    order = {name: gid for gid, name in enumerate(font.getGlyphOrder())}
    gsub = font["GSUB"].table
    script = next(r.Script for r in gsub.ScriptList.ScriptRecord if r.ScriptTag == "hani")
    locl = {}
    for record in script.LangSysRecord:
        mapping = {}
        for index in record.LangSys.FeatureIndex:
            feature = gsub.FeatureList.FeatureRecord[index]
            if feature.FeatureTag != "locl":
                continue
            for lookup_index in feature.Feature.LookupListIndex:
                for sub in gsub.LookupList.Lookup[lookup_index].SubTable:
                    sub = getattr(sub, "ExtSubTable", sub)
                    mapping.update({order[a]: order[b] for a, b in getattr(sub, "mapping",
                                                                           {}).items()})
        locl[record.LangSysTag.strip()] = mapping
    cmap = {code: order[name] for code, name in font.getBestCmap().items()}
    return cmap, locl


def _cjk_glyph_ids(path):
    """Return {character: glyph ids drawn} for the CJK font embedded in the PDF at *path*."""
    drawn: dict[str, set[int]] = {}
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if (isinstance(obj, pikepdf.Dictionary) and obj.get("/Subtype") == "/Type0"
                    and "CJK" in str(obj.get("/BaseFont")) and "/ToUnicode" in obj):
                cmap = obj["/ToUnicode"].read_bytes().decode("latin-1")
                for section in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
                    for cid, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", section):
                        char = bytes.fromhex(text).decode("utf-16-be")
                        drawn.setdefault(char, set()).add(int(cid, 16))
    return drawn


# 海 ("sea") has a Japanese glyph of its own in the font. The kana in a name say it is
# Japanese, and its kanji are then drawn the Japanese way; Chinese text keeps its shapes.
CJK_NAMES = {"ja": "海野 さくら", "zh": "王海"}


def test_japanese_names_use_japanese_glyph_shapes(tmp_path):
    cmap, locl = _cjk_glyphs()
    partners = [{"name": name} for name in CJK_NAMES.values()]
    out = write_handout(handout(partners=partners), tmp_path / "h.pdf")
    drawn = _cjk_glyph_ids(out)
    chinese = cmap[ord("海")]
    japanese = locl["JAN"][chinese]
    assert japanese != chinese  # the test can tell them apart
    assert drawn["海"] == {japanese, chinese}, drawn["海"]
    assert drawn["さ"]


def test_korean_text_is_marked_korean():
    """Hangul has one shape; the run is still marked ko for readers and PDF tagging.

    Pango does not apply the font's Korean forms to Han characters (hanja) even in a
    lang="ko" run, so hanja keep the Chinese shapes; docs/safety.md says so.
    """
    html = render_html(handout(partners=[{"name": "이해진 (李海珍)"}]))
    assert '<span lang="ko">이해진</span> (<span lang="ko">李海珍</span>)' in html


def test_han_only_names_keep_the_traditional_chinese_shapes(tmp_path):
    """Kanji-only text cannot be told from Chinese; docs/safety.md says so."""
    cmap, _ = _cjk_glyphs()
    out = write_handout(handout(partners=[{"name": "海野"}]), tmp_path / "h.pdf")
    assert _cjk_glyph_ids(out)["海"] == {cmap[ord("海")]}
