"""Faults end in one clear line each, name the client and the file, and never stop the
other clients: read-only folders, a full disk, a missing extra, a killed worker."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import pdf_text
from test_batch import tricky_workbook
from test_harvest import fill_with_pypdf

from handouts import load_library, validate, write_handout
from handouts.core.files import output_paths, private_dir
from handouts.plan.assemble import assemble
from handouts.records.harvest import HISTORY
from handouts.records.progress import report_html
from handouts.run import batch
from handouts.ui.cli import main

ROWS = "client_id,partners,session_date,modules,rituals,scripts,note\n" + "".join(
    f"b-0{i},Pat{i}; Lou{i},2026-12-01,barometer,,,\n" for i in range(3))
HANDOUTS = str(Path(sys.executable).with_name("handouts"))


@contextlib.contextmanager
def read_only(folder: Path):
    """Make *folder* unwritable, even for root (the immutable attribute)."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True,
                      check=False).returncode != 0:
        pytest.skip("cannot make a folder read-only for root here (no chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def handouts(*argv: str, runner: list[str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*(runner or [HANDOUTS]), *argv], capture_output=True, text=True,
                          timeout=600, check=False)


def one_line_per_failure(err: str, count: int) -> list[str]:
    """Return the failure lines, checking there are *count* and nothing else went wrong."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith(("failed:", "error:"))]
    assert len(lines) == count, err
    return lines


def test_a_read_only_client_folder_fails_that_client_alone_in_a_batch(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROWS)
    out = tmp_path / "out"
    assert handouts("batch", str(roster), "-o", str(out)).returncode == 0
    before = {p: p.stat().st_mtime_ns for p in out.glob("*/*.pdf")}
    with read_only(out / "b-01"):
        run = handouts("batch", str(roster), "-o", str(out), "--force")
    assert run.returncode == 1
    [line] = one_line_per_failure(run.stderr, 1)
    assert "client b-01" in line and str(out / "b-01") in line
    assert "Operation not permitted" in line or "Permission denied" in line
    rebuilt = {p.parent.name for p, t in before.items() if p.stat().st_mtime_ns != t}
    assert rebuilt == {"b-00", "b-02"}  # the others were built all the same


def _filled(out: Path, tmp_path: Path, client_id: str) -> Path:
    profile = validate({"client_id": client_id, "partners": ["Ana", "Bo"], "fillable": True,
                        "session_date": "2026-11-10", "rituals": ["six-second-kiss"],
                        "modules": [], "scripts": [], "cards": False})
    path = output_paths(out, profile, "connection")[0]
    private_dir(path.parent)
    blank = write_handout(assemble(profile, load_library()), path)
    return fill_with_pypdf(blank, tmp_path / f"{client_id}.pdf",
                           {"six-second-kiss.p1.day-1": "/on"})


def test_a_read_only_client_folder_fails_that_file_alone_in_a_harvest(tmp_path):
    out = tmp_path / "out"
    first, second = _filled(out, tmp_path, "c-1"), _filled(out, tmp_path, "c-2")
    with read_only(out / "c-1"):
        run = handouts("harvest", str(first), str(second), "-o", str(out))
    assert run.returncode == 1
    [line] = one_line_per_failure(run.stderr, 1)
    assert "client c-1" in line and str(out / "c-1" / HISTORY) in line
    assert run.stdout.startswith(f"added: {second} -> c-2")
    assert not (out / "c-1" / HISTORY).exists() and (out / "c-2" / HISTORY).is_file()


# The atomic writer raises "no space left" for paths that hold argv[1]: a disk that is
# full by the time those files are written. Workers fork from this process, so they
# and their children inherit the patch.
DISK_FULL = """
import errno, os, sys
import handouts.core.files, handouts.render.pdf, handouts.records.store
real = handouts.core.files.atomic_write
def full(path, data):
    if sys.argv[1] in str(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    return real(path, data)
for module in (handouts.core.files, handouts.render.pdf, handouts.records.store):
    module.atomic_write = full
from handouts.ui.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("full", ["b-01", "manifest.json"])
def test_a_full_disk_during_a_batch_is_one_line_per_client(tmp_path, full):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROWS)
    out = tmp_path / "out"
    run = handouts("batch", str(roster), "-o", str(out),
                   runner=[sys.executable, "-c", DISK_FULL, full])
    assert run.returncode == 1
    lines = one_line_per_failure(run.stderr, 1 if full == "b-01" else 3)
    for line in lines:
        assert "No space left on device" in line and "free some disk space" in line
    if full == "b-01":
        assert "client b-01" in lines[0] and str(out / "b-01") in lines[0]
        assert {p.parent.name for p in out.glob("*/*.pdf")} == {"b-00", "b-02"}
    else:
        assert all(str(out / "manifest.json") in line for line in lines)
        assert {line.split("client ")[1].split(":")[0] for line in lines} == {
            "b-00", "b-01", "b-02"}  # every client was tried and reported


