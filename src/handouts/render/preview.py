"""Show a handout inside a notebook: page thumbnails rendered from the PDF."""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass
from pathlib import Path

from handouts.errors import RenderError
from handouts.render import segments
from handouts.render.pdf import PASSWORD_ENV

# The last preview of a notebook's own build: its width, and per page index the laid-out
# page and its thumbnail. A rebuild that reused a page's layout reuses its thumbnail.
_SHOWN: dict = {}


def in_front_end() -> bool:
    """Return whether a person is looking at this kernel (JupyterLab, Notebook, VS Code).

    Papermill and nbclient start kernels directly; Jupyter's server names the session
    (JPY_SESSION_NAME) and VS Code sets ``__vsc_ipynb_file__``. HANDOUTS_FRONT_END=1 or 0
    overrides the guess.
    """
    forced = os.environ.get("HANDOUTS_FRONT_END")
    if forced in ("0", "1"):
        return forced == "1"
    if os.environ.get("JPY_SESSION_NAME"):
        return True
    try:
        # lazy: IPython is there only inside a notebook or the warm engine
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return bool(shell is not None and "__vsc_ipynb_file__" in shell.user_ns)


@dataclass
class Preview:
    """Page thumbnails of a PDF; a notebook displays it as a grid of images."""

    path: Path
    images: list[bytes]
    pages: list[int]
    total: int
    screen: str = ""  # "html" or "epub": a screen edition, which has no pages to show

    def _repr_html_(self) -> str:
        if self.screen:
            return (f'<p class="handouts-preview" style="font:13px sans-serif;margin:4px 0">'
                    f"{html.escape(self.path.name)}: {html.escape(_SCREEN_NOTE[self.screen])}"
                    "</p>")
        cells = []
        for number, png in zip(self.pages, self.images, strict=True):
            data = base64.b64encode(png).decode("ascii")
            cells.append(
                '<figure style="margin:0;text-align:center">'
                f'<img src="data:image/png;base64,{data}" alt="Page {number}" '
                'style="width:100%;border:1px solid #bbb;box-shadow:0 1px 3px #0002">'
                f'<figcaption style="font:12px sans-serif;color:#555">{number}</figcaption>'
                "</figure>"
            )
        return (
            '<div class="handouts-preview">'
            f'<p style="font:13px sans-serif;margin:4px 0">{html.escape(self.path.name)}: '
            f"{self.total} pages</p>"
            '<div style="display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));'
            f'gap:12px">{"".join(cells)}</div></div>'
        )

    def __repr__(self) -> str:
        if self.screen:
            return f"<{self.path.name}: {_SCREEN_NOTE[self.screen]}>"
        return f"<Preview of {self.path.name}: {len(self.pages)} of {self.total} pages>"


_SCREEN_NOTE = {
    "html": "the screen edition, one web page; open it in a browser to read and fill it in",
    "epub": "the e-book edition; open it in an e-book reader",
}


def preview(pdf_path: str | Path, pages: list[int] | None = None, width: int = 300,
            password: str | None = None) -> Preview:
    """Render pages of *pdf_path* to PNG thumbnails (a screen edition: a line saying so).

    *pages* are 1-based page numbers. By default every page is shown where a person is
    looking (JupyterLab); under papermill only the first two, to keep records small.
    A password-protected PDF opens with *password*, or the build's HANDOUTS_PASSWORD.
    """
    import pypdfium2  # lazy: only a preview draws pages

    if pages is None and not in_front_end():
        pages = [1, 2]
    path = Path(pdf_path)
    screen = path.suffix.lower().lstrip(".")
    if screen in _SCREEN_NOTE:  # a screen edition has no pages: say what it is
        return Preview(path=path, images=[], pages=[], total=0, screen=screen)
    secret = password or os.environ.get(PASSWORD_ENV) or None
    try:
        data = path.read_bytes()
        document = pypdfium2.PdfDocument(data, password=secret)
    except OSError as exc:
        raise RenderError(f"cannot open the PDF for the preview: {exc.strerror}",
                          file=path.name, field="preview") from None
    except pypdfium2.PdfiumError as exc:
        raise RenderError(f"cannot open the PDF for the preview: {exc}", file=path.name,
                          field="preview") from None
    laid_out = segments.pages_of(data)
    if laid_out and len(laid_out) != len(document):
        laid_out = None
    shown = _SHOWN if laid_out and _SHOWN.get("width") == width else {}
    kept = {}
    try:
        total = len(document)
        chosen = [n for n in (pages or range(1, total + 1)) if 1 <= n <= total]
        images = []
        for number in chosen:
            same = laid_out and shown.get(number, (None,))[0] is laid_out[number - 1]
            images.append(shown[number][1] if same else _thumbnail(document, number, width))
            if laid_out:
                kept[number] = (laid_out[number - 1], images[-1])
    finally:
        document.close()
    _SHOWN.clear()
    if laid_out:
        _SHOWN.update(kept, width=width)
    return Preview(path=path, images=images, pages=chosen, total=total)


def _thumbnail(document, number: int, width: int) -> bytes:
    """Return page *number* of *document* as a PNG *width* pixels wide."""
    page = document[number - 1]
    try:
        image = page.render(scale=width / page.get_width()).to_pil()
    finally:
        page.close()
    buffer = io.BytesIO()
    # zlib level 3: half the time of the default level 6, and smaller for thumbnails
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()
