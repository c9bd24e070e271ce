"""The picker: choose a notebook's modules, rituals and scripts in a form, then rebuild
and preview."""

from __future__ import annotations

import html
from pathlib import Path

from handouts.content.module import LIST_OF_KIND
from handouts.errors import (
    HandoutsError,
)
from handouts.render.preview import in_front_end, preview
from handouts.run.notebook import Session


class Picker:
    """An ipywidgets form to choose modules, rituals and scripts, then rebuild and preview."""

    def __init__(self, session: Session) -> None:
        import ipywidgets as w  # optional extra [lab]: widgets exist only in a notebook or the app

        self.session = session
        self.pdf_path: Path | None = None
        self.inputs = {}
        rows = []
        for kind, name in LIST_OF_KIND.items():
            library = session.library
            ids = library.ids(kind)
            box = w.TagsInput(value=list(getattr(session.profile, name)), allowed_tags=ids,
                              allow_duplicates=False)
            self.inputs[name] = box
            legend = "".join(f"<li><code>{html.escape(m.id)}</code> "
                             f"{html.escape(str(m.title))}</li>" for m in library.of_kind(kind))
            rows.append(w.VBox([
                w.HTML(f"<b>{name.capitalize()}</b> <small>type an id to add, drag to "
                       "reorder, &times; to remove</small>"),
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
        # lazy: IPython is there only inside a notebook or the warm engine
        from IPython.display import display

        self.output.clear_output()
        with self.output:
            try:
                handout = self.session.assemble(
                    **{k: list(box.value) for k, box in self.inputs.items()})
                self.pdf_path = self.session.write(handout)
                print(self.pdf_path)
                display(preview(self.pdf_path))
            except HandoutsError as exc:
                print(f"error: {exc}")
        return self.pdf_path

    def _ipython_display_(self) -> None:
        # lazy: IPython is there only inside a notebook or the warm engine
        from IPython.display import display

        display(self.widget)


def picker(session: Session) -> Picker | None:
    """Return the picker form where a front end exists; under papermill, None."""
    if not in_front_end():
        print("Picker skipped: no front end (papermill or nbclient); the parameters rule.")
        return None
    try:
        return Picker(session)
    except ImportError:
        print("The picker needs ipywidgets: pip install 'handouts[lab]'")
        return None
