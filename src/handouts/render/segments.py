"""Lay out again only the parts of a handout that changed since the last build.

A handout starts a new page at each of its top-level sections (the cover, the front
matter, each part). WeasyPrint lays out a document made of one such *segment* exactly as
it lays out that stretch of the whole handout, once the segment is told what it would
otherwise take from the rest: the number of its first page, the page count of the whole,
the contents' page numbers and the practice name of the running header. The segments'
pages written together give the same bytes as the whole handout (the tests hold this for
every example). So a notebook that builds again re-lays out only the segments whose HTML
changed, and lays out the whole handout whenever a page count or anything shared moves.

Only the last build of the process is kept, and a segment is reused only when its HTML,
the stylesheet, the document head, the render options and the extra files' bytes are all
the same: what is reused is exactly what a fresh layout would give.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from handouts.render.weasy import body_sections, html_box

_BODY = re.compile(r"<body[^>]*>\n")
# A body-level section starts a page, except those that run on after the section before
# them (the practices, the scripts and the back matter); each stays in the segment before it.
_SEGMENT_START = re.compile(
    r'(?m)^(?=<section class="(?!part part-scripts"|part part-worksheets"|back"))')
_SECTION = re.compile(r"(?m)^<section\b")
_CONTENTS = re.compile(r'<nav class="contents".*?</nav>', re.DOTALL)
_CONTENTS_LINK = re.compile(r'<a href="#([^"]+)">')
_PRACTICE = re.compile(r'<p class="practice">(.*?)</p>', re.DOTALL)
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")
_FOOTER = re.compile(r"@bottom-center \{\s*content: ([^;]*counter\(pages\)[^;]*);")
# What in the head only becomes the PDF's document information: its title and named meta
# tags (the keywords carry the handout's form id, which changes with its rituals).
_METADATA = re.compile(r'<title>[^<]*</title>\n?|<meta name="[^"]*" content="[^"]*">\n?')


@dataclass
class _Segment:
    html: str
    pages: list  # WeasyPrint pages, laid out with the three fields below
    first: int  # the number of its first page
    total: int  # the page count of the whole handout
    numbers: dict[str, int]  # the contents' page numbers, for the segment with the contents
    anchors: dict[str, int] = field(default_factory=dict)  # anchor -> page index in it
    document: object = None  # the WeasyPrint document its pages come from


@dataclass
class _Build:
    context: tuple
    segments: list[_Segment]
    images: dict  # WeasyPrint's image cache for this context's documents
    digest: str = ""  # the SHA-256 of the PDF bytes it wrote


_LAST: list[_Build] = []  # the last build of this process, if it could be split


@dataclass
class Parts:
    """A handout's HTML cut into segments, with what they share."""

    head: str
    segments: list[str]
    tail: str
    footer: str  # the running footer's content, with the page count to fill in
    practice: str  # the running header's practice name, as the cover sets it

    def document(self, index: int, first: int, total: int, numbers: dict[str, int]):
        """Return the HTML of segment *index* and the CSS that places it in the whole."""
        footer = self.footer.replace("counter(pages)", f'"{total}"')
        css = [f"@page {{ @bottom-center {{ content: {footer}; }} }}"]
        if index:
            css.append(f"@page :first {{ counter-reset: page {first}; }}")
            css.append(f"html {{ string-set: practice {_css_string(self.practice)}; }}")
        css.extend(f'.contents a[href="#{anchor}"]::after {{ content: "{number}"; }}'
                   for anchor, number in numbers.items() if anchor in self.links(index))
        return self.head + self.segments[index] + self.tail, "\n".join(css)

    def links(self, index: int) -> list[str]:
        """Return the anchors the contents in segment *index* (if any) number."""
        found = _CONTENTS.search(self.segments[index])
        return _CONTENTS_LINK.findall(found.group(0)) if found else []


