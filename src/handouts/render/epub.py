"""Make the EPUB 3 edition of a packet from its screen rendering (ebooklib).

The page is cut into one chapter per part of the packet (cover, front matter, each
article, practice and script, cards, back matter); links between parts are pointed at
their chapters, and the contents become the book's navigation. The metadata holds the
packet's neutral title, its language and an opaque identifier: no client name, no
therapist, no practice. The same packet gives the same bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import uuid
import zipfile

from handouts.plan.assemble import Handout

_DATA_URI = re.compile(r"data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)")
_EXTENSIONS = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg"}


def render_epub(page: str, handout: Handout) -> bytes:
    """Return the EPUB 3 bytes of *page* (the packet rendered with ``screen="epub"``)."""
    from ebooklib import epub  # lazy: only an e-book build needs ebooklib
    from lxml import html as lxml_html  # lazy: only an e-book build cuts a page up

    profile = handout.profile
    language = profile.language
    document = lxml_html.document_fromstring(page)
    css = "\n".join(s.text or "" for s in document.iter("style"))
    book = epub.EpubBook()
    book.set_identifier(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'handouts:' + handout.form_id)}")
    book.set_title(handout.title)
    book.set_language(language)
    book.add_item(epub.EpubItem(uid="style", file_name="style.css", media_type="text/css",
                                content=css.encode("utf-8")))
    for svg in list(document.iter("svg")):  # decorative icons: the text says it all
        svg.drop_tree()
    for number, img in enumerate(list(document.iter("img")), start=1):
        found = _DATA_URI.fullmatch(img.get("src", ""))
        if found is None:
            img.drop_tree()
            continue
        name = f"images/image-{number}.{_EXTENSIONS.get(found[1], 'bin')}"
        book.add_item(epub.EpubItem(uid=f"image-{number}", file_name=name,
                                    media_type=found[1], content=base64.b64decode(found[2])))
        img.set("src", name)

    chapters = _chapters(document.find(".//main"))
    where = {}
    for index, (elements, _) in enumerate(chapters):
        for element in elements:
            for node in element.iter():
                if node.get("id"):
                    where[node.get("id")] = f"part-{index + 1}.xhtml"
    items = []
    for index, (elements, title) in enumerate(chapters):
        for element in elements:
            for link in element.iter("a"):
                target = link.get("href", "")
                if target.startswith("#") and target[1:] in where:
                    link.set("href", f"{where[target[1:]]}{target}")
        body = "".join(lxml_html.tostring(e, encoding="unicode") for e in elements)
        item = epub.EpubHtml(title=title, file_name=f"part-{index + 1}.xhtml",
                             lang=language, content=f"<html><body>{body}</body></html>")
        item.add_link(href="style.css", rel="stylesheet", type="text/css")
        book.add_item(item)
        items.append(item)
    book.toc = [epub.Link(item.file_name, item.title, f"toc-{n}")
                for n, item in enumerate(items, start=1)]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = items
    day = profile.session_date
    out = io.BytesIO()
    epub.write_epub(out, book, {"mtime": dt.datetime(day.year, day.month, day.day),
                                "epub3_pages": False})
    return _pinned(out.getvalue(), (day.year, day.month, day.day, 0, 0, 0))


def _chapters(main) -> list[tuple[list, str]]:
    """Cut *main* into chapters: (elements, title), one per part or module."""
    chapters: list[tuple[list, str]] = []
    for section in main:
        classes = (section.get("class") or "").split()
        if "part" not in classes:
            chapters.append(([section], _title(section)))
            continue
        pending: list = []  # a part's label goes with its first module
        for child in list(section):
            if child.tag == "article":
                wrapper = section.makeelement("section", {"class": section.get("class")})
                for node in [*pending, child]:
                    wrapper.append(node)
                chapters.append(([wrapper], _title(child)))
                pending = []
            else:
                pending.append(child)
        if pending and chapters:
            for node in pending:
                chapters[-1][0][0].append(node)
    return chapters


def _title(element) -> str:
    for heading in element.iter("h1", "h2"):
        return " ".join(heading.text_content().split())
    return "·"


def _pinned(data: bytes, when: tuple[int, ...]) -> bytes:
    """Return the zip *data* with every entry dated *when*, the mimetype first, stored."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = (zipfile.ZIP_STORED if info.filename == "mimetype"
                                   else zipfile.ZIP_DEFLATED)
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
