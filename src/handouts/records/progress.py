"""A client's progress from harvested handouts: practice days per ritual per week."""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass
from html import escape
from pathlib import Path

from handouts.core.files import atomic_write, write_hint
from handouts.core.untrusted import plain
from handouts.errors import HarvestError
from handouts.records.harvest import (
    HISTORY,
    ISSUED,
    Harvested,
    harvest_file,
    load_history,
    read_jsonl,
)
from handouts.records.programs import checkin_rows
from handouts.render.preview import in_front_end

MISSING_MATPLOTLIB = ("the practice chart needs matplotlib, which is not installed: "
                      "pip install 'handouts[chart]'")


@dataclass(frozen=True)
class Practice:
    """Days one partner ticked for one ritual in the handout of one session."""

    week: str  # the session date the handout was made for
    ritual: str
    title: str
    partner: int  # 1-based place in the profile's partners
    days: int


def practice_rows(issued: list[dict], history: list[dict]) -> list[Practice]:
    """Return practice days per week, ritual and partner (days ticked on any copy)."""
    titles = {(r["handout"], w["id"]): w["title"] for r in issued for w in r["rituals"]}
    weeks = {r["handout"]: r["session_date"] for r in issued}
    days: dict[tuple[str, str, int], set[int]] = {}
    for record in history:
        for answer in record["answers"]:
            if "checkin" in answer:  # the weekly check-in: its own table
                continue
            key = (record["handout"], answer["module"], answer["partner"])
            days.setdefault(key, set()).update(answer["days"])
    rows = [Practice(weeks.get(h, "?"), ritual, titles.get((h, ritual), ritual), partner,
                     len(ticked)) for (h, ritual, partner), ticked in days.items()]
    return sorted(rows, key=lambda r: (r.week, r.ritual, r.partner))


def reflections(issued: list[dict], history: list[dict]) -> list[tuple[str, str, int, str, str]]:
    """Return (week, ritual title, partner, prompt, answer) for every written answer."""
    prompts = {(r["handout"], w["id"]): (w["title"], w["prompts"])
               for r in issued for w in r["rituals"]}
    out = []
    for record in history:
        for answer in record["answers"]:
            title, texts = prompts.get((record["handout"], answer["module"]),
                                       (answer["module"], []))
            for number, text in sorted(answer["prompts"].items(), key=lambda x: int(x[0])):
                prompt = texts[int(number) - 1] if int(number) <= len(texts) else number
                out.append((record["session_date"], title, answer["partner"], prompt, text))
    return sorted(set(out))


def since_last_time(folder: Path, before: str) -> list[Practice]:
    """Return the practice rows of the latest harvested week before the date *before*."""
    issued = read_jsonl(folder / ISSUED)
    rows = [r for r in practice_rows(issued, read_jsonl(folder / HISTORY)) if r.week < before]
    if not rows:
        return []
    latest = max(r.week for r in rows)
    return [r for r in rows if r.week == latest]


def tables(issued: list[dict], rows: list[Practice], answers: list[tuple],
           checkins: list[tuple[str, ...]] | None = None,
           ) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]]:
    """Return the progress report as (title, columns, rows) tables, for any display.

    *checkins* are a program's weekly check-ins (:func:`programs.checkin_rows`): their
    table follows the practice days when there are any.
    """
    extra = [("Weekly check-in", ("week", "partner", "how close (1-5)",
                                  "how easy to make time (1-5)", "one word"),
              list(checkins))] if checkins else []
    return [
        ("Assigned", ("week of", "rituals"),
         [(r["session_date"], (", ".join(w["title"] for w in r["rituals"]) or "-")
          + (f" (partner {r['copy']}'s copy)" if r.get("copy") else ""))
         for r in issued]),
        ("Days practised", ("week of", "ritual", "partner", "days"),
         [(r.week, r.title, str(r.partner), str(r.days)) for r in rows]),
        *extra,
        ("Reflections", ("week of", "ritual", "partner", "prompt", "answer"),
         [(week, title, str(partner), prompt, text)
          for week, title, partner, prompt, text in answers]),
    ]


