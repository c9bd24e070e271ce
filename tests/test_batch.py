"""Caseload batches: validation first, isolation, incremental reruns, progress, records."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from helpers import pdf_text
from nbformat.v4 import new_code_cell

from handouts.core.resources import workbook_path
from handouts.run import batch
from handouts.ui.cli import main

HEADER = "client_id,partners,session_date,modules,rituals,scripts,note\n"


def roster(folder: Path, rows: list[str], name: str = "roster.csv") -> Path:
    path = folder / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def good_rows(count: int) -> list[str]:
    return [f"b-{i:02d},Pat{i} (they/them); Lou{i},2026-12-0{1 + i % 9},barometer,,,"
            for i in range(count)]


@pytest.fixture
def practice(tmp_path, examples) -> Path:
    folder = tmp_path / "caseload"
    folder.mkdir()
    shutil.copy(examples / "practice.yaml", folder / "practice.yaml")
    shutil.copy(examples / "logo.svg", folder / "logo.svg")
    return folder


def tricky_workbook(tmp_path: Path) -> Path:
    """The connection workbook plus a cell that misbehaves for chosen client ids."""
    nb = nbformat.read(workbook_path("connection"), as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if "handouts.start(" in c.source)
    nb.cells.insert(start + 1, new_code_cell(
        "import os, time\n"
        "client_id = session.profile.client_id\n"
        "if client_id == 'b-fail':\n    raise ValueError('this client breaks a cell')\n"
        "if client_id == 'b-hang':\n    time.sleep(600)\n"
        "if client_id == 'b-die':\n    os._exit(3)\n"
        "if client_id == 'b-kill':  # the worker, not this child; then carry on\n"
        "    import signal\n    os.kill(os.getppid(), signal.SIGKILL)\n    time.sleep(4)\n"))
    path = tmp_path / "tricky" / "connection.ipynb"  # same name: same output file names
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


def test_batch_builds_every_client_with_records_and_manifest(practice, tmp_path, capsys):
    rows = good_rows(3) + [",,,,,,"]
    path = roster(practice, rows[:3])
    out = tmp_path / "out"
    assert main(["batch", str(path), "-o", str(out), "-j", "2"]) == 0
    printed = capsys.readouterr().out
    assert "3 built, 0 up to date, 0 failed" in printed
    for i in range(3):
        pdf = next((out / f"b-{i:02d}").glob("*.pdf"))
        assert f"Pat{i}" in pdf_text(pdf) and "Harbor Light" in pdf_text(pdf)
        record = json.loads(pdf.with_suffix(".ipynb").read_text())
        injected = [c for c in record["cells"]
                    if "injected-parameters" in c["metadata"].get("tags", [])]
        assert injected and f"b-{i:02d}" in "".join(injected[0]["source"])
        assert record["metadata"]["papermill"]["parameters"]["client_id"] == f"b-{i:02d}"
    manifest = json.loads((out / "manifest.json").read_text())["clients"]
    assert len(manifest) == 3 and all(len(v["digest"]) == 64 for v in manifest.values())


def test_every_problem_is_listed_before_any_work(practice, tmp_path, capsys):
    path = roster(practice, [
        "b-1,Ann,2026-12-01,barometer,,,",
        "b-2,Bo,2026-12-01,baromter,,,",
        "b-3,Cy,not-a-date,barometer,,,",
        "b-4,,2026-12-01,barometer,,,",
        "b-1,Ann,2026-12-01,barometer,,,",
    ])
    out = tmp_path / "out"
    assert main(["batch", str(path), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "4 problem(s) in the roster; nothing was built" in err
    line = next(ln for ln in err.splitlines() if ln.startswith(f"{path}: row 2:"))
    assert line.startswith(f"{path}: row 2: modules[0]: unknown article id 'baromter' (valid: ")
    assert " barometer," in line or "(valid: barometer," in line
    assert f"{path}: row 3: session_date:" in err
    assert f"{path}: row 4: partners:" in err
    assert f"{path}: row 5: client_id: 'b-1' on 2026-12-01 is also row 1" in err
    assert not out.exists()


def test_unknown_column_is_an_error_not_a_parameter(practice, tmp_path, capsys):
    path = practice / "roster.csv"
    path.write_text("client_id,partners,session_date,modules,favourite_colour\n"
                    "b-1,Ann,2026-12-01,barometer,blue\n")
    assert main(["batch", str(path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "column 'favourite_colour' is not a parameter (valid: client_id," in err


def test_one_failure_fails_alone(practice, tmp_path):
    path = roster(practice, ["b-ok1,Ann,2026-12-01,barometer,,,",
                             "b-fail,Bo,2026-12-01,barometer,,,",
                             "b-die,Cy,2026-12-01,barometer,,,",
                             "b-hang,Di,2026-12-01,barometer,,,",
                             "b-ok2,Ed,2026-12-01,barometer,,,"])
    result = batch.run(path, tmp_path / "out", jobs=2, workbook=str(tricky_workbook(tmp_path)),
                       timeout=8)
    status = {o.client_id: (o.status, o.message) for o in result.outcomes}
    assert status["b-ok1"][0] == status["b-ok2"][0] == "built"
    assert status["b-fail"] == ("failed", "ValueError: this client breaks a cell")
    assert status["b-die"][0] == "failed" and "stopped (exit code 3)" in status["b-die"][1]
    assert status["b-hang"][0] == "failed" and "timed out after 8 s" in status["b-hang"][1]
    assert not list((tmp_path / "out" / "b-fail").glob("*.pdf"))
    assert not list((tmp_path / "out").rglob(".tmp-*"))


def test_rerun_skips_what_is_up_to_date_and_force_rebuilds(practice, tmp_path):
    path = roster(practice, good_rows(3))
    out = tmp_path / "out"
    first = batch.run(path, out, jobs=2)
    assert first.count("built") == 3
    again = batch.run(path, out, jobs=2)
    assert again.count("skipped") == 3 and again.count("built") == 0
    # one client's note changes: only that client is rebuilt
    text = path.read_text().replace("b-01,Pat1 (they/them); Lou1,2026-12-02,barometer,,,",
                                    "b-01,Pat1 (they/them); Lou1,2026-12-02,barometer,,,New note")
    path.write_text(text)
    changed = batch.run(path, out, jobs=2)
    assert {o.client_id: o.status for o in changed.outcomes} == {
        "b-00": "skipped", "b-01": "built", "b-02": "skipped"}
    # a deleted PDF is rebuilt even when the inputs did not change
    next((out / "b-02").glob("*.pdf")).unlink()
    assert {o.client_id: o.status for o in batch.run(path, out).outcomes}["b-02"] == "built"
    forced = batch.run(path, out, jobs=2, force=True)
    assert forced.count("built") == 3


def test_an_interrupted_batch_resumes(practice, tmp_path):
    path = roster(practice, good_rows(6))
    out = tmp_path / "out"
    handouts_bin = str(Path(sys.executable).with_name("handouts"))
    process = subprocess.Popen([handouts_bin, "batch", str(path), "-o", str(out), "-j", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    manifest = out / "manifest.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if manifest.exists() and len(json.loads(manifest.read_text())["clients"]) >= 2:
            break
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done = len(json.loads(manifest.read_text())["clients"])
    assert 2 <= done < 6
    resumed = batch.run(path, out, jobs=2)
    assert resumed.count("skipped") == done
    assert resumed.count("built") == 6 - done
    assert not list(out.rglob(".tmp-*"))


def test_progress_is_quiet_when_not_a_terminal(practice, tmp_path):
    path = roster(practice, good_rows(2))
    handouts_bin = str(Path(sys.executable).with_name("handouts"))
    result = subprocess.run([handouts_bin, "batch", str(path), "-o", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "━" not in result.stderr and "\r" not in result.stderr
    assert "2 built" in result.stdout


def test_the_progress_bar_on_a_terminal_runs_no_thread(monkeypatch, capsys):
    """No refresh thread while the batch runs, so its workers are forked, not spawned."""
    import threading

    from rich.console import Console

    from handouts.run.report import BatchResult, Outcome, with_progress

    monkeypatch.setattr(Console, "is_terminal", property(lambda self: True))
    seen = []

    def run(roster, progress):
        seen.append(threading.active_count())
        result = BatchResult(workers=1)
        outcome = Outcome(1, "c-1", "built", 0.1, "", "c-1.pdf")
        result.outcomes.append(outcome)
        progress(outcome, result, 1)
        seen.append(threading.active_count())
        return result

    with_progress(run, "roster.csv")
    assert seen == [1, 1]
    assert "1 built" in capsys.readouterr().err  # the bar was drawn


def test_yaml_roster_with_profiles_and_inline_rows(practice, tmp_path, examples):
    shutil.copytree(examples / "clients", practice / "clients")
    path = practice / "roster.yaml"
    path.write_text(
        "practice: practice.yaml\n"
        "clients:\n"
        "  - clients/sample-individual.yaml\n"
        "  - profile: clients/sample-couple.yaml\n"
        "    paper: a4\n"
        "  - client_id: y-3\n"
        "    partners: [{name: Ola}]\n"
        "    session_date: 2026-12-09\n"
        "    rituals: [six-second-kiss]\n"
        "    own_sections: [{title: Our plan, text: '*Walk* daily', after: six-second-kiss}]\n")
    result = batch.run(path, tmp_path / "out", jobs=2)
    assert result.count("built") == 3, [o.message for o in result.outcomes]
    couple = next((tmp_path / "out" / "sample-couple").glob("*.pdf"))
    import pypdf

    assert round(float(pypdf.PdfReader(str(couple)).pages[0].mediabox.width)) == 595
    assert "Our plan" in pdf_text(next((tmp_path / "out" / "y-3").glob("*.pdf")))


def test_caseload_html_summary_escapes_messages():
    result = batch.BatchResult(outcomes=[batch.Outcome(1, "c-1", "failed", 1.0, "<b>x</b>")])
    assert "&lt;b&gt;x&lt;/b&gt;" in result._repr_html_()
