"""Write the bundled workbooks in workbooks/ from the cell sources below (no outputs).

Edit here and rerun `python tools/make_workbooks.py`; a test checks the committed
notebooks have no outputs. Each parameter line is `name: type = value  # help`, which
`papermill --help-notebook` reads.
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from handouts.errors import PARAMETERS_MARK
from handouts.plan.parameters import parameters_cell

ROOT = Path(__file__).resolve().parents[1] / "workbooks"

PLAIN = '''\
import handouts

handouts.show_errors_plainly()  # from here on, this tool's errors are one plain sentence'''

START = '''\
session = handouts.start(globals(), "{workbook}")  # checks this run's parameters
session.profile.reader'''

OWN = '''\
# Your own section (optional). Write Markdown between the triple quotes: it prints as
# text, never as HTML. `after` is a chosen module id, or "start" / "end". Running this
# cell again replaces the section; leave the text empty to remove it.
session.add_section(
    title="A plan for this week",
    after="end",
    text="""
""",
)'''


def params_cell(source: str):
    if not source.startswith(PARAMETERS_MARK):
        source = f"{PARAMETERS_MARK}: papermill replaces these values.\n" + source
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


def notebook(cells) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = cells
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"  # stable ids keep diffs small
    nbformat.validate(nb)
    return nb


def connection():
    return notebook([
        new_markdown_cell("""\
# Connection workbook

Builds a client's connection handout: articles, daily rituals and conversation scripts
from the library, your personal note and your own sections, printed to a PDF.

1. Edit the **parameters** cell (or run `handouts build CLIENT.yaml`, which fills it from a
   client profile). `handouts library` lists the module ids. Settings left as `None` come
   from your practice file (`practice`).
2. *Run ▸ Run All Cells.* A PDF is only ever built from the parameters of this run: after
   changing them, run all cells again.
3. Write your own section in the cell below the check if you like. The picker at the end
   lets you change the choices and rebuild without editing code.

The defaults describe a fictional couple, so running it as it is builds a sample handout."""),
        new_code_cell(PLAIN),
        params_cell(parameters_cell("connection")),
        new_code_cell(START.format(workbook="connection")),
        new_markdown_cell("## Your own words"),
        new_code_cell(OWN),
        new_markdown_cell("## Check the choices"),
        new_code_cell('''\
handout = session.assemble()
[f"{m.kind}: {m.title}" for m in handout.sections]'''),
        new_markdown_cell("## Print the PDF"),
        new_code_cell('''\
pdf_path = session.write(handout)
print(pdf_path)'''),
        new_markdown_cell("## Preview"),
        new_code_cell("handouts.preview(pdf_path, width=220)"),
        new_markdown_cell("""\
## Change the choices (JupyterLab only)

Add, remove or drag the ids, then press **Build and preview**. Under papermill this cell
does nothing: the parameters rule."""),
        new_code_cell("handouts.picker(session)"),
    ])


def quick():
    return notebook([
        new_markdown_cell("""\
# Quick ritual handout

A short handout with a ritual for the end of a session: the steps, a 7-day tracker,
reflection prompts and the safety note. Set `rituals` to one worksheet id
(`handouts library` lists them) and run all cells."""),
        new_code_cell(PLAIN),
        params_cell(parameters_cell("quick")),
        new_code_cell(START.format(workbook="quick")),
        new_code_cell('''\
handout = session.assemble()
pdf_path = session.write(handout, template="quick")
print(pdf_path)'''),
        new_code_cell("handouts.preview(pdf_path, width=260)"),
    ])


SAMPLE_MODULE = '''---
id: our-weekly-walk
kind: worksheet
title: Our weekly walk
summary: A slow walk together once a week, phones away, to catch up on each other's world.
minutes: 30
tags: [ritual, connection]
sources: [gottman-silver-2015]
version: "1.0"
language: en
steps:
  - Pick one time each week for a walk together, even a short one.
  - Leave your phones at home or on silent.
  - Take turns to share one thing from your week that mattered to you.
why: >-
  Research by the Gottmans suggests that couples who keep up with each other's inner
  world feel closer. A regular walk makes room for that without a big plan.
making_it_yours:
  - Too cold or too busy? A cup of tea at the kitchen table works too.
  - Missed a week? That is normal. Just pick the next free evening.
tracker: We took our walk
prompts:
  - What did you learn about your partner on a walk this week?
---

A walk side by side can make it easier to talk. You do not need to look at each other
or find the right words at once.
'''


def own_module():
    return notebook([
        new_markdown_cell("""\
# Write your own module

