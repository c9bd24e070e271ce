"""The screen editions of a packet: one self-contained web page, and an EPUB 3 e-book.

Both are the print template's pages rendered with ``screen`` set (the screen stylesheet,
landmarks, fields that fit a phone). The web page holds everything it shows: styles,
the practice logo and subsets of the text font as ``data:`` URIs, and one script of its
own (saving and reopening answers), which its Content-Security-Policy alone lets run, so
the page fetches nothing and sends nothing. The e-book is made in
:mod:`handouts.render.epub`.
"""

from __future__ import annotations

import base64
import html as htmllib
import io
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from handouts.core.files import atomic_write, write_hint
from handouts.core.resources import font_files
from handouts.errors import RenderError
from handouts.plan.assemble import Handout
from handouts.render.epub import render_epub
from handouts.render.html import render_html

FONT_MARK = "/*@font-faces@*/"
FORMATS = ("html", "epub")
# The web page's text font: drawn for people with low vision, small when subset.
SCREEN_FAMILY = "Atkinson Hyperlegible"


def render_page(handout: Handout, since: list | None = None,
                extra_templates: str | Path | None = None, template: str = "handout",
                weeks: list | None = None) -> str:
    """Return the packet as one self-contained, fillable web page."""
    page = screen_html(handout, "html", since, extra_templates, template, weeks)
    return page.replace(FONT_MARK, font_faces_inline(page), 1)


def screen_html(handout: Handout, screen: str, since: list | None = None,
                extra_templates: str | Path | None = None, template: str = "handout",
                weeks: list | None = None) -> str:
    """Return the screen rendering of *handout* for *screen* (``html`` or ``epub``)."""
    page = render_html(handout, extra_templates, template=template, since=since,
                       screen=screen, weeks=weeks)
    if handout.profile.language != "en":
        # The icons' descriptions are written in English: say so to a screen reader.
        page = page.replace('<svg class="icon" ', '<svg class="icon" lang="en" ')
    return page


def write_screen(handout: Handout, path: str | Path, since: list | None = None,
                 extra_templates: str | Path | None = None, template: str = "handout",
                 weeks: list | None = None) -> Path:
    """Write the profile's screen edition (``format`` html or epub) atomically (0600);
    *weeks* holds a program's weeks so far, as for the PDF."""
    kind = handout.profile.format
    if kind not in FORMATS:
        raise RenderError(f"{kind!r} is not a screen edition", field="format",
                          choices=FORMATS)
    if kind == "html":
        data = render_page(handout, since, extra_templates, template,
                           weeks).encode("utf-8")
    else:
        data = render_epub(screen_html(handout, "epub", since, extra_templates, template,
                                       weeks), handout)
    try:
        return atomic_write(path, data)
    except OSError as exc:
        raise RenderError(f"cannot write the {kind.upper()} file: {exc.strerror or exc}; "
                          f"{write_hint(exc)}", file=path) from None


def font_faces_inline(page: str) -> str:
    """Return @font-face rules for the screen font, subset to the characters of *page*."""
    text = htmllib.unescape(page)
    characters = "".join(sorted({c for c in text if c.isprintable()}))
    rules = []
    for path, weight, style in font_files((SCREEN_FAMILY,)).get(SCREEN_FAMILY, []):
        data, kind = _subset(str(path), characters)
        if data is None:
            continue
        uri = f"data:font/{kind};base64,{base64.b64encode(data).decode('ascii')}"
        rules.append(f'@font-face {{ font-family: "{SCREEN_FAMILY}"; src: url("{uri}") '
                     f'format("{kind}"); font-weight: {weight or 400}; font-style: {style}; '
                     "font-display: swap; }")
    return "\n".join(rules)


@lru_cache(maxsize=16)
def _subset(path: str, characters: str) -> tuple[bytes | None, str]:
    """Return the font at *path* cut down to *characters*, as WOFF2 (WOFF without brotli).

    Timestamps are kept as in the font file, so the same page gives the same bytes.
    """
    from fontTools import subset  # lazy: only a web page subsets its font
    from fontTools.ttLib import TTFont  # lazy: only a web page subsets its font

    flavor = "woff2" if find_spec("brotli") else "woff"
    options = subset.Options()
    options.flavor = flavor
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    try:
        font = TTFont(path, recalcTimestamp=False)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=characters)
        subsetter.subset(font)
        out = io.BytesIO()
        font.flavor = flavor
        font.save(out)
    except Exception:  # noqa: BLE001 - an unusable font: the system's fonts draw the page
        return None, flavor
    return out.getvalue(), flavor
