"""Turn handout HTML into a PDF with WeasyPrint, fetching only the project's own files."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from . import lines, segments
from .errors import RenderError
from .files import atomic_write, write_hint
from .html import render_html
from .resources import FALLBACK_FAMILIES, TEXT_FAMILIES, font_files, templates_dir


def allowed_roots(extra_files: Iterable[str | Path] = ()) -> list[Path]:
    """Return the folders and files the renderer may read: templates, fonts, extras."""
    roots = [templates_dir().resolve()]
    for files in font_files((*TEXT_FAMILIES, *FALLBACK_FAMILIES)).values():
        roots.extend(path.parent.resolve() for path, _, _ in files)
    roots.extend(Path(p).resolve() for p in extra_files if p)
    return sorted(set(roots))


def _fetcher_class():
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
_SHEETS: dict[str, object] = {}  # stylesheet text -> WeasyPrint CSS, parsed once a process
_SHEETS_KEPT = 8  # a practice uses a few: paper, large print, language, title
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
# No image cache across handouts: a cached image is served without asking the URL
# fetcher, so one handout could show a file only another handout was allowed to read.
# The logo costs about 2 ms a handout; the icons are inline SVG. (A rebuild that reuses
# layout keeps its cache only while the extra files, and so what may be read, are the same.)


def _quiet_logs() -> None:
    # fontTools logs every subset font at INFO: a papermill run would print hundreds.
    import logging

    for name in ("fontTools", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _import_weasyprint():
    """Import WeasyPrint, answering its library lookups from one ``ldconfig -p`` listing.

    WeasyPrint tries several names for each of its seven libraries, and ctypes answers
    every miss by running ldconfig, gcc and ld: about 50 processes and 0.3 s at every
    process start. The names it finally loads (``libpango-1.0.so.0`` ...) are found as
    before; if anything goes wrong, the import is simply done the usual way.
    """
    if "weasyprint" in sys.modules:
        _prepare()  # imported by someone else first (a notebook, the benchmark)
        return sys.modules["weasyprint"]
    _quiet_logs()  # before the import: WeasyPrint logs while parsing its own stylesheets
    import ctypes.util

    lookup = ctypes.util.find_library
    listing = _ldconfig_listing() if sys.platform.startswith("linux") else None
    if listing is not None:
        ctypes.util.find_library = lambda name: _soname(listing, name)
    try:
        import weasyprint
    except Exception:  # noqa: BLE001 - fall back to WeasyPrint's own lookups
        for name in [m for m in sys.modules if m.split(".")[0] == "weasyprint"]:
            del sys.modules[name]
        ctypes.util.find_library = lookup
        import weasyprint
    finally:
        ctypes.util.find_library = lookup
    _prepare()
    return weasyprint


def _prepare() -> None:
    """Make this process's WeasyPrint faster without changing what it prints (once)."""
    if not lines.installed():
        _known_glyph_arrays()
        lines.install()