Draft a module for your practice library in the `module_text` parameter: YAML front
matter (see `docs/library-format.md`), then Markdown. Run all cells: the module is
validated (errors name the field), shown as a one-module preview handout, and saved to
`save_to` (your practice library folder) when you set it."""),
        params_cell('''\
module_text: str = """''' + SAMPLE_MODULE + '''"""  # The module: YAML front matter, then Markdown.
practice_library: str = ""  # Your practice library folder, to check the id against; empty for none.
save_to: str = ""  # Folder to save the module in (e.g. your practice library); empty to skip.
paper: str = "letter"  # Paper size of the preview: letter or a4.
output_dir: str = "output"  # Where the preview PDF goes: <output_dir>/module-preview/.
'''),
        new_code_cell('''\
import handouts
from handouts.run.authoring import check_module, preview_module, reading_grade, save_module

module = check_module(module_text, practice_library or None)
print(f"ok: {module.kind} {module.id!r}, {module.minutes} min, grade {reading_grade(module):.1f}")'''),
        new_code_cell('''\
pdf_path = preview_module(module, practice_library or None, output_dir, paper=paper)
handouts.preview(pdf_path, width=260)'''),
        new_code_cell('''\
if save_to:
    print(save_module(module_text, save_to))'''),
    ])


def caseload():
    return notebook([
        new_markdown_cell("""\
# Caseload

Builds a handout for every client in a roster (CSV or YAML, see docs/batch.md), in warm
worker processes. Every row is checked before anything is built; clients whose inputs
have not changed since the last run are skipped. The table at the end shows each
client's outcome and time.

The default roster is the bundled fictional one."""),
        params_cell('''\
roster: str = ""  # Roster file (CSV or YAML); empty for the bundled fictional roster.
jobs: int = 2  # Worker processes (one per core is a good start).
force: bool = False  # Rebuild clients even when they are up to date.
workbook: str = "connection"  # Workbook to run for every client.
timeout: int = 120  # Seconds one client may take before its worker is stopped.
output_dir: str = "output"  # Where PDFs go: <output_dir>/<client_id>/.
'''),
        new_code_cell('''\
import handouts

from handouts.run import batch

result = batch.run(roster or batch.examples_roster(), output_dir, jobs=jobs, force=force,
                   workbook=workbook, timeout=timeout)
result'''),
        new_code_cell('''\
# Stop here if any client failed, so a scheduler sees the failure.
if result.failed:
    raise RuntimeError(f"{len(result.failed)} client(s) failed: "
                       + ", ".join(o.client_id for o in result.failed))'''),
    ])


def form():
    return notebook([
        new_markdown_cell("""\
# Client form

Fill in the form, then press **Build the handout**. The choices are saved as
`clients/<client id>.yaml` (never the password) and built exactly as
`handouts build clients/<client id>.yaml` builds them; the PDF and its record go to
`output/<client id>/`. `handouts app` opens this form on its own, without the code."""),
        params_cell('''\
folder: str = "."  # Practice folder: practice.yaml, clients/ and output/ live here.
'''),
        new_code_cell('''\
import handouts.ui.form

handouts.ui.form.show(folder)'''),
    ])


def progress():
    return notebook([
        new_markdown_cell("""\
# Progress

Reads filled handouts back and shows one client's progress: what was assigned when,
practice days per ritual per week (a chart and a table) and the reflection answers.

1. Set `client_id` (and `output_dir` if your handouts go elsewhere) and run all cells.
2. In JupyterLab, press **Pick filled handouts** and choose the PDFs that came back (one
   per partner is fine). Their answers go into the client's history (`history.jsonl` in
   the client's output folder); the PDFs themselves are not kept. `handouts harvest` does
   the same from a terminal.

Partners show as "partner 1", "partner 2": the history never holds names. Give `profile`
(the client's YAML) to see their names here."""),
        new_code_cell(PLAIN),
        params_cell('''\
client_id: str = "sample-couple"  # The client whose progress to show.
output_dir: str = "output"  # Where the handouts were built: <output_dir>/<client_id>/.
profile: str = ""  # The client's profile YAML, to name the partners; empty for none.
'''),
        new_code_cell('''\
import handouts.records.progress

names = [p.name for p in handouts.load_profile(profile).partners] if profile else None
handouts.records.progress.show(client_id, output_dir, names)'''),
    ])


def main() -> None:
    for name, build in (("connection", connection), ("quick", quick),
                        ("own-module", own_module), ("caseload", caseload),
                        ("form", form), ("progress", progress)):
        path = ROOT / f"{name}.ipynb"
        nbformat.write(build(), path)
        print(path)


def expected() -> dict[str, nbformat.NotebookNode]:
    """Return every workbook as the generator writes it (a test compares them)."""
    return {name: build() for name, build in (("connection", connection), ("quick", quick),
                                             ("own-module", own_module),
                                             ("caseload", caseload), ("form", form),
                                             ("progress", progress))}


if __name__ == "__main__":
    main()
