"""The client form's program widgets: a program, its week, the gate, calendar reminders."""

from __future__ import annotations

import html
from typing import Any

from handouts.content.library import Library
from handouts.ui.formvalues import ticked

_LINE = "font-size:15px;line-height:1.5"


class ProgramFields:
    """Pick a program and week, confirm the week's gate, ask for an .ics beside the PDF."""

    def __init__(self, w: Any, library: Library, style: dict, changed: Any) -> None:
        self.library = library
        programs = sorted(library.programs.values(), key=lambda p: p.id)
        self.program = w.Dropdown(
            options=[("No program", "")] + [(f"{p.title.en} ({len(p.weeks)} weeks)", p.id)
                                            for p in programs],
            value="", description="Program", style=style)
        self.week = w.BoundedIntText(value=1, min=1, max=26, description="Week",
                                     style=style)
        self.gate = w.HTML()
        self.confirm = w.Checkbox(value=False, description="I confirm this week's gate "
                                  "(recorded in the client's records when you build)",
                                  layout=w.Layout(width="98%"))
        self.calendar = w.Checkbox(value=False, description="Calendar reminders (.ics "
                                   "beside the PDF, neutral text)")
        for widget in (self.program, self.week, self.calendar):
            widget.observe(changed, "value")
        for widget in (self.program, self.week):
            widget.observe(lambda _: self._show_gate(), "value")
        self.box = w.VBox([w.HBox([self.program, self.week]), self.gate, self.confirm,
                           self.calendar])
        self._show_gate()

    def _show_gate(self) -> None:
        program = self.library.programs.get(self.program.value)
        gate = program.gates().get(self.week.value) if program else None
        self.confirm.layout.display = "flex" if gate else "none"
        if program is None:
            self.gate.value = ""
        elif self.week.value > len(program.weeks):
            self.gate.value = (f"<div style='{_LINE}'>{html.escape(program.id)} has "
                               f"{len(program.weeks)} weeks.</div>")
        else:
            week = program.get_week(self.week.value)
            text = f"Week {week.week}: {week.title.en}."
            if gate:
                text += f" Before it: confirm that {gate.text.en}."
            self.gate.value = f"<div style='{_LINE}'>{html.escape(text)}</div>"

    def fill(self, data: dict[str, Any]) -> None:
        """Show a saved profile's program, week and calendar choice."""
        program = str(data.get("program") or "")
        self.program.value = program if program in self.library.programs else ""
        try:
            self.week.value = max(1, min(26, int(data.get("week") or 1)))
        except (TypeError, ValueError):
            self.week.value = 1
        self.calendar.value = ticked(data.get("calendar"))
        self.confirm.value = False  # a confirmation is given for one build, never saved

    def values(self, data: dict[str, Any]) -> None:
        """Add the program, week and calendar choice to the profile *data* being saved."""
        if self.program.value:
            data["program"] = self.program.value
            data["week"] = int(self.week.value)
        if self.calendar.value:
            data["calendar"] = True
