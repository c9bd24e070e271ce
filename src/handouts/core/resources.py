"""Find the package's bundled resources: library, templates, workbooks, fonts."""

from __future__ import annotations

import json
import os
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from handouts.errors import BuildError

_SRC_ROOT = Path(__file__).resolve().parents[1]


def _resource_dir(name: str) -> Path:
    """Return the folder *name* shipped inside the package.

    A wheel carries ``templates/`` and ``workbooks/`` inside the package. A source
    checkout keeps them at the project root, two levels above ``src/handouts``.
    """
    packaged = Path(str(files("handouts") / name))
    if packaged.is_dir():
        return packaged
    checkout = _SRC_ROOT.parents[1] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"handouts: bundled folder {name!r} is missing from the install")


def load_yaml(text: str):
    """Parse *text* as safe YAML, with libyaml's parser where PyYAML has it.

    The library is about 40 files of front matter: the pure-Python parser took 0.3 s of
    every ``handouts build``, libyaml a tenth of that. Both build the same data.
    """

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def library_dir() -> Path:
    """Return the default content library folder."""
    return _resource_dir("library")


def templates_dir() -> Path:
    """Return the default templates folder."""
    return _resource_dir("templates")


def workbooks_dir() -> Path:
    """Return the folder of bundled workbooks."""
    return _resource_dir("workbooks")


def examples_dir() -> Path:
    """Return the folder of bundled fictional examples (practice file and profiles)."""
    return _resource_dir("examples")


def workbook_path(name: str | Path) -> Path:
    """Return the bundled workbook *name* (without ``.ipynb``), or a notebook file path."""

    if str(name).endswith(".ipynb"):
        path = Path(name).expanduser().resolve()
        if not path.is_file():
            raise BuildError("notebook not found", file=path, field="workbook")
    else:
        path = workbooks_dir() / f"{name}.ipynb"
        if not path.is_file():
            choices = [p.stem for p in workbooks_dir().glob("*.ipynb")]
            raise BuildError(f"no workbook named {name!r}", field="workbook", choices=choices)
    _check_parameters_cell(path)
    return path


def _check_parameters_cell(path: Path) -> None:
    """Refuse a notebook without exactly one cell tagged ``parameters``.

    Without one, papermill would put the client's values at the top and the notebook's
    own defaults, run later, would silently win.
    """

    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BuildError(f"not a readable notebook: {exc}", file=path, field="workbook") from None
    tagged = sum(1 for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    if tagged != 1:
        raise BuildError(f"needs exactly one cell tagged 'parameters' (found {tagged})",
                         file=path, field="workbook")


# Body text, headings, and the cover title's display cut of Literata.
TEXT_FAMILIES = ("Literata", "Atkinson Hyperlegible", "Literata Display")
# Fallbacks for client text in other scripts, in the order they are tried.
FALLBACK_FAMILIES = ("Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Devanagari",
                     "Noto Sans Thai", "Noto Sans Tamil", "Noto Sans Telugu",
                     "Noto Sans Khmer", "Noto Sans CJK TC", "Noto Color Emoji")


# The script each fallback serves. The fonts also carry digits and punctuation, which
# must keep coming from the text fonts; the ranges keep the fallbacks to their script.
FALLBACK_RANGES = {
    "Noto Sans Arabic": [(0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF),
                         (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)],
    "Noto Sans Hebrew": [(0x0590, 0x05FF), (0xFB1D, 0xFB4F)],
    "Noto Sans Devanagari": [(0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x1CD0, 0x1CFF)],
    "Noto Sans Thai": [(0x0E00, 0x0E7F)],
    "Noto Sans Tamil": [(0x0B80, 0x0BFF), (0x11FC0, 0x11FFF)],
    "Noto Sans Telugu": [(0x0C00, 0x0C7F)],
    "Noto Sans Khmer": [(0x1780, 0x17FF), (0x19E0, 0x19FF)],
    "Noto Sans CJK TC": [(0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3000, 0x33FF),
                         (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA960, 0xA97F),
                         (0xAC00, 0xD7FF), (0xF900, 0xFAFF), (0xFE30, 0xFE4F),
                         (0xFF00, 0xFFEF), (0x20000, 0x2FA1F)],
    "Noto Color Emoji": [(0x200D, 0x200D), (0x20E3, 0x20E3), (0x2600, 0x27BF),
                         (0x2B00, 0x2BFF), (0xFE0F, 0xFE0F), (0x1F000, 0x1FAFF),
                         (0xE0020, 0xE007F)],
}


# Colour emoji come from the system's font package, not the wheel (the font is 10 MB):
# Debian and Ubuntu `fonts-noto-color-emoji`, Fedora and Arch at their paths below.
# HANDOUTS_EMOJI_FONT names another file, or "" for none (emoji are then left out).
EMOJI_PACKAGE = "fonts-noto-color-emoji"
EMOJI_FONT_PATHS = ("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
                    "/usr/share/fonts/google-noto-color-emoji-fonts/NotoColorEmoji.ttf",
                    "/usr/share/fonts/noto/NotoColorEmoji.ttf")


# Noto Sans CJK (Pan-CJK) comes from the system too (Debian and Ubuntu `fonts-noto-cjk`,
# Arch at the second path): a collection whose "Noto Sans CJK TC" face Pango finds by
# name, so it gets no @font-face (SYSTEM_FAMILIES).
CJK_PACKAGE = "fonts-noto-cjk"
CJK_FONT_PATHS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                  "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc")
SYSTEM_FAMILIES = ("Noto Sans CJK TC",)


