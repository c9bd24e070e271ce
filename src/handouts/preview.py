"""Show a handout inside a notebook: page thumbnails rendered from the PDF."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Preview:
    """Page thumbnails of a PDF; a notebook displays it as a grid of images."""

    path: Path
    images: list[bytes]
    pages: list[int]
    total: int

    def _repr_html_(self) -> str:
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
        return f"<Preview of {self.path.name}: {len(self.pages)} of {self.total} pages>"


def preview(pdf_path: str | Path, pages: list[int] | None = None, width: int = 300) -> Preview:
    """Render pages of *pdf_path* to PNG thumbnails.

    *pages* are 1-based page numbers. By default every page is shown where a person is
    looking (JupyterLab); under papermill only the first two, to keep records small.
    """
    import pypdfium2

    from .notebook import in_front_end

    if pages is None and not in_front_end():
        pages = [1, 2]
    path = Path(pdf_path)
    document = pypdfium2.PdfDocument(str(path))
    try:
        total = len(document)
        chosen = [n for n in (pages or range(1, total + 1)) if 1 <= n <= total]
        images = []
        for number in chosen:
            page = document[number - 1]
            scale = width / page.get_width()
            image = page.render(scale=scale).to_pil()
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            images.append(buffer.getvalue())
            page.close()
    finally:
        document.close()
    return Preview(path=path, images=images, pages=chosen, total=total)
