"""Answer WeasyPrint's repeated line-fitting questions once per document.

While laying out a handout, WeasyPrint asks Pango to fit the same text, in the same
font, into the same width again and again: every list marker, every "Names" and
"Week of" label, a block laid out again on the next page, a table cell measured before
it is laid out. In the demo handout more than half of its ~3,000 calls to
``split_first_line`` repeat an earlier one (measured: 5-10% of a render). Inside
:func:`cached`, each distinct question goes to Pango once; repeats get a copy of the
first answer. The answer depends only on the text, the width, the flags and the style
properties Pango is given (:data:`PROPERTIES`), so the PDF is byte for byte the same.
The answers are kept under the handout's render key (:mod:`handouts.plan.renderkey`): the
parts of one build laid out one by one share them, and a build under another key starts
afresh.

Outside :func:`cached` (any other use of WeasyPrint in the process) every call goes
straight to WeasyPrint.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Every style property WeasyPrint 70's line fitting reads (weasyprint/text/line_break.py
# and the font description in weasyprint/text/fonts.py); a test checks this list
# against WeasyPrint's source.
PROPERTIES = (
    "direction", "font_family", "font_feature_settings", "font_kerning",
    "font_language_override", "font_size", "font_stretch", "font_style",
    "font_variant_alternates", "font_variant_caps", "font_variant_east_asian",
    "font_variant_ligatures", "font_variant_numeric", "font_variant_position",
    "font_variation_settings", "font_weight", "hyphenate_character",
    "hyphenate_limit_chars", "hyphenate_limit_zone", "hyphens", "lang", "letter_spacing",
    "line_height", "overflow_wrap", "tab_size", "text_decoration_line", "white_space",
    "word_break", "word_spacing",
)

# (answers, style keys) of the document being laid out; None outside cached()
_ACTIVE: ContextVar[tuple[dict, dict] | None] = ContextVar("handouts_lines", default=None)
_KEPT: dict[str, tuple[dict, dict]] = {}  # the last render key's answers and style keys
_INSTALLED: list = []  # WeasyPrint's own split_first_line, once installed


def installed() -> bool:
    """Return whether :func:`install` has run in this process."""
    return bool(_INSTALLED)


def install() -> None:
    """Route WeasyPrint's layout calls to ``split_first_line`` through this module."""
    if _INSTALLED:
        return
    # lazy: WeasyPrint takes about a second to load; only a render needs it
    from weasyprint.layout import inline, preferred

    # lazy: WeasyPrint takes about a second to load; only a render needs it
    from weasyprint.text import line_break

    _INSTALLED.append(line_break.split_first_line)
    inline.split_first_line = preferred.split_first_line = split_first_line


@contextmanager
def cached(key: str | None = None) -> Iterator[None]:
    """Answer repeated line-fitting questions from one cache while the block runs.

    With *key* (a render key's digest), the cache is the one the last block under the
    same key used; without, it is new.
    """
    if key is None:
        answers = ({}, {})
    else:
        if key not in _KEPT:
            _KEPT.clear()  # another handout, or the same one changed: start afresh
            _KEPT[key] = ({}, {})
        answers = _KEPT[key]
    token = _ACTIVE.set(answers)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def split_first_line(text, style, context, max_width, justification_spacing,
                     is_line_start=True, minimum=False):
    """Call WeasyPrint's ``split_first_line``, or answer as it answered before."""
    fit = _INSTALLED[0]
    active = _ACTIVE.get()
    if active is None:
        return fit(text, style, context, max_width, justification_spacing, is_line_start,
                   minimum)
    answers, styles = active
    # A style's key is read once: WeasyPrint 70 changes text properties only on a fresh
    # copy (::first-line, ::first-letter). Keeping the style keeps its id from reuse.
    known = styles.get(id(style))
    if known is None:
        key = (id(style.font_config), *(style[name] for name in PROPERTIES))
        try:
            hash(key)
        except TypeError:  # a value this module does not know: never cached
            key = None
        known = styles[id(style)] = (style, key)
    if known[1] is None:
        return fit(text, style, context, max_width, justification_spacing, is_line_start,
                   minimum)
    question = (text, known[1], max_width, justification_spacing, is_line_start, minimum)
    answer = answers.get(question)
    if answer is None:
        answer = answers[question] = fit(text, style, context, max_width,
                                         justification_spacing, is_line_start, minimum)
    # Each text box gets its own layout object: drawing sets it up again, and may change
    # its text. (WeasyPrint returns it released from Pango, so a copy is a few values.)
    return (copy.copy(answer[0]), *answer[1:])
