"""Check that every character of client text has a glyph in the bundled fonts.

A name in a script the fonts do not cover would print as empty boxes; this finds it
first, names the field and the character (never the whole text), and picks the
fallback fonts a handout needs so that Latin-only handouts load none of them.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache

from handouts.core.resources import (
    CJK_PACKAGE,
    EMOJI_PACKAGE,
    FALLBACK_FAMILIES,
    FALLBACK_RANGES,
    TEXT_FAMILIES,
    emoji_font,
    font_files,
    is_emoji,
)
from handouts.errors import RenderError
from handouts.plan.profile import Profile

# Characters that shape text rather than draw: joiners, bidi marks, variation selectors.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def _invisible(char: str) -> bool:
    code = ord(char)
    return (unicodedata.category(char) in _INVISIBLE_CATEGORIES
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF)


CJK_FAMILY = "Noto Sans CJK TC"


@cache
def coverage(family: str) -> frozenset[int]:
    """Return the code points the bundled *family* draws."""
    from fontTools.ttLib import TTFont  # lazy: only the glyph check reads font tables

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
    texts += [(f"partners[{i}].pronouns", p.pronouns_in(profile.language))
              for i, p in enumerate(profile.partners)]
    texts += [("therapist", profile.therapist), ("note", profile.note_text),
              ("practice_name", profile.practice_name),
              ("practice_contact", profile.practice_contact)]
    for i, line in enumerate(profile.crisis):
        texts += [(f"crisis_lines[{i}].{key}", getattr(line, key))
                  for key in ("label", "number", "text", "chat", "hours")]
    for i, own in enumerate(profile.own_sections):
        texts += [(f"own_sections[{i}].title", own.title), (f"own_sections[{i}].text", own.text)]
    return [(field, text) for field, text in texts if text]


def fallbacks_needed(profile: Profile) -> list[str]:
    """Return the fallback families the client text needs; raise on a character none has."""
    base = coverage(TEXT_FAMILIES[0]) | coverage(TEXT_FAMILIES[1])
    needed: list[str] = []
    no_emoji = emoji_font() is None
    left_out: list[str] = []
    for field, text in client_texts(profile):
        for char in set(text):
            if ord(char) in base or _invisible(char):
                continue
            if no_emoji and is_emoji(char):
                left_out += [field] if field not in left_out else []
                continue  # html.client_text leaves emoji out: no box, no failure
            family = next((f for f in FALLBACK_FAMILIES if ord(char) in coverage(f)), None)
            if family is None:
                name = unicodedata.name(char, "unnamed character")
                cjk = any(lo <= ord(char) <= hi for lo, hi in FALLBACK_RANGES[CJK_FAMILY])
                remedy = (f"install {CJK_PACKAGE}" if cjk and not coverage(CJK_FAMILY)
                          else "remove or replace it")
                raise RenderError(
                    f"character U+{ord(char):04X} ({name}) has no glyph in the bundled "
                    f"fonts and would print as an empty box; {remedy}",
                    field=field)
            if family not in needed:
                needed.append(family)
    if left_out:
        logging.getLogger("handouts").warning(
            "emoji in %s left out: no colour emoji font (install %s)",
            ", ".join(sorted(left_out)), EMOJI_PACKAGE)
    return [f for f in FALLBACK_FAMILIES if f in needed]


# Han characters are shared by Chinese, Japanese and Korean but drawn differently in each
# (Han unification). The CJK font is Pan-CJK: its `locl` feature draws Japanese or Korean
# shapes when the text is marked lang="ja" or lang="ko". A name only says which when it
# also has kana (Japanese) or hangul (Korean); Han-only text keeps the font's Traditional
# Chinese shapes.
_KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HANGUL = "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff\uffa0-\uffdc"
_HAN = "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff" \
       "\U00020000-\U0002fa1f"
_CJK_CHAR = f"[{_KANA}{_HANGUL}{_HAN}\u3000-\u3004\u3008-\u3020\u30fb\uff01-\uff65]"
# A run: CJK characters, with the spaces and middle dots between them ("佐藤 さくら").
_CJK_RUN = re.compile(f"{_CJK_CHAR}(?:[ \u00b7\u30fb]*{_CJK_CHAR})*")
_HAS_KANA = re.compile(f"[{_KANA}]")
_HAS_HANGUL = re.compile(f"[{_HANGUL}]")


def cjk_language(text: str) -> str:
    """Return "ja" if *text* has kana, "ko" if it has hangul, else "" (both or neither)."""
    kana, hangul = bool(_HAS_KANA.search(text)), bool(_HAS_HANGUL.search(text))
    return "ja" if kana and not hangul else "ko" if hangul and not kana else ""


def mark_cjk_language(text: str, context: str | None = None) -> str:
    """Wrap Japanese and Korean runs of escaped *text* in ``<span lang="…">``.

    A run's own kana or hangul decide; a Han-only run takes the language of *context*
    (the whole field, by default *text*), so the family name in "佐藤 さくら" and in
    "佐藤 / さくら" alike is drawn with Japanese shapes.
    """
    fallback = cjk_language(text if context is None else context)

    def wrap(match: re.Match) -> str:
        lang = cjk_language(match.group(0)) or fallback
        return f'<span lang="{lang}">{match.group(0)}</span>' if lang else match.group(0)

    return _CJK_RUN.sub(wrap, text)
