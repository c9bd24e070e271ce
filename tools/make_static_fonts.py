"""Make the static font instances the handouts ship, from the installed variable fonts.

    python tools/make_static_fonts.py          # writes templates/fonts/static/

WeasyPrint turns a variable font into a static one for every weight and size a document
uses, in every document: for the demo couple that was 13 fontTools instancing runs per
handout, most of a warm render. The handouts therefore ship static instances, made once
here from the `fontpkg-*` packages, with each package's licence beside them. A full
instance takes seconds (GPOS kerning dominates), too slow to make on a user's first build.

`static.json` records, for each file, the package, its version, the source file's SHA-256,
the axis location and the fontTools version, so a test can tell when an upgraded font
package needs this script run again.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "templates" / "fonts" / "static"

# (source family, style of the source file, output stem, axis location, CSS family).
# Pango and WeasyPrint set Literata's optical size to the font size in CSS pixels: body
# text (11.5 pt) was drawn at opsz 15.333 and the cover title (2.7 em) at 41.4. The
# static cuts keep those two, so the body text and the title keep their shapes and
# widths; the cover title is served as its own family, "Literata Display".
TEXT_OPSZ, DISPLAY_OPSZ = 15.333, 41.4
PLAN = [
    ("Literata", "normal", "Literata-Regular", {"opsz": TEXT_OPSZ, "wght": 400}, "Literata"),
    ("Literata", "normal", "Literata-Bold", {"opsz": TEXT_OPSZ, "wght": 700}, "Literata"),
    ("Literata", "italic", "Literata-Italic", {"opsz": TEXT_OPSZ, "wght": 400}, "Literata"),
    ("Literata", "italic", "Literata-BoldItalic", {"opsz": TEXT_OPSZ, "wght": 700},
     "Literata"),
    ("Literata", "normal", "LiterataDisplay-Bold", {"opsz": DISPLAY_OPSZ, "wght": 700},
     "Literata Display"),
    *[(family, "normal", family.replace(" ", "") + suffix, {"wdth": 100, "wght": weight},
       family)
      for family in ("Noto Sans Arabic", "Noto Sans Devanagari", "Noto Sans Thai",
                     "Noto Sans Tamil", "Noto Sans Telugu", "Noto Sans Khmer")
      for suffix, weight in (("-Regular", 400), ("-Bold", 700))],
]


def _source(family: str, style: str):
    import fontpkg

    fam = fontpkg.family(family)
    path = next(Path(f.path) for f in fam.files if f.style == style)
    return fam, path


def _instance(item: tuple[str, str, str, dict, str]) -> dict:
    from fontTools import version as fonttools_version
    from fontTools.ttLib import TTFont
    from fontTools.varLib.instancer import instantiateVariableFont

    family, style, stem, location, css_family = item
    fam, path = _source(family, style)
    font = TTFont(str(path))
    static = instantiateVariableFont(font, location, static=True)
    static["head"].modified = static["head"].created  # the same bytes on every run
    buffer = io.BytesIO()
    static.save(buffer)
    (OUT / f"{stem}.ttf").write_bytes(buffer.getvalue())
    return {"file": f"{stem}.ttf", "family": css_family, "style": style,
            "weight": location["wght"], "location": location,
            "licence": f"{family.replace(' ', '')}-OFL.txt",
            "package": f"fontpkg-{fam.slug}", "version": fam.version,
            "source": path.name,
            "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "fonttools": fonttools_version}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for family in dict.fromkeys(f for f, *_ in PLAN):  # each package's licence, once
        fam, path = _source(family, "normal")
        licence = path.parents[1] / "LICENSE"
        shutil.copyfile(licence, OUT / f"{family.replace(' ', '')}-OFL.txt")
    with ProcessPoolExecutor(2) as pool:
        entries = list(pool.map(_instance, PLAN))
    (OUT / "static.json").write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(entries)} static fonts to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
