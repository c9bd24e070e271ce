"""Every bundled workbook, run as a therapist or a scheduler would run it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbclient
import nbformat
import papermill
import pytest
from helpers import normalise, pdf_text

from handouts import load_library
from handouts.core.resources import workbook_path, workbooks_dir

WORKBOOKS = ["connection", "quick", "own-module", "caseload"]
PAPERMILL = str(Path(sys.executable).with_name("papermill"))


def parameters_cell(name: str) -> list[str]:
    nb = json.loads(workbook_path(name).read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    source = "".join(cell["source"])
    return re.findall(r"^(\w+): (\w+) = ", source, flags=re.MULTILINE)


def run(name: str, tmp_path: Path, **parameters) -> dict:
    out = tmp_path / f"{name}-run.ipynb"
    papermill.execute_notebook(
        str(workbook_path(name)), str(out),
        parameters={"output_dir": str(tmp_path / "out"), **parameters},
        progress_bar=False, cwd=str(tmp_path),
    )
    return json.loads(out.read_text())


def outputs(nb: dict) -> str:
    texts = []
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") if isinstance(output.get("text"), str)
                         else "".join(output.get("text", [])))
            for value in output.get("data", {}).values():
                texts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(texts)


def test_every_bundled_workbook_is_listed():
    # The form is an app (handouts app), tested in test_form.py and test_app_e2e.py;
    # progress reads handouts back and makes none, tested in test_harvest.py.
    assert sorted(p.stem for p in workbooks_dir().glob("*.ipynb")) == sorted(
        [*WORKBOOKS, "form", "progress"])


@pytest.mark.parametrize("name", WORKBOOKS)
def test_help_notebook_lists_every_parameter(name):
    result = subprocess.run([PAPERMILL, "--help-notebook", str(workbook_path(name))],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0
    declared = parameters_cell(name)
    assert declared
    for param, kind in declared:
        line = re.search(rf"^\s+{param}: {kind} \(default (.*)", result.stdout, re.MULTILINE)
        assert line, f"{param} missing from --help-notebook"
    # every parameter has help text: no "(default ...)" line is followed by another name
    assert "Parameters inferred" in result.stdout
    assert result.stdout.count("(default") == len(declared)


@pytest.mark.parametrize("name", WORKBOOKS)
def test_papermill_cli_runs_each_workbook_with_defaults(name, tmp_path):
    result = subprocess.run([PAPERMILL, str(workbook_path(name)), "out.ipynb",
                             "--no-progress-bar"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    pdfs = list((tmp_path / "output").rglob("*.pdf"))
    assert pdfs and all(pdf_text(p).strip() for p in pdfs)
    assert len(pdfs) == (5 if name == "caseload" else 1)


@pytest.mark.parametrize("name", WORKBOOKS)
def test_each_workbook_runs_in_a_real_kernel_with_nbclient(name, tmp_path):
    nb = nbformat.read(workbook_path(name), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    assert list((tmp_path / "output").rglob("*.pdf"))
    assert all(not o.get("ename") for c in nb.cells for o in c.get("outputs", []))


def test_connection_preview_and_picker_under_papermill(tmp_path):
    nb = run("connection", tmp_path)
    text = outputs(nb)
    assert text.count("data:image/png;base64,") == 2  # first two pages only, outside a lab
    assert "Picker skipped: no front end" in text


def test_own_section_is_placed_and_escaped(tmp_path):
    nb = run("connection", tmp_path, client_id="own-test", modules=["barometer"],
             partners=["Ari", "Bo"], session_date="2026-12-02",
             own_sections=[{"title": "Our <b>plan</b>", "after": "barometer",
                            "text": "Walk **on Sunday**. <img src=x> {{ 1+1 }}"}])
    assert "Error" not in outputs(nb)
    pdf = next((tmp_path / "out" / "own-test").glob("*.pdf"))
    text = normalise(pdf_text(pdf))
    assert "Our <b>plan</b>" in text
    assert "Walk on Sunday. <img src=x> {{ 1+1 }}" in text


    title = normalise(load_library().get("barometer").for_reader("couple").title)
    assert text.index(title) < text.rindex("Our <b>plan</b>")


def test_own_section_after_an_unchosen_module_fails(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as info:
        run("connection", tmp_path, client_id="own-2", partners=["Ari"],
            session_date="2026-12-02", modules=["barometer"],
            own_sections=[{"title": "T", "text": "x", "after": "no-such"}])
    assert "own_sections[0].after: cannot place a section after 'no-such'" in str(info.value)


def test_quick_workbook_prints_one_ritual(tmp_path):
    # A client passed to papermill is the whole client: no sample values are mixed in.
    run("quick", tmp_path, client_id="quick-1", rituals=["gentle-touch-moments"],
        partners=[{"name": "Ari"}], session_date="2026-12-02")
    pdf = next((tmp_path / "out" / "quick-1").glob("*-quick.pdf"))
    text = normalise(pdf_text(pdf))
    library = load_library()
    chosen = normalise(library.get("gentle-touch-moments").for_reader("individual").title)
    other = normalise(library.get("six-second-kiss").for_reader("individual").title)
    assert chosen in text and "Ari" in text
    assert other not in text
    assert "988" in text  # the safety note and crisis line are always there


def test_quick_workbook_rejects_a_non_ritual(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError, match="unknown worksheet id"):
        run("quick", tmp_path, client_id="quick-2", partners=["Ari"],
            session_date="2026-12-02", rituals=["barometer"])


def test_own_module_workbook_validates_previews_and_saves(tmp_path):
    practice = tmp_path / "practice-library"
    practice.mkdir()
    nb = run("own-module", tmp_path, save_to=str(practice))
    assert "ok: worksheet 'our-weekly-walk'" in outputs(nb)
    saved = practice / "our-weekly-walk.md"
    assert saved.is_file()


    assert load_library(practice).get("our-weekly-walk").title == "Our weekly walk"
    assert list((tmp_path / "out" / "module-preview").glob("*our-weekly-walk.pdf"))


def test_own_module_workbook_names_the_bad_field(tmp_path):
    text = "---\nid: x\nkind: poem\ntitle: T\n---\nbody\n"
    with pytest.raises(papermill.PapermillExecutionError) as info:
        run("own-module", tmp_path, module_text=text)
    assert "<module_text>: kind: 'poem' is not allowed" in str(info.value)
