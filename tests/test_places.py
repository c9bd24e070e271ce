"""Places: client data goes only into real, private folders under the output folder, and
practice paths are the files they say they are (symbolic links are refused)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest
from test_harvest import build, fill_with_pypdf

from handouts.records.harvest import HISTORY
from handouts.run.pool import warm_up_parameters
from handouts.ui.cli import main

PROFILE = ("client_id: {id}\npartners: [Ana]\nsession_date: '2026-11-10'\n"
           "modules: [barometer]\nrituals: []\nscripts: []\ncards: false\n")


def single_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = [ln for ln in err.splitlines() if ln.startswith(("error:", "failed:"))]
    return line


def test_a_symlinked_client_folder_is_refused_by_every_door(tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    blank = build(out, "2026-11-10")  # client c-7, then its folder is moved out
    filled = fill_with_pypdf(blank, tmp_path / "filled.pdf",
                             {"six-second-kiss.p1.day-1": "/on"})
    shutil.move(out / "c-7", elsewhere)
    os.symlink(elsewhere, out / "c-7")
    before = sorted(p.name for p in elsewhere.iterdir())
    profile = tmp_path / "c-7.yaml"
    profile.write_text(PROFILE.format(id="c-7"))
    assert main(["build", str(profile), "-o", str(out)]) == 1
    line = single_error(capsys)
    assert "client c-7" in line and f"{out / 'c-7'}: " in line and "symbolic link" in line
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,partners,session_date,modules\n"
                      "c-7,Ana,2026-11-17,barometer\nc-8,Bo,2026-11-17,barometer\n")
    assert main(["batch", str(roster), "-o", str(out)]) == 1
    assert "client c-7" in single_error(capsys)
    assert list((out / "c-8").glob("*.pdf"))  # the other client was built
    assert main(["harvest", str(filled), "-o", str(out)]) == 1
    assert "symbolic link" in single_error(capsys)
    assert main(["progress", "c-7", "-o", str(out)]) == 1
    assert "symbolic link" in single_error(capsys)
    assert sorted(p.name for p in elsewhere.iterdir()) == before  # nothing written there
    assert not (elsewhere / HISTORY).exists()


@pytest.mark.parametrize("what", ["practice", "practice_logo", "practice_library",
                                  "a module in practice_library"])
def test_practice_paths_that_are_links_are_refused(tmp_path, examples, capsys, what):
    real = tmp_path / "real"
    (real / "library").mkdir(parents=True)
    shutil.copy(examples / "logo.svg", real / "logo.svg")
    shutil.copy(examples / "practice.yaml", real / "practice.yaml")
    practice = tmp_path / "practice"
    practice.mkdir()
    for name in ("practice.yaml", "logo.svg", "library"):
        target = practice / name
        if what == {"practice.yaml": "practice", "logo.svg": "practice_logo",
                    "library": "practice_library"}[name]:
            os.symlink(real / name, target)
        elif name == "library":
            target.mkdir()
        else:
            shutil.copy(real / name, target)
    if what == "a module in practice_library":
        os.symlink("/etc/hostname", practice / "library" / "ours.md")
    profile = practice / "c-1.yaml"
    profile.write_text(PROFILE.format(id="c-1") + "practice_logo: logo.svg\n"
                       "practice_library: library\n")
    assert main(["build", str(profile), "-o", str(tmp_path / "out")]) == 1
    line = single_error(capsys)
    field = "practice_library" if what.startswith("a module") else what
    assert f": {field}: " in line and "is a symbolic link" in line
    assert not (tmp_path / "out" / "c-1").exists()


def test_a_loose_client_folder_is_tightened_and_said_once(tmp_path, capsys):
    out = tmp_path / "out"
    profile = tmp_path / "c-1.yaml"
    profile.write_text(PROFILE.format(id="c-1"))
    assert main(["build", str(profile), "-o", str(out)]) == 0
    folder = out / "c-1"
    folder.chmod(0o777)
    for path in folder.iterdir():
        path.chmod(0o644)
    (folder / "notes.txt").write_text("a file someone put here")
    (folder / "notes.txt").chmod(0o666)
    capsys.readouterr()
    assert main(["build", str(profile), "-o", str(out)]) == 0
    notes = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("note:")]
    assert len(notes) == 1 and str(folder) in notes[0] and "was 0777" in notes[0]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert main(["build", str(profile), "-o", str(out)]) == 0
    assert "note:" not in capsys.readouterr().err  # said once, when it was needed


def test_the_output_folder_itself_may_be_reached_through_a_link(tmp_path):
    real = tmp_path / "real-out"
    real.mkdir()
    os.symlink(real, tmp_path / "out")  # as /tmp is on some systems
    profile = tmp_path / "c-1.yaml"
    profile.write_text(PROFILE.format(id="c-1"))
    assert main(["build", str(profile), "-o", str(tmp_path / "out")]) == 0
    assert list((real / "c-1").glob("*.pdf"))


def test_a_notebook_run_refuses_a_symlinked_client_folder(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "c-1")
    parameters = {**warm_up_parameters({}), "client_id": "c-1", "output_dir": str(out)}
    run = ("import json, sys; from pathlib import Path; "
           "from handouts.run.pool import papermill_run; "
           "from handouts.core.resources import workbook_path; "
           "papermill_run(workbook_path('connection'), Path(sys.argv[1]), json.loads(sys.argv[2]))")
    done = subprocess.run([sys.executable, "-c", run, str(tmp_path / "run.ipynb"),
                           json.dumps(parameters)], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "BuildError" in done.stderr and "symbolic link" in done.stderr
    assert not list(elsewhere.iterdir())