def split(body: str, style: str) -> Parts | None:
    """Cut *body* (the handout without its stylesheet) into segments, or return None.

    None when the stylesheet or the HTML is not the shape this module knows: such a
    handout is always laid out whole.
    """
    opened, end = _BODY.search(body), body.rfind("</body>")
    footer = _FOOTER.search(style)
    if (opened is None or end < 0 or footer is None or "@page :first" in style
            or style.count("counter(pages)") != 1 or style.count("target-counter(") != 1
            or ".contents a::after" not in style
            or style.count("string-set") != 1 or "string-set: practice content()" not in style):
        return None
    chunks = _SEGMENT_START.split(body[opened.end():end])
    if len(chunks) < 3 or chunks[0].strip():
        return None
    practice = _PRACTICE.search(chunks[1])
    if practice is None:
        return None
    parts = Parts(head=body[:opened.end()], segments=chunks[1:], tail=body[end:],
                 footer=footer.group(1),
                 practice=" ".join(html_lib.unescape(practice.group(1)).split()))
    # Each contents number is set by a CSS rule naming its anchor: only plain ids.
    if not all(_PLAIN_ID.fullmatch(anchor) for index in range(len(parts.segments))
               for anchor in parts.links(index)):
        return None
    return parts


def layout_head(head: str) -> str:
    """Return *head* without what only goes into the PDF's document information.

    WeasyPrint lays out nothing of the head: a build whose title or meta tags changed
    can reuse the last build's layout, and its PDF takes them from the current head.
    """
    return _METADATA.sub("", head)


def _css_string(text: str) -> str:
    escaped = "".join(c if c.isprintable() and c not in '"\\' else f"\\{ord(c):x} "
                      for c in text)
    return f'"{escaped}"'


def render(parts: Parts, context: tuple, layout: Callable, layout_whole: Callable,
           write: Callable) -> bytes:
    """Write the handout of *parts*, laying out only segments that changed; return bytes.

    *layout(html, css, images)* lays out one segment's document, *layout_whole(images)*
    the whole handout, *write(pages, document)* writes pages as the document's PDF.
    """
    last = _LAST[0] if _LAST and _LAST[0].context == context else None
    planned = _plan(parts, last, layout) if last else None
    if planned is None:
        images: dict = {}
        document = layout_whole(images)
        segments = _segments_of(parts, document)
        _LAST[:] = [_Build(context, segments, images)] if segments else []
        data = write(document.pages, document)
    else:
        _LAST[:] = [_Build(context, planned, last.images)]
        data = write([page for segment in planned for page in segment.pages],
                     planned[0].document)
    if _LAST:
        _LAST[0].digest = hashlib.sha256(data).hexdigest()
    return data


def pages_of(data: bytes) -> list | None:
    """Return the laid-out pages of the last build if it wrote exactly *data*, else None.

    A page object that is the same from one build to the next was reused, so it prints
    exactly as before (what :mod:`handouts.render.preview` uses to keep its thumbnail).
    """
    if _LAST and _LAST[0].digest == hashlib.sha256(data).hexdigest():
        return [page for segment in _LAST[0].segments for page in segment.pages]
    return None


