"""Turn handout HTML into a PDF with WeasyPrint, fetching only the project's own files."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import io
import os
import re
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from handouts.core.files import atomic_write, write_hint
from handouts.core.resources import FALLBACK_FAMILIES, TEXT_FAMILIES, font_files, templates_dir
from handouts.errors import RenderError
from handouts.plan.renderkey import RenderKey, current_assets
from handouts.render import segments, weasy
from handouts.render.weasy import import_weasyprint


def allowed_roots(extra_files: Iterable[str | Path] = ()) -> list[Path]:
    """Return the folders and files the renderer may read: templates, fonts, extras."""
    roots = [templates_dir().resolve()]
    for files in font_files((*TEXT_FAMILIES, *FALLBACK_FAMILIES)).values():
        roots.extend(path.parent.resolve() for path, _, _ in files)
    roots.extend(Path(p).resolve() for p in extra_files if p)
    return sorted(set(roots))


def _fetcher_class():
    # lazy: WeasyPrint takes about a second to load; only a render needs it
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class Refused(FatalURLFetchingError):
        """A fetch outside the allowed files: stop the render, do not skip the resource."""

    class ProjectFetcher(URLFetcher):
        """Serve local files under the allowed roots; refuse everything else."""

        def __init__(self, roots: list[Path]) -> None:
            super().__init__(allowed_protocols={"file"}, allow_redirects=False,
                             fail_on_errors=True)
            self.roots = roots
            self.refused: list[str] = []

        def fetch(self, url: str, headers: dict | None = None):
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                self._refuse(url)
            path = Path(unquote(parts.path)).resolve()
            if not any(path == root or path.is_relative_to(root) for root in self.roots):
                self._refuse(url)
            if not path.is_file():
                self._refuse(url)
            return URLFetcherResponse(path.as_uri(), body=path.read_bytes())

        def _refuse(self, url: str) -> None:
            shown = url if len(url) <= 120 else url[:117] + "..."
            self.refused.append(shown)
            raise Refused(f"refused to fetch {shown}")

    return ProjectFetcher, Refused


_FONT_CONFIG = None
_SHEETS: dict[tuple[str, str], object] = {}  # (key's assets, text) -> parsed CSS
_SHEETS_KEPT = 8  # a practice uses a few: paper, large print, language, title
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
# No image cache across handouts: a cached image is served without asking the URL
# fetcher, so one handout could show a file only another handout was allowed to read.
# The logo costs about 2 ms a handout; the icons are inline SVG. (A rebuild that reuses
# layout keeps its cache only while the extra files, and so what may be read, are the same.)


def _font_config():
    """Return this process's shared FontConfiguration.

    One per process: a new one per document makes a long-lived worker's memory grow
    with every handout, a shared one keeps it flat.
    """
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
        # lazy: WeasyPrint takes about a second to load; only a render needs it
        from weasyprint.text.fonts import FontConfiguration

        _FONT_CONFIG = FontConfiguration()
    return _FONT_CONFIG


def _split_stylesheet(html: str) -> tuple[str, str | None]:
    """Take the template's one ``<style>`` out of *html*; return the rest and its text.

    HTML with any other stylesheet is left whole (and its style text is None), so the
    cascade of such a document is never changed.
    """
    if html.count("<style") != 1 or "<link" in html:
        return html, None
    found = _STYLE.search(html)
    if found is None:
        return html, None
    return html[:found.start()] + html[found.end():], found.group(1)


def _stylesheet(weasyprint, text: str, base_url: str, fetcher, assets: str):
    """Return the parsed stylesheet for *text*, parsing it once per process.

    It is kept under its text and the render key's :attr:`~RenderKey.assets` (templates,
    fonts, versions): the same text with other font files is parsed again.

    Parsing the handout stylesheet (its @font-face rules included) costs about 50 ms, the
    same for every handout of a practice. Given to WeasyPrint as a user stylesheet of a
    document with no other, it cascades exactly as the inline one did: no rule of ours is
    ``!important`` and the user agent's rules still come first.
    """
    sheet = _SHEETS.get((assets, text))
    if sheet is None:
        if len(_SHEETS) >= _SHEETS_KEPT:
            _SHEETS.pop(next(iter(_SHEETS)))
        sheet = _SHEETS[assets, text] = weasyprint.CSS(string=text, base_url=base_url,
                                               url_fetcher=fetcher, font_config=_font_config())
    return sheet


@contextmanager
def _collector_paused():
    """Pause Python's cycle collector while WeasyPrint lays out and draws.

    A render makes about a million objects that live until it ends, and the collector
    walks them again and again (measured: a tenth of the demo handout's render). One
    young-generation pass afterwards frees the cycles the render left behind. A process
    that turned the collector off (a batch's child, which exits after one client) keeps
    it off.
    """

    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect(0)


@contextmanager
def _source_date(day: dt.date | None):
    """Pin the timestamps font subsetting writes, so the same inputs give the same bytes.

    fontTools stamps subset fonts with the current time unless SOURCE_DATE_EPOCH is set;
    an existing SOURCE_DATE_EPOCH wins, else the session date is used.
    """
    if day is None or "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    epoch = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()
    os.environ["SOURCE_DATE_EPOCH"] = str(int(epoch))
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def render_pdf(
    html: str,
    *,
    fillable: bool = False,
    extra_files: Iterable[str | Path] = (),
    source_date: dt.date | None = None,
    reuse_layout: bool = False,
    key: RenderKey | None = None,
) -> bytes:
    """Render *html* to PDF bytes; any fetch outside the project's files fails the render.

    *source_date* (the session date) pins embedded timestamps for reproducible output.
    *key* is the render key of what *html* prints (:func:`handouts.plan.renderkey.render_key`);
    every cache is kept under it. With *reuse_layout* (which needs *key*), the parts whose
    HTML is unchanged since this process's last build under the same key's
    :attr:`~RenderKey.layout` keep their layout (see :mod:`handouts.render.segments`); the bytes
    are the same.
    """
    if reuse_layout and key is None:
        raise TypeError("reuse_layout needs the render key of the handout (key=...)")
    with _collector_paused():  # the render's frame is gone before the collector runs
        return _render(html, fillable, extra_files, source_date, reuse_layout, key)


def _render(html: str, fillable: bool, extra_files: Iterable[str | Path],
            source_date: dt.date | None, reuse_layout: bool, key: RenderKey | None
            ) -> bytes:
    weasyprint = import_weasyprint()
    fetcher_class, refused = _fetcher_class()
    extra_files = [Path(p) for p in extra_files if p]
    fetcher = fetcher_class(allowed_roots(extra_files))
    base_url = templates_dir().resolve().as_uri() + "/"
    options = {"pdf_forms": fillable, "pdf_variant": "pdf/ua-1", "custom_metadata": False,
               "attachments": []}
    try:
        html, style = _split_stylesheet(html)
        assets = key.assets if key is not None else current_assets()
        sheets = [_stylesheet(weasyprint, style, base_url, fetcher, assets)] if style else []
        parts = segments.split(html, style) if reuse_layout and style else None

        def layout(text: str, css: str = "", images: dict | None = None):
            extra = [weasyprint.CSS(string=css, base_url=base_url, url_fetcher=fetcher,
                                    font_config=_font_config())] if css else []
            with weasy.cached(key.digest if key is not None else None):
                return weasyprint.HTML(string=text, base_url=base_url,
                                       url_fetcher=fetcher).render(
                    stylesheets=sheets + extra, font_config=_font_config(), cache=images,
                    **options)

        def write(pages, document, metadata=None) -> bytes:
            written = document.copy(pages)
            if metadata is not None:
                written.metadata = metadata
            with _source_date(source_date):
                return written.write_pdf(**options)

        if parts is None:
            document = layout(html)
            return write(document.pages, document)

        def write_parts(pages, document) -> bytes:
            # Reused pages may come from a build with another title or form id: the PDF
            # takes its document information from this build's head.
            head = weasyprint.HTML(string=parts.head + parts.tail, base_url=base_url,
                                   url_fetcher=fetcher)
            return write(pages, document, _metadata_of(head))

        # The key decides; the stylesheet and head are what the segments share, compared
        # as well so that a caller's key that missed something can only cost a layout.
        context = (key.layout, style, segments.layout_head(parts.head), parts.tail,
                   tuple((str(p.resolve()), _digest(p)) for p in extra_files))
        return segments.render(parts, context, layout,
                               lambda images: layout(html, "", images), write_parts)
    except refused as exc:
        raise RenderError(f"{exc}; only the project's templates, fonts and the practice logo "
                          "may be used", field="url") from None


def _metadata_of(html):
    """Return the document information WeasyPrint would give a document of *html*."""
    # lazy: WeasyPrint takes about a second to load; only a render needs it
    from weasyprint.document import DocumentMetadata

    # lazy: WeasyPrint takes about a second to load; only a render needs it
    from weasyprint.html import get_html_metadata

    return DocumentMetadata(**get_html_metadata(html))


def _digest(path: Path) -> str | None:
    """Return the SHA-256 of *path*'s bytes, or None if it cannot be read (the render
    then refuses it and says so)."""

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def encrypt(data: bytes, password: str) -> bytes:
    """Return *data* protected with AES-256 (PDF security handler revision 6, never RC4).

    The password is needed to open the PDF. Encryption uses random salts, so an
    encrypted PDF is not byte-identical from one build to the next.
    """

    import pikepdf  # lazy: only encrypting or reading a filled PDF needs pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user=password, owner=password, R=6,
                                                    aes=True, metadata=True))
    return out.getvalue()


def write_pdf(
    html: str,
    path: str | Path,
    *,
    fillable: bool = False,
    extra_files: Iterable[str | Path] = (),
    source_date: dt.date | None = None,
    password: str = "",
    reuse_layout: bool = False,
    key: RenderKey | None = None,
) -> Path:
    """Render *html* and write the PDF atomically to *path* (0600); return the path.

    With *password*, the PDF is encrypted with AES-256 and needs it to open. *key* and
    *reuse_layout* are :func:`render_pdf`'s.
    """
    data = render_pdf(html, fillable=fillable, extra_files=extra_files,
                      source_date=source_date, reuse_layout=reuse_layout, key=key)
    if password:
        data = encrypt(data, password)
    try:
        return atomic_write(path, data)
    except OSError as exc:
        raise RenderError(f"cannot write the PDF: {exc.strerror or exc}; {write_hint(exc)}",
                          file=path) from None


PASSWORD_ENV = "HANDOUTS_PASSWORD"  # noqa: S105 - the variable's name, not a password


def password_for(profile) -> str:
    """Return the PDF password: the profile's, else the HANDOUTS_PASSWORD environment.

    Builds pass the password through the environment of the process that runs the
    workbook, so it never appears in the workbook's parameters or its record.
    """
    return profile.password.get_secret_value() or os.environ.get(PASSWORD_ENV, "")