def save_chart(rows: list[Practice], path: str | Path, names: list[str] | None = None) -> Path:
    """Draw practice days per ritual per week (one bar per partner) to PNG, SVG or PDF."""
    path = Path(path)
    data = chart_bytes(rows, path.suffix.lstrip(".") or "png", names)
    try:
        return atomic_write(path, data)
    except OSError as exc:
        raise HarvestError(f"cannot write the chart: {exc.strerror}; {write_hint(exc)}",
                           file=path, field="--chart") from None


def chart_bytes(rows: list[Practice], fmt: str = "png", names: list[str] | None = None) -> bytes:
    """Return the practice chart as *fmt* (png, svg or pdf) bytes."""
    try:  # an optional extra: the base install reads and prints progress without it
        import matplotlib  # optional extra [chart]: only progress --chart draws
    except ImportError:
        raise HarvestError(MISSING_MATPLOTLIB) from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # optional extra [chart]: only progress --chart draws

    rituals = sorted({(r.ritual, r.title) for r in rows})
    weeks = sorted({r.week for r in rows})
    partners = sorted({r.partner for r in rows})
    fig, axes = plt.subplots(len(rituals) or 1, 1, figsize=(7, 1.9 * max(1, len(rituals))),
                             squeeze=False, sharex=True)
    width = 0.8 / max(1, len(partners))
    for ax, (ritual, title) in zip(axes[:, 0], rituals, strict=False):
        for n, partner in enumerate(partners):
            counts = [next((r.days for r in rows if (r.ritual, r.partner, r.week) ==
                            (ritual, partner, w)), 0) for w in weeks]
            label = names[partner - 1] if names and partner <= len(names) else f"partner {partner}"
            bars = ax.bar([i + n * width for i in range(len(weeks))], counts, width,
                          label=label)
            ax.bar_label(bars, fontsize=8, padding=2)
        ax.set_title(title, loc="left", fontsize=10)
        ax.set_ylim(0, 7)
        ax.set_yticks(range(0, 8))
        ax.set_ylabel("days")
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xticks([i + width * (len(partners) - 1) / 2 for i in range(len(weeks))],
                           [f"week of {w}" for w in weeks])
    axes[0, 0].legend(loc="upper right", frameon=False, fontsize=8, ncols=len(partners))
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=120)
    plt.close(fig)
    return buffer.getvalue()


def client_progress(output_dir: str | Path, client_id: str):
    """Return (issued, practice rows, reflections) for one client."""
    issued, history = load_history(output_dir, client_id)
    return issued, practice_rows(issued, history), reflections(issued, history)


def client_checkins(output_dir: str | Path, client_id: str) -> list[tuple[str, ...]]:
    """Return one client's weekly check-ins (see :func:`programs.checkin_rows`)."""
    return checkin_rows(*load_history(output_dir, client_id))


def report_html(output_dir: str | Path, client_id: str, names: list[str] | None = None) -> str:
    """Return one client's progress (tables and chart) as HTML, for a notebook or the app."""

    issued, rows, answers = client_progress(output_dir, client_id)

    def who(partner: str) -> str:
        k = int(partner)
        return names[k - 1] if names and k <= len(names) else f"partner {k}"

    parts = [f"<h3 style='margin:8px 0'>Progress of {html.escape(client_id)}</h3>"]
    try:
        png = base64.b64encode(chart_bytes(rows, "png", names)).decode() if rows else ""
    except HarvestError as exc:  # matplotlib missing: the tables still show
        parts.append(f"<p>{html.escape(str(exc))}</p>")
        png = ""
    if png:
        parts.append(f"<img alt='practice days per ritual per week' style='max-width:100%' "
                     f"src='data:image/png;base64,{png}'>")
    for title, columns, body in tables(issued, rows, answers,
                                       client_checkins(output_dir, client_id)):
        if not body:
            parts.append(f"<p><b>{title}</b>: nothing yet"
                         + (" (harvest a filled handout first)" if title != "Assigned"
                            else "") + ".</p>")
            continue
        cell = "padding:2px 10px;vertical-align:top;text-align:left"
        head = "".join(f"<th style='text-align:left;padding:2px 10px'>{c}</th>"
                       for c in columns)
        lines = []
        for row in body:
            cells = [who(v) if c == "partner" else v for c, v in zip(columns, row,
                                                                     strict=True)]
            lines.append("<tr>" + "".join(f"<td style='{cell}'>{html.escape(plain(v))}</td>"
                                          for v in cells) + "</tr>")
        parts.append(f"<p style='margin:12px 0 2px'><b>{title}</b></p><table style='"
                     f"border-collapse:collapse;font-size:14px'><tr>{head}</tr>"
                     + "".join(lines) + "</table>")
    return "".join(parts)


