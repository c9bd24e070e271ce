"""Every use of WeasyPrint's internals, in one place: checked against WeasyPrint 70.

- :func:`import_weasyprint` imports it quickly (its library lookups answered from one
  ``ldconfig -p`` listing; a cffi cache of glyph arrays) and quiets its fontTools notice.
- :func:`cached` answers WeasyPrint's repeated line-fitting questions once per document
  (a patch of ``split_first_line`` in three of its modules).
- :func:`body_sections` and :func:`html_box` read the two private attributes layout
  reuse (:mod:`handouts.render.segments`) needs.

``pyproject.toml`` pins WeasyPrint below its next major version, and
``tests/test_lines.py`` fails naming the installed version when it is not the one these
were checked against (:data:`CHECKED_WITH`).

Line fitting, in more detail:

Answer WeasyPrint's repeated line-fitting questions once per document.

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

import atexit
import copy
import ctypes.util
import logging
import os
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


def _quiet_logs() -> None:
    # fontTools logs every subset font at INFO: a papermill run would print hundreds.
    for name in ("fontTools", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.WARNING)
    weasy_log = logging.getLogger("weasyprint")
    if not any(isinstance(f, _FontToolsSubsetter) for f in weasy_log.filters):
        weasy_log.addFilter(_FontToolsSubsetter())


class _FontToolsSubsetter:
    """Drop WeasyPrint's warning, once per font per PDF, that fontTools subsets the fonts.

    Without libharfbuzz-subset0 WeasyPrint 70 subsets with fontTools (a dependency,
    pinned for it): the same PDF, only slower. The warning told the therapist nothing
    they could act on in a handout, and buried any real one.
    """

    def filter(self, record) -> bool:
        return not str(record.msg).startswith("Using fontTools instead of HarfBuzz-Subset")


def import_weasyprint():
    """Import WeasyPrint, answering its library lookups from one ``ldconfig -p`` listing.

    WeasyPrint tries several names for each of its seven libraries, and ctypes answers
    every miss by running ldconfig, gcc and ld: about 50 processes and 0.3 s at every
    process start. The names it finally loads (``libpango-1.0.so.0`` ...) are found as
    before; if anything goes wrong, the import is simply done the usual way.
    """
    if "weasyprint" in sys.modules:
        _quiet_logs()
        _prepare()  # imported by someone else first (a notebook, the benchmark)
        return sys.modules["weasyprint"]
    _quiet_logs()  # before the import: WeasyPrint logs while parsing its own stylesheets

    lookup = ctypes.util.find_library
    listing = _ldconfig_listing() if sys.platform.startswith("linux") else None
    if listing is not None:
        ctypes.util.find_library = lambda name: _soname(listing, name)
    try:
        import weasyprint  # lazy: WeasyPrint takes about a second to load; only a render needs it
    except Exception:  # noqa: BLE001 - fall back to WeasyPrint's own lookups
        for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
            del sys.modules[name]
        ctypes.util.find_library = lookup
        import weasyprint  # lazy: WeasyPrint takes about a second to load; only a render needs it
    finally:
        ctypes.util.find_library = lookup
    _prepare()
    return weasyprint


def _prepare() -> None:
    """Make this process's WeasyPrint faster without changing what it prints (once)."""
    if not installed():
        _known_glyph_arrays()
        install()


def _known_glyph_arrays(longest: int = 4096) -> None:
    """Give cffi the glyph-array types WeasyPrint asks for when it subsets a font.

    ``Font._harfbuzz_subset`` (WeasyPrint 70) makes ``ffi.new(f"hb_codepoint_t[{n}]")``
    with *n* the font's last glyph used, so nearly every font of every handout names a
    new C type, which cffi parses with pycparser: about 3 ms each, 30-40 ms a handout.
    The types themselves cost microseconds to make; longer arrays are parsed as before.
    """
    try:
        # lazy: WeasyPrint takes about a second to load; only a render needs it
        from weasyprint.text.ffi import ffi

        parsed, backend = ffi._parsed_types, ffi._backend
        pointer = backend.new_pointer_type(ffi.typeof("hb_codepoint_t"))
        for n in range(1, longest + 1):
            key = f"hb_codepoint_t[{n}]"
            if key not in parsed:
                parsed[key] = (backend.new_array_type(pointer, n), False)
    except Exception:  # noqa: BLE001 - cffi or WeasyPrint changed: they parse as before
        return


def _ldconfig_listing() -> bytes | None:
    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig"):
        try:
            return subprocess.run([ldconfig, "-p"], capture_output=True, check=True,
                                  timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
    return None


def _soname(listing: bytes, name: str) -> str | None:
    """Find lib<name> for this machine's ABI in *listing*, as ctypes.util does."""

    bits = "-32" if struct.calcsize("l") == 4 else "-64"
    abi = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
           "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}.get(
        os.uname().machine + bits, "libc6")
    found = re.search(os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({abi}"), listing)
    return os.fsdecode(found.group(1)) if found else None


CHECKED_WITH = "70."  # the WeasyPrint versions every function here was checked against


def body_sections(document) -> list:
    """Return the ``<section>`` elements of a laid-out document's body, in order."""
    return [element for element in document._html.etree_element.find("body")
            if element.tag == "section"]


def html_box(page):
    """Return the root (``<html>``) box of a laid-out page."""
    return page._page_box.children[0]


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
    # The kept answers hold Pango layouts that cffi frees with Pango's own functions: free
    # them before the interpreter tears the libraries' modules down (it crashed there).
    atexit.register(_KEPT.clear)


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
