"""Every client as if alone: nothing one workbook does reaches another client."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from helpers import pdf_text
from nbformat.v4 import new_code_cell

from handouts.core.resources import workbook_path
from handouts.ui.cli import main

HEADER = "client_id,partners,session_date,rituals\n"
NAMES = [f"Canary{chr(97 + i)}{chr(97 + i)}q" for i in range(10)]  # Canaryaaq, Canarybbq, ...

# A workbook that deliberately keeps state wherever a Python process can: an imported
# module's attribute, a monkeypatched library table, the environment, the working
# folder. If any of it survived to the next client, that client's PDF, record or the
# batch's output would name an earlier client.
LEAKY_CELL = """\
import json, os, tempfile
import sys
stage = sys.modules["handouts.plan.assemble"]  # the stage module, not the function
me = session.profile.partners[0].name
seen = list(getattr(json, "_seen_clients", []))
json._seen_clients = seen + [me]
before = os.environ.get("HANDOUTS_LAST_CLIENT", "")
os.environ["HANDOUTS_LAST_CLIENT"] = me
stage.TITLES["en"] = stage.TITLES["en"] + " for " + me
print("working folder:", os.getcwd())
os.chdir(tempfile.mkdtemp())
leftovers = " ".join([*seen, before]).strip() or "nothing"
session.add_section(title="Left over from earlier clients", text=leftovers)
print("left over:", leftovers)
"""


def leaky_workbook(tmp_path: Path) -> Path:
    nb = nbformat.read(workbook_path("connection"), as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if "handouts.start(" in c.source)
    nb.cells.insert(start + 1, new_code_cell(LEAKY_CELL))
    path = tmp_path / "leaky" / "connection.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


def test_no_client_state_reaches_the_next_client(tmp_path, examples, capsys):
    shutil.copy(examples / "practice.yaml", tmp_path / "practice.yaml")
    shutil.copy(examples / "logo.svg", tmp_path / "logo.svg")
    rows = [f"iso-{i:02d},{name} (they/them),2026-12-01,six-second-kiss"
            for i, name in enumerate(NAMES)]
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    # One worker: all ten clients are forked from the same warm process, one after another.
    code = main(["batch", str(roster), "-o", str(out), "-j", "1",
                 "-w", str(leaky_workbook(tmp_path))])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    for i, name in enumerate(NAMES):
        others = [n for n in NAMES if n != name]
        pdf = out / f"iso-{i:02d}" / "2026-12-01-connection.pdf"
        record = (out / f"iso-{i:02d}" / "2026-12-01-connection.ipynb").read_text()
        text = pdf_text(pdf)
        assert name in text  # the client's own name is there...
        assert "Left over from earlier clients" in text
        for other in others:  # ...and no one else's, anywhere
            assert other not in text, f"{other} reached {name}'s PDF"
            assert other not in record, f"{other} reached {name}'s record"
        assert "left over: nothing" in record
        assert f"working folder: {Path.cwd()}" in record  # not the last client's chdir
    assert not any(n in printed.out + printed.err for n in NAMES)  # no names in the log
    manifest = (out / "manifest.json").read_text()
    assert not any(n in manifest for n in NAMES)


def test_library_models_are_read_only():
    import dataclasses

    import pydantic
    import pytest

    from handouts import load_library, validate
    from handouts.plan.assemble import assemble

    library = load_library()
    module = library.of_kind("worksheet")[0]
    with pytest.raises(pydantic.ValidationError):
        module.title = "changed"
    assert isinstance(module.prompts, tuple)
    with pytest.raises(TypeError):
        library.modules["x"] = module
    handout = assemble(validate({"client_id": "ro-1", "partners": ["A", "B"],
                                 "session_date": "2026-12-01",
                                 "rituals": [module.id]}), library)
    assert isinstance(handout.worksheets, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        handout.title = "changed"
    with pytest.raises(AttributeError):
        handout.worksheets[0].prompts.append("What did Canary enjoy?")
    assert load_library() is library  # the cached library is shared, and intact


def test_a_batch_started_from_jupyterlab_builds_like_papermill(tmp_path, examples,
                                                               monkeypatch):
    # A kernel in JupyterLab has JPY_SESSION_NAME; its clients must not get pickers or
    # full-size previews of every page in their records.
    monkeypatch.setenv("JPY_SESSION_NAME", "caseload.ipynb")
    shutil.copy(examples / "practice.yaml", tmp_path / "practice.yaml")
    shutil.copy(examples / "logo.svg", tmp_path / "logo.svg")
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER + "lab-1,Ari,2026-12-01,six-second-kiss\n", encoding="utf-8")
    assert main(["batch", str(roster), "-o", str(tmp_path / "out"), "-j", "1"]) == 0
    record = json.loads((tmp_path / "out" / "lab-1" / "2026-12-01-connection.ipynb")
                        .read_text())
    outputs = [o for c in record["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    texts = "".join("".join(o.get("text", "")) for o in outputs)
    assert "Picker skipped" in texts
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert html.count("<img ") == 2  # the first two pages only, as under papermill


def test_workers_warm_up_with_practice_settings_and_no_client_text(tmp_path, examples):
    """A worker warms up by running the workbook with the practice's look (so its children
    start with the parsed stylesheet) but is never handed a client's id, names, note or
    choices."""
    from handouts.run.caseload import plan, task_for
    from handouts.run.pool import practice_settings, warm_up_parameters

    jobs = plan(examples / "roster.csv", tmp_path)
    assert jobs
    for job in jobs:
        task = task_for(job, tmp_path, "connection", True)
        settings = practice_settings(task.parameters)
        assert settings["accent_color"] and settings["practice_logo"]
        shown = json.dumps(settings)
        assert job.profile.client_id not in shown
        for partner in job.profile.partners:
            assert partner.name not in shown
        assert not {"client_id", "partners", "note", "modules", "rituals", "scripts",
                    "own_sections", "password"} & set(settings)
    parameters = warm_up_parameters(settings)  # they validate as they are (no fallback)
    assert parameters["accent_color"] == settings["accent_color"]
    shown = json.dumps(parameters)
    assert not any(job.profile.client_id in shown for job in jobs)
    out = tmp_path / "warm"
    # In a process of its own, as in a worker: the engine's shell takes over __main__.
    run = ("import json, sys; from pathlib import Path; "
           "from handouts.run.pool import papermill_run; "
           "from handouts.core.resources import workbook_path; "
           "papermill_run(workbook_path('connection'), Path(sys.argv[1]), json.loads(sys.argv[2]))")
    done = subprocess.run([sys.executable, "-c", run, str(tmp_path / "warm.ipynb"),
                           json.dumps({**parameters, "output_dir": str(out)})],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    (pdf,) = (out / "warm-up").glob("*.pdf")
    assert settings["practice_name"] in pdf_text(pdf)  # the practice's look, rendered
