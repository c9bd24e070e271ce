"""Write workbooks/connection.ipynb from the cell sources below (no outputs).

Edit the notebook in JupyterLab or here; rerun with `python tools/make_workbook.py`.
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

INTRO = """\
# Connection workbook

Builds a client's connection handout: articles, daily rituals and conversation scripts
from the library, with your personal note, printed to a PDF.

1. Edit the **parameters** cell below (or run `handouts build CLIENT.yaml`, which fills
   it from a client profile). `handouts library` lists the module ids.
2. *Run ▸ Run All Cells.* The PDF path is printed at the end.

The defaults describe a fictional couple, so running this notebook as it is builds a
sample handout in `output/`."""

PARAMETERS = '''\
# Parameters: papermill and `handouts build` replace these values.
client_id: str = "sample-couple"  # Pseudonymous slug used for paths; never a client's name.
partners: list = [{"name": "Alex", "pronouns": "they/them"}, {"name": "Sam", "pronouns": "she/her"}]  # Display names or initials, pronouns optional.
therapist: str = "Robin Example, LMFT"  # Your name and credentials, for the cover.
session_date: str = "2026-11-24"  # Session date (YYYY-MM-DD); names the output file.
modules: list = ["barometer", "emotional-safety", "everyday-eroticism"]  # Article ids, in reading order.
rituals: list = ["six-second-kiss", "appreciation-ritual"]  # Worksheet (ritual) ids, in order.
scripts: list = ["missing-closeness", "responding-with-care"]  # Conversation script ids, in order.
note: str = "It was good to see you both this week. Try **one** ritual first, and keep it light."  # Personal note in Markdown; shown as text, never as HTML.
language: str = "en"  # Handout language: en or es.
paper: str = "letter"  # Paper size: letter or a4.
large_print: bool = False  # Body text at 16 pt for easier reading.
fillable: bool = False  # Add form fields so the PDF can be filled in on a tablet.
ink_saver: bool = False  # Drop large colour fills when printing.
cards: bool = True  # Add a page of cut-out cards: one per ritual and conversation opener.
practice_name: str = "Harbor Light Couples Therapy"  # Practice name for the cover and page header.
practice_contact: str = "hello@harborlight.example · (555) 010-0199"  # Contact line for the cover and back page.
practice_logo: str = ""  # Path to an SVG or PNG logo; empty for none.
accent_color: str = "2f6f6a"  # Accent colour as a hex code (rrggbb, with or without #).
crisis_line: str = "In the US, call or text 988 (Suicide & Crisis Lifeline) any time. In an emergency, call 911."  # Crisis resources printed in the safety note.
practice_library: str = ""  # Folder of your practice's own modules (adds or overrides by id); empty for none.
output_dir: str = "output"  # Where PDFs go: <output_dir>/<client_id>/<date>-connection.pdf.
'''

VALIDATE = """\
import handouts

# Every parameter above, validated together: a wrong type or an unknown value stops here.
profile = handouts.validate({name: globals()[name] for name in handouts.PARAMETERS})"""

ASSEMBLE = """\
library = handouts.load_library(profile.practice_library or None, profile.language)
handout = handouts.assemble(profile, library)
[f"{m.kind}: {m.title}" for m in handout.sections]"""

RENDER = """\
html = handouts.render_html(handout)
pdf_path, _ = handouts.output_paths(output_dir, profile, "connection")
handouts.write_pdf(html, pdf_path, fillable=profile.fillable,
                   extra_files=[profile.practice_logo] if profile.practice_logo else [])
print(pdf_path)"""


def main() -> None:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    params = new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        new_markdown_cell(INTRO),
        params,
        new_markdown_cell("## Validate the parameters"),
        new_code_cell(VALIDATE),
        new_markdown_cell("## Choose the content\n\nThe chosen modules, in the order they print."),
        new_code_cell(ASSEMBLE),
        new_markdown_cell("## Render the PDF"),
        new_code_cell(RENDER),
    ]
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"  # stable ids keep diffs small
    nbformat.validate(nb)
    out = Path(__file__).resolve().parents[1] / "workbooks" / "connection.ipynb"
    nbformat.write(nb, out)
    print(out)


if __name__ == "__main__":
    main()
