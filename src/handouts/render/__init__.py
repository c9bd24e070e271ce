"""Drawing a planned handout: Jinja2 HTML, the PDF through WeasyPrint (every patch of
WeasyPrint lives in :mod:`handouts.render.weasy`), layout reuse and previews.
"""

from handouts.render.html import render_html
from handouts.render.pdf import render_pdf, write_pdf

__all__ = ["render_html", "render_pdf", "write_pdf"]
