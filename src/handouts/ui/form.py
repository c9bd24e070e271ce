"""The form for therapists who do not write Python (``handouts app``, or in JupyterLab).

Every client field as a widget, the practice file shown, problems listed one line per
field as you type, a Build button that writes ``clients/<client_id>.yaml`` (never the
password) and builds it exactly as ``handouts build`` does, and a large page view.

The logic lives here; ``workbooks/form.ipynb`` is one cell: ``handouts.ui.form.show(folder)``.
:class:`Form` can be driven without a browser (set widget values, call :meth:`build`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import html
import os
from pathlib import Path
from typing import Any

import yaml

from handouts.core.files import atomic_write
from handouts.errors import HandoutsError
from handouts.plan.reading import inherit_practice
from handouts.plan.validation import validate
from handouts.records.programs import confirm_week
from handouts.render.preview import in_front_end, preview
from handouts.run.build import build_packets
from handouts.ui.formfields import _LINE, KIND_OF_LIST, FormFields
from handouts.ui.formvalues import ids_in


class Form(FormFields):
    """The client form. *folder* is the practice folder (``practice.yaml``, ``clients/``)."""

    def problems(self) -> list[str]:
        """One line per problem with the current values; empty when it can be built."""
        lines = []
        for name, kind in KIND_OF_LIST.items():
            valid = self.library.ids(kind)
            for module_id in ids_in(self.lists[name].value):
                if module_id not in valid:
                    close = difflib.get_close_matches(module_id, valid, n=1, cutoff=0.6)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    lines.append(f"{name}: unknown id {module_id!r}{hint}")
        date = self.session_date.value.strip()
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            lines.append(f"session_date: {date!r} is not a date like 2026-11-24")
            date = ""
        try:
            self._profile(**({} if date else {"session_date": dt.date.today().isoformat()}))
        except HandoutsError as exc:
            for problem in exc.problems:
                line = str(problem)
                if "unknown" in line and any(line.startswith(n) for n in KIND_OF_LIST):
                    continue
                lines.append(line)
        return list(dict.fromkeys(lines))

    def _profile(self, **override: Any):
        data = {**self.values(), **override}
        raw = inherit_practice(data, self.folder / "clients", "form")
        if self.password.value:
            raw["password"] = self.password.value
        return validate(raw, file=None)

    def _changed(self, _change: Any = None) -> None:
        if self._loading:
            return
        lines = self.problems()
        self.problems_html.value = "".join(
            f"<div style='color:#a01818;{_LINE}'>{html.escape(line)}</div>" for line in lines)

    def _show_progress(self) -> None:
        client = self.client_id.value.strip()
        names = [n.value.strip() for n, _, _ in self.partner_rows if n.value.strip()]
        if (self.folder / "output" / client).is_dir():
            self.progress.set_client(client, names or None)

    # build and view ---------------------------------------------------------------
    def save(self) -> Path:
        """Write ``clients/<client_id>.yaml`` (0600, never the password); return its path."""
        data = self.values()
        path = self.folder / "clients" / f"{data['client_id']}.yaml"
        text = ("# Written by the handouts form. `handouts build` builds it.\n"
                + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        written = atomic_write(path, text.encode("utf-8"))
        self._list_saved(shown=path.name)
        return written

    def build(self) -> Path | None:
        """Check, save the profile, build as ``handouts build`` does, show page 1 (of a PDF)."""

        lines = self.problems()
        self._changed()
        if lines:
            self.status.value = (f"<b style='{_LINE}'>Not built: fix the lines above "
                                 "first.</b>")
            return None
        self.status.value = f"<span style='{_LINE}'>Building…</span>"
        self.build_button.disabled = True
        try:
            profile_path = self.save()
            notes: list[str] = []
            if self.programs.confirm.value and self.programs.program.value:
                notes.append(confirm_week(self.folder / "output", self._profile()))
            built = build_packets(profile_path, self.folder / "output",
                                  password=self.password.value, report=notes.append)
            self.pdf_path = built[0][0]
            self.programs.confirm.value = False  # given for this build only
        except HandoutsError as exc:
            self.status.value = (f"<b style='color:#a01818;{_LINE}'>"
                                 f"{html.escape(str(exc))}</b>")
            return None
        finally:
            self.build_button.disabled = False
        shown = ", ".join(f"<code>{html.escape(str(self._relative(pdf)))}</code>"
                          for pdf, _ in built)
        left = "".join(f"<br><span class='handouts-left-out'>{html.escape(line)}</span>"
                       for line in notes)
        self.status.value = (f"<span class='handouts-built' style='{_LINE}'>Built "
                             f"{shown} from "
                             f"<code>clients/{html.escape(profile_path.name)}</code>. "
                             f"For the next client, press <b>New client</b>.{left}</span>")
        if self.pdf_path.suffix != ".pdf":  # a screen edition has no pages to show here
            self.viewer.layout.display = "none"
            self.status.value += (f"<div style='{_LINE}'>Open it in a browser (or an e-book "
                                  "reader) to see it as the client will.</div>")
            return self.pdf_path
        self.viewer.layout.display = "flex"
        self.show_page(1)
        return self.pdf_path

    def _relative(self, path: Path) -> Path:
        return path.relative_to(self.folder) if path.is_relative_to(self.folder) else path

    def show_page(self, number: int) -> None:
        """Show page *number* of the built PDF at the zoom width."""

        if self.pdf_path is None:
            return
        shown = preview(self.pdf_path, pages=[max(1, number)], width=self.zoom.value,
                        password=self.password.value or None)
        self.pages = shown.total
        if not shown.images:
            return
        self.page = shown.pages[0]
        self.image.value = shown.images[0]
        self.image.layout.width = f"{self.zoom.value}px"
        self.page_label.value = (f"<span class='handouts-page' style='font-size:16px;"
                                 f"padding:0 12px'>page {self.page} of {self.pages}</span>")
        self.previous.disabled = self.page <= 1
        self.next.disabled = self.page >= self.pages

    def _ipython_display_(self) -> None:
        # lazy: IPython is there only inside a notebook or the warm engine
        from IPython.display import display

        display(self.widget)


def show(folder: str | Path = ".") -> Form | None:
    """Return the form where a person is looking; under papermill, say so and do nothing."""

    if not (in_front_end() or os.environ.get("VOILA_BASE_URL") is not None):
        print("Form skipped: no front end (papermill or nbclient).")
        return None
    return Form(folder)