def emoji_font() -> Path | None:
    """Return the colour emoji font this machine has, or None."""
    chosen = os.environ.get("HANDOUTS_EMOJI_FONT")
    candidates = EMOJI_FONT_PATHS if chosen is None else (chosen,)
    return next((Path(p) for p in candidates if p and Path(p).is_file()), None)


def is_emoji(text: str) -> bool:
    """Whether *text* holds a character of an emoji (pictograph, joiner, modifier or tag)."""
    return any(lo <= ord(char) <= hi for char in text
               for lo, hi in FALLBACK_RANGES["Noto Color Emoji"])


def static_fonts_dir() -> Path:
    """Return the folder of shipped static font instances (see tools/make_static_fonts.py)."""
    return templates_dir() / "fonts" / "static"


@cache
def static_fonts() -> dict[str, list[tuple[Path, str, str]]]:
    """Return the shipped static instances of the variable fonts, by CSS family.

    WeasyPrint would otherwise instance a variable font for every weight and size a
    document uses, in every document (most of a warm render). The instances are made
    once by ``tools/make_static_fonts.py``; ``static.json`` lists them.
    """

    folder = static_fonts_dir()
    result: dict[str, list[tuple[Path, str, str]]] = {}
    for entry in json.loads((folder / "static.json").read_text(encoding="utf-8")):
        result.setdefault(entry["family"], []).append(
            (folder / entry["file"], str(entry["weight"]), entry["style"]))
    return result


def font_files(families: tuple[str, ...] = TEXT_FAMILIES) -> dict[str, list[tuple[Path, str, str]]]:
    """Return the font files served for each family: (path, weight, style) each.

    Every file is static (no variation tables): shipped instances for the variable
    families, the font packages' own files for the static ones. Weight is "" only for a
    variable font a practice might add, which then serves both weights.
    """
    result: dict[str, list[tuple[Path, str, str]]] = {}
    vendored = templates_dir() / "fonts"
    for family in families:
        if family in static_fonts():
            result[family] = static_fonts()[family]
        elif family == "Noto Sans Hebrew":
            result[family] = [(vendored / "NotoSansHebrew-Regular.ttf", "400", "normal"),
                              (vendored / "NotoSansHebrew-Bold.ttf", "700", "normal")]
        elif family == "Noto Color Emoji":
            found = emoji_font()
            result[family] = [(found, "400", "normal")] if found else []
        elif family == "Noto Sans CJK TC":
            # A Pan-CJK font: its `locl` feature draws Japanese and Korean shapes for
            # text marked lang="ja" / lang="ko" (see glyphs.mark_cjk_language).
            found = next((Path(p) for p in CJK_FONT_PATHS if Path(p).is_file()), None)
            result[family] = [(found, "400", "normal")] if found else []
        else:
            import fontpkg  # optional: a font package, where installed

            fam = fontpkg.family(family)
            result[family] = [(Path(f.path), str(f.weight or ""), f.style) for f in fam.files]
    return result
