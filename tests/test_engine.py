"""The in-process engine behaves like a kernel where notebooks notice, and runs quietly."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

PAPERMILL = str(Path(sys.executable).with_name("papermill"))


def run_engine(tmp_path, *sources, extra=()):
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    src, out = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    result = subprocess.run([PAPERMILL, str(src), str(out), "--engine", "handouts", *extra],
                            capture_output=True, text=True, timeout=300, check=False)
    if not out.exists():
        return result, None
    nb = json.loads(out.read_text())
    nb["cells"] = [c for c in nb["cells"] if c["cell_type"] == "code"]  # not error banners
    for cell in nb["cells"]:
        for output in cell["outputs"]:
            for key, value in output.get("data", {}).items():
                output["data"][key] = "".join(value) if isinstance(value, list) else value
    return result, nb


def test_cells_run_as_in_ipython(tmp_path):
    result, nb = run_engine(
        tmp_path,
        "def f(a: int): pass\nf.__annotations__",  # no `from __future__` of ours leaks in
        "display('shown'); 41 + 1;",  # display() shows; a trailing ; hides the value
        "x = 6 * 7\nx",
    )
    assert result.returncode == 0, result.stderr
    first, second, third = (c["outputs"] for c in nb["cells"])
    assert first[0]["data"]["text/plain"] == "{'a': int}"
    assert [o["output_type"] for o in second] == ["display_data"]
    assert second[0]["data"]["text/plain"] == "'shown'"
    assert third[0]["output_type"] == "execute_result"
    assert third[0]["data"]["text/plain"] == "42"


def test_sys_exit_in_a_cell_fails_the_notebook_not_the_process(tmp_path):
    result, nb = run_engine(tmp_path, "import sys\nsys.exit(3)", "print('never')")
    assert result.returncode == 1
    assert nb["cells"][0]["outputs"][-1]["ename"] == "SystemExit"
    assert nb["cells"][1]["outputs"] == []


def test_our_errors_are_one_sentence_without_traceback(tmp_path):
    result, nb = run_engine(
        tmp_path,
        "from handouts import ProfileError\n"
        "raise ProfileError('must be letter or a4', field='paper')")
    error = nb["cells"][0]["outputs"][-1]
    assert error["traceback"] == ["ProfileError: paper: must be letter or a4"]


def test_building_with_the_engine_prints_no_renderer_log_lines(tmp_path):
    workbook = Path(__file__).resolve().parents[1] / "workbooks" / "quick.ipynb"
    out = tmp_path / "quick-out.ipynb"
    result = subprocess.run(
        [PAPERMILL, str(workbook), str(out), "--engine", "handouts", "-p", "output_dir",
         str(tmp_path / "pdfs")], capture_output=True, text=True, timeout=300, check=False,
        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    noise = [line for line in result.stderr.splitlines()
             if "Step " in line or "fontTools" in line or "subset" in line.lower()]
    assert not noise, noise[:5]
    assert list((tmp_path / "pdfs").rglob("*.pdf"))


def test_a_parameters_cell_that_does_not_parse_is_one_sentence_in_a_real_kernel(tmp_path):
    import nbclient
    import pytest

    from handouts.errors import PARAMETERS_MARK, QUOTES_HINT

    nb = new_notebook(cells=[
        new_code_cell("import handouts\nhandouts.show_errors_plainly()"),
        new_code_cell(f"{PARAMETERS_MARK}\nclient_id = 'c-1'\npartners = [{{'name': 'Quill'}}"),
        new_code_cell("print('never')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()  # the cell still fails, so Run All stops there
    error = nb.cells[1].outputs[-1]
    (shown,) = error["traceback"]  # one line, no traceback
    assert shown.startswith("HandoutsError: parameters cell: line 3: ")
    assert shown.endswith(f"; {QUOTES_HINT}")
    assert nb.cells[2].outputs == []
    # Any other cell that does not parse keeps Python's own message.
    other = new_notebook(cells=[nb.cells[0], new_code_cell("x = (")],
                         metadata=nb.metadata)
    client = nbclient.NotebookClient(other, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        client.execute()
    assert other.cells[1].outputs[-1]["ename"] == "SyntaxError"


def test_execution_timeout_stops_a_cell_that_runs_too_long(tmp_path):
    started = time.monotonic()
    result, nb = run_engine(tmp_path, "import time\ntime.sleep(60)", "print('never')",
                            extra=("--execution-timeout", "2"))
    assert time.monotonic() - started < 45
    assert result.returncode == 1
    assert nb["cells"][0]["outputs"][-1]["ename"] == "CellTimeout"
    assert "--execution-timeout (2 s)" in nb["cells"][0]["outputs"][-1]["evalue"]
    assert nb["cells"][1]["outputs"] == []


def test_papermill_parameters_files_are_read_as_papermill_reads_them(tmp_path):
    files = [tmp_path / f"{n}.yaml" for n in ("a", "b", "c")]
    for path in files:
        path.write_text("client_id: x\n", encoding="utf-8")
    result, nb = run_engine(
        tmp_path, "from handouts.run.notebook import _parameters_files\n"
        "print([p.name for p in _parameters_files()])",
        extra=(f"-f{files[0]}", f"--parameters_file={files[1]}", "-p", "note", "-f",
               "--parameters_file", str(files[2])))
    assert result.returncode == 0, result.stderr[-2000:]
    printed = "".join(nb["cells"][-1]["outputs"][0]["text"]).strip()
    assert printed == "['a.yaml', 'b.yaml', 'c.yaml']"
