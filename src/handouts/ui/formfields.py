"""The client form's fields: every profile field as a widget, filled from a saved
client or practice file and read back as parameters."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

from handouts.content.library import load_library
from handouts.content.module import LIST_OF_KIND
from handouts.core.resources import examples_dir
from handouts.errors import HandoutsError
from handouts.plan.reading import read_practice, read_yaml
from handouts.records.progress import ProgressView
from handouts.ui.formprogram import ProgramFields
from handouts.ui.formvalues import ids_in, in_language, listed, ticked, with_language

AUDIENCES = ("auto", "couple", "individual", "group")
FORMATS = (("PDF (print, or fill in on a tablet)", "pdf"),
           ("Web page (phones, screen readers; filled in the browser)", "html"),
           ("E-book (EPUB)", "epub"))
KIND_OF_LIST = {name: kind for kind, name in LIST_OF_KIND.items()}
_LINE = "font-size:15px;line-height:1.5"
_PROMPTS = {"modules": "Pick an article…", "rituals": "Pick a ritual…",
            "scripts": "Pick a conversation script…"}
# The handout's language: one edition, or two PDFs for a bilingual household.
LANGUAGES = (("English", "en"), ("Español", "es"),
             ("Español and English (two PDFs)", "es+en"),
             ("English and Español (two PDFs)", "en+es"))


class FormFields:
    """The widgets of the client form and the values they hold."""

    def __init__(self, folder: str | Path = ".") -> None:
        import ipywidgets as w  # optional extra [lab]: widgets exist only in a notebook or the app

        self.w = w
        self.folder = Path(folder).resolve()
        practice = self.folder / "practice.yaml"
        self.practice_path = practice if practice.is_file() else examples_dir() / "practice.yaml"
        self.practice = read_practice(self.practice_path)
        self.library = load_library(self.practice.get("practice_library") or None,
                                    self.practice.get("language", "en"))
        self.pdf_path: Path | None = None
        self._loading = self._quiet = False
        self._notes: dict[str, str] | None = None  # a note given per language, all of it
        self._pronouns: dict[int, dict[str, str]] = {}  # the same for pronouns, by row
        self.page = 1
        self.pages = 0
        full = w.Layout(width="98%")
        style = {"description_width": "140px"}

        def text(label: str, placeholder: str = "", **kw: Any) -> Any:
            box = w.Text(description=label, placeholder=placeholder, style=style,
                         layout=kw.pop("layout", full), **kw)
            box.observe(self._changed, "value")
            return box

        self.opener = w.Dropdown(description="Open", style=style,
                                 layout=w.Layout(width="480px"))
        self._list_saved()
        self.opener.observe(self._open_picked, "value")
        self.new_client = w.Button(description="New client", icon="user-plus",
                                   tooltip="Empty the form for the next client",
                                   layout=w.Layout(width="auto"))
        self.new_client.on_click(lambda _: self.clear())
        self.client_id = text("Client id", "a pseudonym such as c-1042, never a name")
        self.session_date = text("Session date", "YYYY-MM-DD",
                                 value=dt.date.today().isoformat())
        self.therapist = text("Therapist", self.practice.get("therapist", ""))
        self.partner_rows: list[tuple[Any, Any, Any]] = []
        self.partner_box = w.VBox()
        add_partner = w.Button(description="Add a partner", icon="plus",
                               layout=w.Layout(width="auto"))
        add_partner.on_click(lambda _: self.add_partner())
        self.note = w.Textarea(description="Personal note", placeholder="Markdown; prints "
                               "as text", style=style, layout=w.Layout(width="100%",
                                                                     height="120px"))
        self.note.observe(self._changed, "value")
        self.section_rows: list[tuple[Any, Any, Any, Any]] = []
        self.section_box = w.VBox()
        add_section = w.Button(description="Add your own section", icon="plus",
                               layout=w.Layout(width="auto"))
        add_section.on_click(lambda _: self.add_section())
        self.topics = text("Topics", "ids separated by commas, or pick from the list on "
                           "the right; each adds its recommended modules",
                           layout=w.Layout(width="62%"))
        self.lists = {name: text(name.capitalize(), "ids separated by commas, or pick "
                                 "from the list on the right",
                                 layout=w.Layout(width="62%"))
                      for name in KIND_OF_LIST}
        self.pickers = {name: self._picker(self.lists[name], _PROMPTS[name], [
            (m.title, m.id) for m in self.library.of_kind(kind)])
            for name, kind in KIND_OF_LIST.items()}
        self.flags = text("Concerns", "flags separated by commas: "
                          + ", ".join(self.library.flags) + "; they decide what is left out",
                          layout=w.Layout(width="62%"))
        self.topic_picker = self._picker(self.topics, "Pick a topic…", [
            (topic.title, key) for key, topic in self.library.topics.items()])
        self.audience = w.Dropdown(options=AUDIENCES, value="auto", description="Reader",
                                   style=style)
        self.language = w.Dropdown(options=LANGUAGES, value=self._language({}),
                                   description="Language", style=style)
        paper = self.practice.get("paper", "letter")
        self.paper = w.Dropdown(options=("letter", "a4"), value=paper, description="Paper",
                                style=style)
        self.format = w.Dropdown(options=FORMATS, value=self._format({}),
                                 description="Format", style=style)
        self.large_print = w.Checkbox(value=ticked(self.practice.get("large_print")),
                                      description="Large print")
        self.fillable = w.Checkbox(value=ticked(self.practice.get("fillable")),
                                   description="Fillable on a tablet")
        self.cards = w.Checkbox(value=ticked(self.practice.get("cards")),
                                description="Cut-out cards")
        self.discreet = w.Checkbox(value=False, description="Discreet (neutral cover and "
                                   "file name)")
        self.copies = w.Dropdown(options=(("One shared copy", "shared"), (
            "A copy per partner", "per-partner")), value="shared", description="Copies",
            style=style)
        self.edition = w.Dropdown(options=(("The client's handout", "client"), (
            "Therapist's guide (not for the client)", "therapist")), value="client",
            description="Edition", style=style)
        self.password = w.Password(description="PDF password", placeholder="optional; "
                                   "never saved", style=style)
        for widget in (self.audience, self.language, self.paper, self.format,
                       self.large_print, self.fillable, self.cards, self.discreet,
                       self.copies, self.edition):
            widget.observe(self._changed, "value")
        self.programs = ProgramFields(w, self.library, style, self._changed)
        self.problems_html = w.HTML(layout=full)
        self.build_button = w.Button(description="Build the handout", button_style="primary",
                                     icon="file-pdf", layout=w.Layout(width="240px",
                                                                      height="44px"))
        self.build_button.on_click(lambda _: self.build())
        self.status = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(border="1px solid #ccc"))
        self.previous = w.Button(description="Previous page", icon="arrow-left")
        self.next = w.Button(description="Next page", icon="arrow-right")
        self.previous.on_click(lambda _: self.show_page(self.page - 1))
        self.next.on_click(lambda _: self.show_page(self.page + 1))
        self.zoom = w.IntSlider(value=800, min=400, max=1400, step=100,
                                description="Zoom (px)", style=style)
        self.zoom.observe(lambda _: self.show_page(self.page), "value")
        self.page_label = w.HTML()
        self.viewer = w.VBox([w.HBox([self.previous, self.page_label, self.next, self.zoom]),
                              self.image], layout=w.Layout(display="none"))

        self.progress = ProgressView(self.folder / "output")
        self.client_id.observe(lambda _: self._show_progress(), "value")
        heading = (f"<div style='{_LINE}'><b>Practice</b> "
                   f"({html.escape(str(self.practice_path))}): "
                   f"{html.escape(str(self.practice.get('practice_name', '')))} · "
                   f"{html.escape(str(self.practice.get('practice_contact', '')))} · "
                   f"paper {html.escape(str(paper))}</div>")
        self.widget = w.VBox([
            w.HTML(heading), w.HBox([self.opener, self.new_client]),
            self.client_id, self.session_date, self.therapist,
            w.HTML("<b>Partners</b> (names or initials, pronouns optional)"),
            self.partner_box, add_partner, self.note,
            w.HTML("<b>What to include</b>"), self.flags,
            w.HBox([self.topics, self.topic_picker]), self.programs.box,
            *(w.HBox([self.lists[name], self.pickers[name]]) for name in KIND_OF_LIST),
            w.HTML("<b>Your own sections</b>"), self.section_box, add_section,
            w.HTML("<b>Print</b>"), self.audience, self.language, self.paper, self.format,
            w.HBox([self.large_print, self.fillable, self.cards]), self.discreet, self.copies,
            self.edition, self.password,
            self.problems_html, self.build_button, self.status, self.viewer,
            w.HTML(f"<h3>Filled handouts and progress</h3><div style='{_LINE}'>Pick the "
                   "filled PDFs that came back (one per partner is fine): their answers "
                   "go into the client's history under <code>output/</code>; the files "
                   "themselves are not kept.</div>"),
            self.progress.widget,
        ], layout=w.Layout(max_width="1500px"))
        self.add_partner()  # problems show from the first change (or Build), not on an empty form

    # choosing ---------------------------------------------------------------------
    def _picker(self, target: Any, prompt: str, choices: list[tuple[str, str]]) -> Any:
        """A list of *choices* (title, id) by title; picking one adds its id to *target*."""
        w = self.w
        options = [(prompt, "")] + [(f"{title} ({key})", key) for title, key in choices]
        picker = w.Dropdown(options=options, value="", layout=w.Layout(width="36%"))

        def picked(change: Any) -> None:
            if change["new"]:
                ids = ids_in(target.value)
                if change["new"] not in ids:
                    target.value = ", ".join([*ids, change["new"]])
                picker.value = ""

        picker.observe(picked, "value")
        return picker

    def _list_saved(self, shown: str = "") -> None:
        saved = sorted((self.folder / "clients").glob("*.yaml"))
        self._quiet = True  # listing is not opening
        try:
            self.opener.options = [("New client", "")] + [(p.stem, p.name) for p in saved]
            self.opener.value = shown if shown in {p.name for p in saved} else ""
        finally:
            self._quiet = False

    def _open_picked(self, change: Any) -> None:
        if self._quiet:
            return
        if change["new"]:
            self.open(self.folder / "clients" / change["new"])
        else:
            self.clear()

    def clear(self) -> None:
        """Empty the form for the next client: nothing of the last one stays."""
        self._fill({"session_date": dt.date.today().isoformat()})
        self.pdf_path = None
        self.viewer.layout.display = "none"
        self.problems_html.value = self.status.value = ""
        self.progress.set_client("")
        self._list_saved()

    def open(self, path: str | Path) -> None:
        """Fill the form from a saved client profile (as ``handouts build`` reads it)."""

        path = Path(path)
        try:
            self._fill(read_yaml(path))
        except HandoutsError as exc:
            self.status.value = (f"<b style='color:#a01818;{_LINE}'>"
                                 f"{html.escape(str(exc))}</b>")
            return
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            self.status.value = (f"<b style='color:#a01818;{_LINE}'>{html.escape(path.name)}"
                                 f": cannot be shown in the form ({html.escape(str(exc))})"
                                 "; edit it as text</b>")
            return
        self.status.value = (f"<span style='{_LINE}'>Opened <code>clients/"
                             f"{html.escape(path.name)}</code>. Building saves it again."
                             "</span>")
        self._changed()

    def _fill(self, data: dict[str, Any]) -> None:
        """Set every field from raw profile *data*; what it lacks gets the practice's default."""
        self._loading = True
        try:
            self.client_id.value = str(data.get("client_id", ""))
            self.session_date.value = str(data.get("session_date", ""))
            self.therapist.value = str(data.get("therapist", "") or "")
            language = self._language(data).split("+")[0]
            note, self._notes = in_language(data.get("note"), language)
            self.note.value = note.rstrip("\n")
            self.topics.value = ", ".join(listed(data.get("topics")))
            self.flags.value = ", ".join(listed(data.get("flags")))
            for name, box in self.lists.items():
                box.value = ", ".join(listed(data.get(name)))
            self.audience.value = str(data.get("audience", "auto"))
            self.language.value = self._language(data)
            self.paper.value = str(data.get("paper", self.practice.get("paper", "letter")))
            self.format.value = self._format(data)
            for key in ("large_print", "fillable", "cards"):
                getattr(self, key).value = ticked(data.get(key, self.practice.get(key)))
            self.discreet.value = ticked(data.get("discreet"))
            self.copies.value = "per-partner" if data.get("copies") == "per-partner" \
                else "shared"
            self.edition.value = "therapist" if data.get("edition") == "therapist" \
                else "client"
            self.password.value = ""  # never saved, so never carried over
            self.programs.fill(data)
            self.partner_rows.clear()
            self._pronouns = {}
            for partner in data.get("partners") or [""]:
                if isinstance(partner, dict):
                    pronouns, others = in_language(partner.get("pronouns"), language)
                    self.add_partner(str(partner.get("name", "")), pronouns)
                    if others is not None:  # one per language: keep those not shown
                        self._pronouns[id(self.partner_rows[-1][1])] = others
                else:
                    self.add_partner(str(partner))
            self.section_rows.clear()
            for section in data.get("own_sections") or []:
                self.add_section(str(section.get("title", "")), str(section.get("text", "")),
                                 str(section.get("after", "end")))
            self._layout()
        finally:
            self._loading = False

    def _format(self, data: dict[str, Any]) -> str:
        """The format for raw profile *data*, else the practice's, else PDF."""
        value = str(data.get("format") or self.practice.get("format") or "pdf")
        return value if value in {v for _, v in FORMATS} else "pdf"

    def _language(self, data: dict[str, Any]) -> str:
        """The language choice for raw profile *data*, else the practice's language."""
        valid = {value for _, value in LANGUAGES}
        languages = "+".join(listed(data.get("languages")))
        if languages in valid:
            return languages
        language = str(data.get("language") or self.practice.get("language") or "en")
        return language if language in valid else "en"

    # rows -------------------------------------------------------------------------
    def add_partner(self, name: str = "", pronouns: str = "") -> None:
        w = self.w
        name_box = w.Text(value=name, placeholder="name or initials",
                          layout=w.Layout(width="260px"))
        pronoun_box = w.Text(value=pronouns, placeholder="pronouns (optional)",
                             layout=w.Layout(width="200px"))
        remove = w.Button(description="Remove", icon="times", layout=w.Layout(width="110px"))
        row = (name_box, pronoun_box, remove)
        remove.on_click(lambda _: self._remove(self.partner_rows, row))
        for box in (name_box, pronoun_box):
            box.observe(self._changed, "value")
        self.partner_rows.append(row)
        self._layout()

    def add_section(self, title: str = "", text: str = "", after: str = "end") -> None:
        w = self.w
        title_box = w.Text(value=title, placeholder="section title",
                           layout=w.Layout(width="360px"))
        after_box = w.Text(value=after, placeholder="after: a chosen id, start or end",
                           layout=w.Layout(width="260px"))
        text_box = w.Textarea(value=text, placeholder="Markdown",
                              layout=w.Layout(width="100%", height="90px"))
        remove = w.Button(description="Remove", icon="times", layout=w.Layout(width="110px"))
        row = (title_box, after_box, text_box, remove)
        remove.on_click(lambda _: self._remove(self.section_rows, row))
        for box in row[:3]:
            box.observe(self._changed, "value")
        self.section_rows.append(row)
        self._layout()

    def _remove(self, rows: list, row: tuple) -> None:
        if row in rows:
            rows.remove(row)
        self._layout()
        self._changed()

    def _layout(self) -> None:
        w = self.w
        self.partner_box.children = [w.HBox(list(r)) for r in self.partner_rows]
        self.section_box.children = [w.VBox([w.HBox([r[0], r[1], r[3]]), r[2]])
                                     for r in self.section_rows]

    # values -----------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The profile this form describes, as it is saved (no password)."""
        local = self.practice_path == self.folder / "practice.yaml"
        data: dict[str, Any] = {"practice": "../practice.yaml" if local
                                else str(self.practice_path)}
        data["client_id"] = self.client_id.value.strip()
        language = self.language.value.split("+")[0]
        pronouns = {id(p): with_language(p.value.strip(), self._pronouns.get(id(p)), language)
                    for _, p, _ in self.partner_rows}
        data["partners"] = [
            {"name": n.value.strip(), **({"pronouns": pronouns[id(p)]} if pronouns[id(p)]
                                         else {})}
            for n, p, _ in self.partner_rows if n.value.strip() or p.value.strip()]
        data["session_date"] = self.session_date.value.strip()
        if self.therapist.value.strip():
            data["therapist"] = self.therapist.value.strip()
        data["topics"] = ids_in(self.topics.value)
        if ids_in(self.flags.value):
            data["flags"] = ids_in(self.flags.value)
        for name, box in self.lists.items():
            data[name] = ids_in(box.value)
        text = self.note.value.strip()
        note = (with_language(text, self._notes, language) if self._notes is not None
                else text and text + "\n")
        if note:
            data["note"] = note
        sections = [{"title": t.value.strip(), "text": x.value.strip(),
                     "after": a.value.strip() or "end"}
                    for t, a, x, _ in self.section_rows if t.value.strip() or x.value.strip()]
        if sections:
            data["own_sections"] = sections
        data["audience"] = self.audience.value
        if "+" in self.language.value:
            data["languages"] = self.language.value.split("+")
        else:
            data["language"] = self.language.value
        data["paper"] = self.paper.value
        data["format"] = self.format.value
        data["large_print"] = bool(self.large_print.value)
        data["fillable"] = bool(self.fillable.value)
        data["cards"] = bool(self.cards.value)
        if self.discreet.value:
            data["discreet"] = True
        if self.copies.value == "per-partner":
            data["copies"] = "per-partner"
        if self.edition.value == "therapist":
            data["edition"] = "therapist"
        self.programs.values(data)
        return data

