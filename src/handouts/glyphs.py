"""Check that every character of client text has a glyph in the bundled fonts.

A name in a script the fonts do not cover would print as empty boxes; this finds it
first, names the field and the character (never the whole text), and picks the
fallback fonts a handout needs so that Latin-only handouts load none of them.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from .errors import RenderError
from .profile import Profile
from .resources import FALLBACK_FAMILIES, FALLBACK_RANGES, TEXT_FAMILIES, font_files

# Characters that shape text rather than draw: joiners, bidi marks, variation selectors.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def _invisible(char: str) -> bool:
    code = ord(char)
    return (unicodedata.category(char) in _INVISIBLE_CATEGORIES
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF)


@cache
def coverage(family: str) -> frozenset[int]:
    """Return the code points the bundled *family* draws."""
    from fontTools.ttLib import TTFont

    points: set[int] = set()
    for path, _weight, _style in font_files((family,))[family]:
        with TTFont(str(path), lazy=True, fontNumber=0) as font:
            points.update(font.getBestCmap() or {})
    ranges = FALLBACK_RANGES.get(family)
    if ranges:  # a fallback draws only its own script (see FALLBACK_RANGES)
        points = {p for p in points if any(lo <= p <= hi for lo, hi in ranges)}
    return frozenset(points)


def client_texts(profile: Profile) -> list[tuple[str, str]]:
    """Return every piece of client-supplied text with the field it came from."""
    texts = [(f"partners[{i}].name", p.name) for i, p in enumerate(profile.partners)]
    texts += [(f"partners[{i}].pronouns", p.pronouns) for i, p in enumerate(profile.partners)]
    texts += [("therapist", profile.therapist), ("note", profile.note),
              ("practice_name", profile.practice_name),
              ("practice_contact", profile.practice_contact)]
    for i, line in enumerate(profile.crisis):
        texts += [(f"crisis_lines[{i}].{key}", getattr(line, key))
                  for key in ("label", "number", "text")]
    for i, own in enumerate(profile.own_sections):
        texts += [(f"own_sections[{i}].title", own.title), (f"own_sections[{i}].text", own.text)]
    return [(field, text) for field, text in texts if text]


def fallbacks_needed(profile: Profile) -> list[str]:
    """Return the fallback families the client text needs; raise on a character none has."""
    base = coverage(TEXT_FAMILIES[0]) | coverage(TEXT_FAMILIES[1])
    needed: list[str] = []
    for field, text in client_texts(profile):
        for char in set(text):
            if ord(char) in base or _invisible(char):
                continue
            family = next((f for f in FALLBACK_FAMILIES if ord(char) in coverage(f)), None)
            if family is None:
                name = unicodedata.name(char, "unnamed character")
                raise RenderError(
                    f"character U+{ord(char):04X} ({name}) has no glyph in the bundled "
                    "fonts and would print as an empty box; remove or replace it",
                    field=field)
            if family not in needed:
                needed.append(family)
    return [f for f in FALLBACK_FAMILIES if f in needed]