def _plan(parts: Parts, last: _Build, layout: Callable) -> list[_Segment] | None:
    """Return every segment laid out for this build, or None to lay out the whole."""
    links = [parts.links(index) for index in range(len(parts.segments))]
    kept = {segment.html: segment for segment in last.segments}
    old = [kept.get(html) for html in parts.segments]
    if sum(s is None for s in old) > len(old) // 2:
        return None  # most of it changed: one whole layout is cheaper
    counts = [len(s.pages) if s else None for s in old]
    if None in counts:  # a changed segment: guess it kept the page count of its place
        if len(parts.segments) != len(last.segments):
            return None
        counts = [c if c is not None else len(last.segments[i].pages)
                  for i, c in enumerate(counts)]
    firsts = [1 + sum(counts[:i]) for i in range(len(counts))]
    total = sum(counts)
    anchors = {}
    for segment, first in zip(old, firsts, strict=True):
        for anchor, index in (segment.anchors.items() if segment else ()):
            anchors.setdefault(anchor, first + index)
    result: list[_Segment | None] = list(old)
    for index, segment in enumerate(old):
        if links[index]:
            continue  # the contents are laid out last, with every page number known
        if segment is None or (segment.first, segment.total) != (firsts[index], total):
            result[index] = _lay_out(parts, index, firsts[index], total, {}, layout,
                                     last.images)
    for index, segment in enumerate(result):
        if segment is not None and len(segment.pages) != counts[index]:
            return None  # a page count moved: every later page number moves
        if not links[index]:
            for anchor, page in segment.anchors.items():
                anchors.setdefault(anchor, firsts[index] + page)
    for index, wanted in enumerate(links):
        if not wanted:
            continue
        segment = old[index]
        if segment is None and any(anchor not in anchors for anchor in wanted):
            # The contents name a page of their own segment (the safety page): lay it out
            # once to find it, with last time's numbers standing in for the others.
            guess = {anchor: anchors.get(anchor, 0) for anchor in wanted}
            segment = _lay_out(parts, index, firsts[index], total, guess, layout,
                               last.images)
        own = {a: firsts[index] + p for a, p in (segment.anchors if segment else {}).items()}
        if any(anchor not in anchors and anchor not in own for anchor in wanted):
            return None
        numbers = {anchor: anchors.get(anchor, own.get(anchor)) for anchor in wanted}
        if segment is None or (segment.first, segment.total, segment.numbers) != (
                firsts[index], total, numbers):
            segment = _lay_out(parts, index, firsts[index], total, numbers, layout,
                               last.images)
        own = {a: firsts[index] + p for a, p in segment.anchors.items()}
        if len(segment.pages) != counts[index] or any(
                anchor in own and anchor not in anchors and own[anchor] != numbers[anchor]
                for anchor in wanted):
            return None
        result[index] = segment
    return result


def _lay_out(parts: Parts, index: int, first: int, total: int, numbers: dict[str, int],
             layout: Callable, images: dict) -> _Segment:
    html, css = parts.document(index, first, total, numbers)
    document = layout(html, css, images)
    return _Segment(parts.segments[index], document.pages, first, total, numbers,
                    _anchors(document.pages), document)


def _anchors(pages: list) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, page in enumerate(pages):
        for anchor in page.anchors:
            found.setdefault(anchor, index)
    return found


def _segments_of(parts: Parts, document) -> list[_Segment] | None:
    """Cut the whole handout's pages into its segments; None if a page holds two."""
    sections = body_sections(document)
    owner: dict[int, int] = {}
    counted = 0
    for index, html in enumerate(parts.segments):
        for _ in _SECTION.findall(html):
            if counted == len(sections):
                return None
            owner[id(sections[counted])] = index
            counted += 1
    if counted != len(sections):
        return None
    by_segment: list[list] = [[] for _ in parts.segments]
    previous = 0
    for page in document.pages:
        body = next((b for b in html_box(page).children if b.element_tag == "body"), None)
        found = {owner.get(id(b.element)) for b in (body.children if body else ())}
        found.discard(None)
        if len(found) != 1 or min(found) < previous:
            return None
        previous = found.pop()
        by_segment[previous].append(page)
    if any(not pages for pages in by_segment):
        return None
    total = len(document.pages)
    anchors = _anchors(document.pages)
    segments, first = [], 1
    for index, pages in enumerate(by_segment):
        numbers = {anchor: anchors[anchor] + 1 for anchor in parts.links(index)
                   if anchor in anchors}
        segments.append(_Segment(parts.segments[index], pages, first, total, numbers,
                                 _anchors(pages), document))
        first += len(pages)
    return segments
