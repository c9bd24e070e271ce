"""The connection workbook, run as papermill runs it: Python API and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import papermill
import pypdf
import pytest
from helpers import embedded_fonts, normalise, pdf_text

from handouts.core.resources import workbook_path, workbooks_dir

PARAMS = {
    "client_id": "wb-test",
    "partners": [{"name": "Quinn", "pronouns": "they/them"}, {"name": "Morgan"}],
    "session_date": "2026-12-03",
    "modules": ["emotional-safety", "barometer"],
    "rituals": ["appreciation-ritual"],
    "scripts": ["declining-warmly"],
    "note": "See you *next* week.",
}


def titles(ids):
    from handouts import load_library

    lib = load_library()
    return [lib.get(i).title for i in ids]


def test_committed_workbooks_have_a_tagged_parameters_cell_and_no_outputs():
    notebooks = sorted(workbooks_dir().glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text())
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path.name
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path.name


def test_papermill_api_builds_the_pdf(tmp_path):
    out_nb = tmp_path / "run.ipynb"
    papermill.execute_notebook(
        str(workbook_path("connection")), str(out_nb),
        parameters={**PARAMS, "output_dir": str(tmp_path / "out")},
        progress_bar=False, cwd=str(tmp_path),
    )
    pdf = tmp_path / "out" / "wb-test" / "2026-12-03-connection.pdf"
    assert pdf.is_file()
    text = normalise(pdf_text(pdf))
    for name in ("Quinn", "Morgan"):
        assert name in text
    for title in titles(PARAMS["modules"] + PARAMS["rituals"] + PARAMS["scripts"]):
        assert normalise(title) in text, title
    # chosen order is kept: the second article comes after the first
    first, second = titles(PARAMS["modules"])
    assert text.rindex(normalise(first)) < text.rindex(normalise(second))
    assert "See you next week." in text
    fonts = embedded_fonts(pdf)
    assert fonts and all(fonts.values())
    assert len(pypdf.PdfReader(str(pdf)).pages) >= 6
    executed = json.loads(out_nb.read_text())
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])


def test_papermill_cli_with_defaults_from_another_directory(tmp_path):
    """`papermill workbooks/connection.ipynb out.ipynb` with no parameters builds a sample."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    papermill_bin = Path(sys.executable).with_name("papermill")
    result = subprocess.run(
        [str(papermill_bin), str(workbook_path("connection")), "out.ipynb", "--no-progress-bar"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    pdfs = list((tmp_path / "output").rglob("*.pdf"))
    assert len(pdfs) == 1
    assert "Alex" in pdf_text(pdfs[0])


def test_papermill_cli_with_a_parameters_file(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(
        "client_id: cli-test\n"
        "partners: [{name: Devi}]\n"
        "session_date: '2026-12-04'\n"
        "modules: [body-shuts-down]\nrituals: []\nscripts: []\n"
        f"output_dir: {tmp_path / 'out'}\n"
        "paper: a4\n"
    )
    papermill_bin = Path(sys.executable).with_name("papermill")
    result = subprocess.run(
        [str(papermill_bin), str(workbook_path("connection")), str(tmp_path / "o.ipynb"),
         "-f", str(params), "--no-progress-bar"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    pdf = tmp_path / "out" / "cli-test" / "2026-12-04-connection.pdf"
    assert "Devi" in pdf_text(pdf)
    box = pypdf.PdfReader(str(pdf)).pages[0].mediabox
    assert round(float(box.width)) == 595


def test_bad_parameter_fails_the_workbook_with_the_field_name(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as info:
        papermill.execute_notebook(
            str(workbook_path("connection")), str(tmp_path / "o.ipynb"),
            parameters={**PARAMS, "modules": ["no-such-article"],
                        "output_dir": str(tmp_path / "out")},
            progress_bar=False,
        )
    assert "modules[0]: unknown article id 'no-such-article'" in str(info.value)
    assert not list(tmp_path.rglob("*.pdf"))
