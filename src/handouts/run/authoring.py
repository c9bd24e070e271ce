"""Write a module of your own in a notebook: check it, see its reading grade, preview it,
save it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from handouts.content.library import load_library
from handouts.content.module import LIST_OF_KIND, Module
from handouts.content.parse import parse_module_text
from handouts.content.readability import flesch_kincaid_grade
from handouts.core.files import atomic_write, output_paths, real_client_folder
from handouts.errors import (
    LibraryError,
)
from handouts.plan.assemble import assemble
from handouts.plan.validation import validate
from handouts.records.issue import write_handout
from handouts.render.preview import in_front_end


def check_module(text: str, practice_library: str | Path | None = None) -> Module:
    """Validate a module drafted in a notebook; errors name the field and valid choices."""
    library = load_library(practice_library)
    module = parse_module_text(text, Path("<module_text>"), library.sources)
    if module.kind == "matter":
        raise LibraryError("drafts must be an article, worksheet or script",
                           file="<module_text>", field="kind", choices=LIST_OF_KIND)
    if module.id in library.modules:
        print(f"note: {module.id!r} will replace the library module of that id")
    return module


def reading_grade(module: Module, audience: str = "couple") -> float:
    """Return the module's Flesch-Kincaid grade for *audience* (the library keeps to 8)."""

    return flesch_kincaid_grade(module.for_reader(audience).plain_text())


def preview_module(module: Module, practice_library: str | Path | None = None,
                   output_dir: str | Path = "output", paper: str = "letter") -> Path:
    """Print *module* alone in a sample handout; return the PDF path."""

    library = load_library(practice_library, module.language).with_module(module)
    profile = validate({
        "client_id": "module-preview", "partners": [{"name": "Sample client"}],
        "session_date": dt.date.today().isoformat(), "paper": paper,
        "language": module.language, LIST_OF_KIND[module.kind]: [module.id],
    })
    pdf_path, _ = output_paths(output_dir, profile, module.id)
    real_client_folder(output_dir, pdf_path)
    return write_handout(assemble(profile, library), pdf_path, reuse_layout=in_front_end())


def save_module(text: str, folder: str | Path) -> Path:
    """Validate *text* and save it as ``<folder>/<id>.md`` (atomically); return the path."""
    module = check_module(text, None)
    target = Path(folder).expanduser()
    if not target.is_dir():
        raise LibraryError("folder does not exist", file=target, field="save_to")
    return atomic_write(target / f"{module.id}.md", text.encode("utf-8"))


__all__ = ["check_module", "preview_module", "reading_grade", "save_module"]
