"""The fonts WeasyPrint receives are static, licensed, embedded and subset."""

from __future__ import annotations

import hashlib
import io
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pikepdf
import pytest
from fontTools.ttLib import TTFont

from handouts import load_library, validate, write_handout
from handouts.core.resources import FALLBACK_FAMILIES, TEXT_FAMILIES, font_files, static_fonts_dir
from handouts.plan.assemble import assemble

VARIATION_TABLES = {"fvar", "gvar", "avar", "HVAR", "VVAR", "MVAR", "CFF2", "cvar"}
MANIFEST = json.loads((static_fonts_dir() / "static.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("family", [*TEXT_FAMILIES, *FALLBACK_FAMILIES])
def test_every_served_font_is_static(family):
    for path, weight, style in font_files((family,))[family]:
        with TTFont(str(path), lazy=True, fontNumber=0) as font:
            assert not VARIATION_TABLES & set(font.keys()), (path.name, set(font.keys()))
        assert weight in ("400", "700") and style in ("normal", "italic"), path.name


def test_each_static_font_has_its_licence_beside_it():
    for entry in MANIFEST:
        licence = static_fonts_dir() / entry["licence"]
        text = licence.read_text(encoding="utf-8")
        assert "SIL Open Font License" in text, licence
        assert entry["family"].split()[0] in text or "Noto" in text, licence


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda e: e["file"])
def test_static_fonts_match_the_installed_source_fonts(entry):
    """An upgraded font package needs `python tools/make_static_fonts.py` run again."""
    try:
        installed = version(entry["package"])
    except PackageNotFoundError:
        pytest.skip(f"{entry['package']} not installed (pip install '.[fonts-source]')")
    import fontpkg

    fam = fontpkg.family(entry["family"].replace(" Display", ""))
    source = next(f.path for f in fam.files if f.path.name == entry["source"])
    assert fam.version == entry["version"], (entry["package"], installed)
    assert hashlib.sha256(source.read_bytes()).hexdigest() == entry["source_sha256"], (
        f"{entry['file']} was made from another {entry['source']}; "
        "run python tools/make_static_fonts.py")


def _embedded_fonts(path):
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                stream = obj.get("/FontFile2") or obj.get("/FontFile3")
                yield str(obj["/FontName"]), (stream.read_bytes() if stream else None)


def test_pdf_embeds_static_subset_fonts_at_two_weights(tmp_path):
    profile = validate({"client_id": "fonts-1", "partners": [{"name": "Avery"}],
                        "session_date": "2026-12-01", "modules": ["barometer"],
                        "rituals": ["six-second-kiss"], "note": "One **bold** _step_."})
    out = write_handout(assemble(profile, load_library()), tmp_path / "h.pdf")
    fonts = dict(_embedded_fonts(out))
    names = {name.split("+")[-1] for name in fonts}
    assert {"Literata", "Literata-Bold", "Literata-Italic"} <= names, names
    assert any(n.startswith("Literata-Display") for n in names), names  # the cover title
    for name, data in fonts.items():
        assert data, f"{name} is not embedded"
        assert "+" in name, f"{name} is not subset"
        font = TTFont(io.BytesIO(data))
        assert "fvar" not in font and "gvar" not in font, name
        assert len(data) < 100_000, (name, len(data))  # whole files are 190-270 kB


def test_notice_lists_every_bundled_font_and_no_large_font_is_vendored():
    from handouts.core.resources import templates_dir

    notice = (Path(__file__).resolve().parents[1] / "NOTICE.md").read_text(encoding="utf-8")
    fonts = [p for p in (templates_dir() / "fonts").rglob("*") if p.suffix in (".ttf", ".otf")]
    assert fonts
    for path in fonts:
        assert path.name in notice, f"{path.name} is bundled but not in NOTICE.md"
        assert path.stat().st_size < 1_000_000, f"{path.name} is large: use a font package"
    for family in (*TEXT_FAMILIES, *FALLBACK_FAMILIES):
        assert family.replace(" Display", "") in notice, f"{family} has no licence listed"