def test_progress_chart_without_matplotlib_says_which_extra(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    filled = _filled(out, tmp_path, "c-1")
    assert main(["harvest", str(filled), "-o", str(out)]) == 0
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as on the base install
    capsys.readouterr()
    chart = tmp_path / "chart.png"
    assert main(["progress", "c-1", "-o", str(out), "--chart", str(chart)]) == 1
    printed = capsys.readouterr()
    assert "Days practised" in printed.out  # the tables are shown all the same
    [line] = printed.err.strip().splitlines()
    assert "matplotlib" in line and "pip install 'handouts[chart]'" in line
    assert not chart.exists()
    page = report_html(out, "c-1")  # the Lab and app door: tables, and the same line
    assert "Days practised" in page and "pip install &#x27;handouts[chart]&#x27;" in page


@pytest.mark.parametrize(("argv", "module", "extra"), [
    (["lab", "--no-browser"], "jupyterlab", "lab"), (["app", "--no-browser"], "voila", "lab"),
    (["build", "--kernel"], "ipykernel", "kernel")])
def test_a_command_whose_extra_is_missing_says_which_to_install(
        tmp_path, monkeypatch, capsys, examples, argv, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # as on the base install
    target = str(examples / "clients" / "sample-couple.yaml") if argv[0] == "build" \
        else str(tmp_path / "practice")
    assert main([*argv, target]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert module in line and f"pip install 'handouts[{extra}]'" in line
    assert not (tmp_path / "practice").exists()  # nothing made before the line


def test_a_killed_worker_fails_its_client_alone_and_leaves_no_pdf(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROWS.replace("b-01,", "b-kill,"))
    out = tmp_path / "out"
    result = batch.run(roster, out, jobs=2, workbook=str(tricky_workbook(tmp_path)),
                       timeout=60)
    status = {o.client_id: (o.status, o.message) for o in result.outcomes}
    assert status["b-00"][0] == status["b-02"][0] == "built"
    assert status["b-kill"][0] == "failed" and "the worker stopped" in status["b-kill"][1]
    assert "Pat2" in pdf_text(next((out / "b-02").glob("*.pdf")))
    time.sleep(6)  # the killed worker's child would have written its PDF by now
    assert not list((out / "b-kill").glob("*.pdf"))
    assert not list((out / "b-kill").glob("*.ipynb"))


@pytest.mark.parametrize("door", ["engine", "kernel"])
def test_a_read_only_client_folder_fails_a_build_in_one_line(tmp_path, door):
    profile = tmp_path / "c-1.yaml"
    profile.write_text("client_id: c-1\npartners: [Ana]\nsession_date: '2026-11-10'\n"
                       "modules: [barometer]\nrituals: []\nscripts: []\ncards: false\n")
    out = tmp_path / "out"
    (out / "c-1").mkdir(parents=True)
    with read_only(out / "c-1"):
        run = handouts("build", str(profile), "-o", str(out),
                       *(["--kernel"] if door == "kernel" else []))
    assert run.returncode == 1
    [line] = one_line_per_failure(run.stderr, 1)
    assert "client c-1" in line and str(out / "c-1") in line
    assert not list((out / "c-1").iterdir())


def test_a_chart_that_cannot_be_written_is_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["harvest", str(_filled(out, tmp_path, "c-1")), "-o", str(out)]) == 0
    charts = tmp_path / "charts"
    charts.mkdir()
    capsys.readouterr()
    with read_only(charts):
        code = main(["progress", "c-1", "-o", str(out), "--chart", str(charts / "c.png")])
    assert code == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert str(charts / "c.png") in line and "cannot write the chart" in line