class ProgressView:
    """Pick filled handouts to read back, then see a client's progress (Lab or Voilà).

    The picked files are read from memory and never saved; only their answers go into
    the client's history, as ``handouts harvest`` does.
    """

    def __init__(self, output_dir: str | Path = "output", client_id: str = "",
                 names: list[str] | None = None) -> None:
        import ipywidgets as w  # optional extra [lab]: widgets exist only in a notebook or the app

        self.output_dir = Path(output_dir)
        self.client_id = client_id
        self.names = names
        self.upload = w.FileUpload(accept=".pdf,.json", multiple=True,
                                   description="Pick filled handouts", icon="upload",
                                   layout=w.Layout(width="260px"))
        self.password = w.Password(placeholder="PDF password, if the handouts have one",
                                   layout=w.Layout(width="320px"))
        self.upload.observe(self._picked, "value")
        self.status = w.HTML()
        self.report = w.HTML()
        self.widget = w.VBox([w.HBox([self.upload, self.password]), self.status,
                              self.report])
        self.refresh()

    def set_client(self, client_id: str, names: list[str] | None = None) -> None:
        """Show another client's progress."""
        self.client_id, self.names = client_id, names
        self.refresh()

    def harvest(self, files: list[tuple[str, bytes]]) -> list:
        """Read picked (name, bytes) files into the history; show one line per file."""

        results = []
        for name, data in files:
            try:
                results.append(harvest_file(name, self.output_dir,
                                            self.password.value or None, data=data))
            except HarvestError as exc:
                results.append(Harvested(Path(name), "failed", message=str(exc)))
        lines = []
        for r in results:
            colour = "#a01818" if r.status == "failed" else "#1d5e2e"
            text = (r.message if r.status == "failed"
                    else f"{r.status}: {r.file.name} → {r.client_id} ({r.message})")
            lines.append(f"<div class='handouts-harvested' style='color:{colour};"
                         f"font-size:15px'>{escape(plain(text))}</div>")
        self.status.value = "".join(lines)
        added = [r.client_id for r in results if r.status != "failed"]
        if added and self.client_id not in added:
            self.client_id, self.names = added[-1], None  # another client: no names
        self.refresh()
        return results

    def _picked(self, change) -> None:
        files = [(f["name"], bytes(f["content"])) for f in change["new"]]
        if files:
            self.harvest(files)
            self.upload.value = ()  # nothing kept in the widget (or in saved widget state)

    def refresh(self) -> None:
        """Redraw the report for the current client."""

        if not self.client_id:
            self.report.value = "<p>Pick filled handouts, or give a client id.</p>"
            return
        try:
            self.report.value = report_html(self.output_dir, self.client_id, self.names)
        except HarvestError as exc:
            self.report.value = f"<p style='color:#a01818'>{escape(plain(exc))}</p>"

    def _ipython_display_(self) -> None:
        # lazy: IPython is there only inside a notebook or the warm engine
        from IPython.display import display

        display(self.widget)


def show(client_id: str = "", output_dir: str | Path = "output",
         names: list[str] | None = None):
    """Show the picker and the progress where a person is looking; under papermill, the
    report alone."""

    # lazy: IPython is there only inside a notebook or the warm engine
    from IPython.display import HTML

    if in_front_end() or os.environ.get("VOILA_BASE_URL") is not None:
        return ProgressView(output_dir, client_id, names)
    try:
        return HTML(report_html(output_dir, client_id, names))
    except HarvestError as exc:  # no such client yet: say so, as the picker would
        return HTML(f"<p>{escape(str(exc))}</p>")