def _known_glyph_arrays(longest: int = 4096) -> None:
    """Give cffi the glyph-array types WeasyPrint asks for when it subsets a font.

    ``Font._harfbuzz_subset`` (WeasyPrint 70) makes ``ffi.new(f"hb_codepoint_t[{n}]")``
    with *n* the font's last glyph used, so nearly every font of every handout names a
    new C type, which cffi parses with pycparser: about 3 ms each, 30-40 ms a handout.
    The types themselves cost microseconds to make; longer arrays are parsed as before.
    """
    try:
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
    import subprocess

    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig"):
        try:
            return subprocess.run([ldconfig, "-p"], capture_output=True, check=True,
                                  timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
    return None


def _soname(listing: bytes, name: str) -> str | None:
    """Find lib<name> for this machine's ABI in *listing*, as ctypes.util does."""
    import struct

    bits = "-32" if struct.calcsize("l") == 4 else "-64"
    abi = {"x86_64-64": "libc6,x86-64", "ppc64-64": "libc6,64bit", "sparc64-64": "libc6,64bit",
           "s390x-64": "libc6,64bit", "ia64-64": "libc6,IA-64"}.get(
        os.uname().machine + bits, "libc6")
    found = re.search(os.fsencode(rf"\s+(lib{re.escape(name)}\.[^\s]+)\s+\({abi}"), listing)
    return os.fsdecode(found.group(1)) if found else None


def _font_config():
    """Return this process's shared FontConfiguration.

    One per process: a new one per document makes a long-lived worker's memory grow
    with every handout, a shared one keeps it flat.
    """
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
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


def _stylesheet(weasyprint, text: str, base_url: str, fetcher):
    """Return the parsed stylesheet for *text*, parsing it once per process.

    Parsing the handout stylesheet (its @font-face rules included) costs about 50 ms, the
    same for every handout of a practice. Given to WeasyPrint as a user stylesheet of a
    document with no other, it cascades exactly as the inline one did: no rule of ours is
    ``!important`` and the user agent's rules still come first.
    """
    sheet = _SHEETS.get(text)
    if sheet is None:
        if len(_SHEETS) >= _SHEETS_KEPT:
            _SHEETS.pop(next(iter(_SHEETS)))
        sheet = _SHEETS[text] = weasyprint.CSS(string=text, base_url=base_url,
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
    import gc

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
) -> bytes:
    """Render *html* to PDF bytes; any fetch outside the project's files fails the render.

    *source_date* (the session date) pins embedded timestamps for reproducible output.
    With *reuse_layout*, the parts whose HTML is unchanged since this process's last
    build keep their layout (see :mod:`handouts.segments`); the bytes are the same.
    """
    with _collector_paused():  # the render's frame is gone before the collector runs
        return _render(html, fillable, extra_files, source_date, reuse_layout)


def _render(html: str, fillable: bool, extra_files: Iterable[str | Path],
            source_date: dt.date | None, reuse_layout: bool) -> bytes:
    weasyprint = _import_weasyprint()
    fetcher_class, refused = _fetcher_class()
    extra_files = [Path(p) for p in extra_files if p]
    fetcher = fetcher_class(allowed_roots(extra_files))
    base_url = templates_dir().resolve().as_uri() + "/"
    options = {"pdf_forms": fillable, "pdf_variant": "pdf/ua-1", "custom_metadata": False,
               "attachments": []}
    try:
        html, style = _split_stylesheet(html)
        sheets = [_stylesheet(weasyprint, style, base_url, fetcher)] if style else []
        parts = segments.split(html, style) if reuse_layout and style else None

        def layout(text: str, css: str = "", images: dict | None = None):
            extra = [weasyprint.CSS(string=css, base_url=base_url, url_fetcher=fetcher,
                                    font_config=_font_config())] if css else []
            with lines.cached():
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

        context = (style, segments.layout_head(parts.head), parts.tail, fillable,
                   tuple((str(p.resolve()), _digest(p)) for p in extra_files))
        return segments.render(parts, context, layout,
                               lambda images: layout(html, "", images), write_parts)
    except refused as exc:
        raise RenderError(f"{exc}; only the project's templates, fonts and the practice logo "
                          "may be used", field="url") from None


def _metadata_of(html):
    """Return the document information WeasyPrint would give a document of *html*."""
    from weasyprint.document import DocumentMetadata
    from weasyprint.html import get_html_metadata

    return DocumentMetadata(**get_html_metadata(html))


def _digest(path: Path) -> str | None:
    """Return the SHA-256 of *path*'s bytes, or None if it cannot be read (the render
    then refuses it and says so)."""
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def encrypt(data: bytes, password: str) -> bytes:
    """Return *data* protected with AES-256 (PDF security handler revision 6, never RC4).

    The password is needed to open the PDF. Encryption uses random salts, so an
    encrypted PDF is not byte-identical from one build to the next.
    """
    import io

    import pikepdf

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
) -> Path:
    """Render *html* and write the PDF atomically to *path* (0600); return the path.

    With *password*, the PDF is encrypted with AES-256 and needs it to open.
    """
    data = render_pdf(html, fillable=fillable, extra_files=extra_files,
                      source_date=source_date, reuse_layout=reuse_layout)
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


def write_handout(handout, path: str | Path, template: str = "handout", *,
                  reuse_layout: bool = False) -> Path:
    """Render *handout* with *template* and write its PDF, with the profile's options.

    This is the one way a PDF is made from a profile: workbooks, the picker and module
    previews all call it. *reuse_layout* keeps the layout of unchanged parts from this
    process's last build (a notebook someone is editing); the PDF is the same.
    """
    from .harvest import record_issued

    profile = handout.profile
    since = None
    if profile.since_last_time:
        from .progress import since_last_time

        since = since_last_time(Path(path).parent, profile.session_date.isoformat())
    written = write_pdf(
        render_html(handout, template=template, since=since), path,
        fillable=profile.fillable,
        extra_files=[profile.practice_logo] if profile.practice_logo else [],
        source_date=profile.session_date, password=password_for(profile),
        reuse_layout=reuse_layout,
    )
    record_issued(handout, written)  # so a filled copy can be read back (handouts harvest)
    return written
