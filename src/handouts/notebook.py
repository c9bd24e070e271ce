"""Helpers for the workbooks in JupyterLab: own sections, front-end detection, the picker."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .content import Library, Module, load_library, parse_module_text
from .errors import LibraryError
from .profile import Profile


def add_section(
    sections: Sequence[Any], title: str, text: str, after: str = "end"
) -> list[dict[str, str]]:
    """Return *sections* plus your own section, or unchanged when *text* is blank.

    *text* is Markdown and always prints as text, never as HTML. *after* is the id of a
    chosen module, or ``"start"`` / ``"end"``.
    """
    result = [dict(s) if isinstance(s, dict) else s.model_dump() for s in sections]
    if text and text.strip():
        result.append({"title": title, "text": text.strip(), "after": after})
    return result


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
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return bool(shell is not None and "__vsc_ipynb_file__" in shell.user_ns)


class Picker:
    """An ipywidgets form to choose modules, rituals and scripts, then rebuild and preview."""

    def __init__(self, profile: Profile, library: Library, output_dir: str | Path,
                 workbook: str) -> None:
        import ipywidgets as w

        self.profile = profile
        self.library = library
        self.output_dir = output_dir
        self.workbook = workbook
        self.pdf_path: Path | None = None
        self.inputs = {}
        rows = []
        for field, kind, label in (("modules", "article", "Articles"),
                                   ("rituals", "worksheet", "Rituals"),
                                   ("scripts", "script", "Scripts")):
            ids = library.ids(kind)
            box = w.TagsInput(value=list(getattr(profile, field)), allowed_tags=ids,
                              allow_duplicates=False)
            self.inputs[field] = box
            legend = "".join(f"<li><code>{html.escape(m.id)}</code> {html.escape(m.title)}</li>"
                             for m in library.of_kind(kind))
            rows.append(w.VBox([
                w.HTML(f"<b>{label}</b> <small>type an id to add, drag to reorder, "
                       "&times; to remove</small>"),
                box,
                w.HTML(f'<ul style="columns:2;font-size:12px;margin:0 0 8px;'
                       f'line-height:1.5">{legend}</ul>'),
            ]))
        self.button = w.Button(description="Build and preview", button_style="primary",
                               icon="file-pdf", layout=w.Layout(width="auto"))
        self.button.on_click(lambda _: self.build())
        self.output = w.Output()
        self.widget = w.VBox([*rows, self.button, self.output])

    def build(self) -> Path | None:
        """Rebuild the PDF from the current choices and show its preview."""
        from IPython.display import display

        from .assemble import assemble
        from .build import output_paths
        from .errors import HandoutsError
        from .pdf import write_handout
        from .preview import preview

        self.output.clear_output()
        with self.output:
            try:
                update = {k: list(box.value) for k, box in self.inputs.items()}
                self.profile = self.profile.model_copy(update=update)
                handout = assemble(self.profile, self.library)
                pdf_path, _ = output_paths(self.output_dir, self.profile, self.workbook)
                self.pdf_path = write_handout(handout, pdf_path)
                print(self.pdf_path)
                display(preview(self.pdf_path))
            except HandoutsError as exc:
                print(f"error: {exc}")
        return self.pdf_path

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def picker(profile: Profile, library: Library, output_dir: str | Path = "output",
           workbook: str = "connection") -> Picker | None:
    """Return the picker form where a front end exists; under papermill, None."""
    if not in_front_end():
        print("Picker skipped: no front end (papermill or nbclient); the parameters rule.")
        return None
    try:
        return Picker(profile, library, output_dir, workbook)
    except ImportError:
        print("The picker needs ipywidgets: pip install 'handouts[lab]'")
        return None


def check_module(text: str, practice_library: str | Path | None = None) -> Module:
    """Validate a module drafted in a notebook; errors name the field and valid choices."""
    library = load_library(practice_library)
    module = parse_module_text(text, Path("<module_text>"), library.sources)
    if module.kind == "matter":
        raise LibraryError("drafts must be an article, worksheet or script",
                           file="<module_text>", field="kind",
                           choices=("article", "worksheet", "script"))
    if module.id in library.modules:
        print(f"note: {module.id!r} will replace the library module of that id")
    return module


def reading_grade(module: Module) -> float:
    """Return the module's Flesch-Kincaid grade (the library keeps to 8 or below)."""
    import textstat

    return float(textstat.flesch_kincaid_grade(module.plain_text()))


def preview_module(module: Module, practice_library: str | Path | None = None,
                   output_dir: str | Path = "output", paper: str = "letter") -> Path:
    """Print *module* alone in a sample handout; return the PDF path."""
    import datetime as dt

    from .assemble import assemble
    from .build import output_paths
    from .pdf import write_handout
    from .profile import validate

    library = load_library(practice_library, module.language)
    library.modules[module.id] = module
    lists = {"article": "modules", "worksheet": "rituals", "script": "scripts"}
    profile = validate({
        "client_id": "module-preview", "partners": [{"name": "Sample client"}],
        "session_date": dt.date.today().isoformat(), "paper": paper,
        "language": module.language, lists[module.kind]: [module.id],
    })
    pdf_path, _ = output_paths(output_dir, profile, module.id)
    return write_handout(assemble(profile, library), pdf_path)


def save_module(text: str, folder: str | Path) -> Path:
    """Validate *text* and save it as ``<folder>/<id>.md`` (atomically); return the path."""
    from .pdf import atomic_write

    module = check_module(text, None)
    target = Path(folder).expanduser()
    if not target.is_dir():
        raise LibraryError("folder does not exist", file=target, field="save_to")
    return atomic_write(target / f"{module.id}.md", text.encode("utf-8"))
