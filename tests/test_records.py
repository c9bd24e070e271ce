"""Records that never lose a line: concurrent harvests and builds, history in the
manifest, and forget that leaves no trace."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
from helpers import normalise, pdf_text
from test_harvest import build, fill_with_pypdf

from handouts.records.harvest import HISTORY, ISSUED
from handouts.ui.cli import main

# Each process imports everything first, then waits for the same signal file: the
# commands start at the same moment, not one interpreter start-up apart.
STARTER = """
import os, sys, time
from handouts.ui.cli import main
import handouts.run.batch, handouts.run.build, handouts.records.harvest, pikepdf  # noqa: F401
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.002)
sys.exit(main(sys.argv[2:]))
"""


def at_once(tmp_path: Path, commands: list[list[str]], timeout: float = 600):
    """Run each handouts command in its own process, all released together."""
    go = tmp_path / "go"
    processes = [subprocess.Popen([sys.executable, "-c", STARTER, str(go), *argv],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for argv in commands]
    time.sleep(3)  # every interpreter has imported handouts and waits
    go.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=timeout)
        results.append((process.returncode, out, err))
    return results


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_eight_harvests_at_once_keep_every_row_and_each_reports_its_own(tmp_path):
    out = tmp_path / "output"
    blank = build(out, "2026-11-10")
    copies = [fill_with_pypdf(blank, tmp_path / f"copy-{i}.pdf", {
        "six-second-kiss.p1.day-1": "/on", "six-second-kiss.p1.prompt-1": f"answer {i}"})
        for i in range(8)]
    shared = fill_with_pypdf(blank, tmp_path / "shared.pdf",
                             {"six-second-kiss.p2.prompt-1": "the same copy, 8 times"})
    results = at_once(tmp_path, [["harvest", str(copy), str(shared), "-o", str(out)]
                                 for copy in copies])
    for code, _, err in results:
        assert code == 0 and not err, err
    reported = [line for _, printed, _ in results for line in printed.splitlines()]
    own = [line for line in reported if "copy-" in line]
    assert len(own) == 8 and all(line.startswith("added: ") for line in own)
    mine = [line.split()[0] for line in reported if "shared.pdf" in line]
    assert sorted(mine) == ["added:"] + ["unchanged:"] * 7  # one process added it
    history = rows(out / "c-7" / HISTORY)
    assert len(history) == 9  # what was reported added is what the history holds
    answers = sorted(a["prompts"]["1"] for r in history for a in r["answers"])
    assert answers == sorted([f"answer {i}" for i in range(8)] + ["the same copy, 8 times"])
    assert main(["harvest", *map(str, copies), str(shared), "-o", str(out)]) == 0
    assert len(rows(out / "c-7" / HISTORY)) == 9  # a rerun adds nothing twice


def test_four_builds_at_once_for_one_client_keep_every_record(tmp_path):
    practice = tmp_path / "practice"
    practice.mkdir()
    out = tmp_path / "output"
    builds = [("2026-11-03", "alpha"), ("2026-11-03", "bravo"), ("2026-11-10", "charlie"),
              ("2026-11-17", "delta")]
    commands = []
    for number, (date, note) in enumerate(builds):
        profile = practice / f"p{number}.yaml"
        profile.write_text(f"client_id: c-9\npartners: [Ana, Bo]\nsession_date: '{date}'\n"
                           f"modules: []\nrituals: [six-second-kiss]\nscripts: []\n"
                           f"cards: false\nfillable: true\nnote: 'build note {note}'\n")
        commands.append(["build", str(profile), "-o", str(out)])
    for code, _, err in at_once(tmp_path, commands):
        assert code == 0, err
    folder = out / "c-9"
    issued = rows(folder / ISSUED)
    assert sorted(r["session_date"] for r in issued) == ["2026-11-03", "2026-11-10",
                                                       "2026-11-17"]
    for pdf in sorted(folder.glob("*.pdf")):
        text = normalise(pdf_text(pdf))
        record = json.loads(pdf.with_suffix(".ipynb").read_text())
        note = record["metadata"]["papermill"]["parameters"]["note"]
        assert note in text, f"{pdf.name}: the record is another build's"  # one build's pair
        with pikepdf.open(pdf) as opened:
            form_id = str(opened.docinfo["/Keywords"]).split("handouts-id-")[1][:20]
        assert form_id in {r["handout"] for r in issued}  # a filled copy can be harvested


HEADER = "client_id,partners,session_date,modules,rituals,scripts,fillable,since_last_time\n"


def test_the_manifest_records_the_history_so_since_last_time_is_rebuilt(tmp_path):
    out = tmp_path / "output"
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER + "c-7,Ana; Bo,2026-11-10,,six-second-kiss,,true,false\n"
                      "c-7,Ana; Bo,2026-11-17,,six-second-kiss,,true,true\n")
    assert main(["batch", str(roster), "-o", str(out)]) == 0
    week = out / "c-7" / "2026-11-17-connection.pdf"
    assert "No filled workbook from last time has been read back yet" in normalise(
        pdf_text(week))
    filled = fill_with_pypdf(out / "c-7" / "2026-11-10-connection.pdf", tmp_path / "f.pdf",
                             {"six-second-kiss.p1.day-2": "/on",
                              "six-second-kiss.p1.day-4": "/on"})
    assert main(["harvest", str(filled), "-o", str(out)]) == 0
    assert main(["batch", str(roster), "-o", str(out)]) == 0
    text = normalise(pdf_text(week))  # rebuilt from the new history
    assert "has been read back yet" not in text and "2 days" in text
    manifest = json.loads((out / "manifest.json").read_text())["clients"]
    history = (out / "c-7" / HISTORY).read_bytes()
    assert manifest["c-7/2026-11-17-connection"]["history"] == hashlib.sha256(
        history).hexdigest()


def test_forget_removes_every_trace_and_says_what_per_record(tmp_path, capsys):
    out = tmp_path / "output"
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER + "fa-1,Ana; Bo,2026-11-10,,six-second-kiss,,true,false\n"
                      "kb-2,Cy,2026-11-10,barometer,,,false,false\n")
    assert main(["batch", str(roster), "-o", str(out)]) == 0
    filled = fill_with_pypdf(out / "fa-1" / "2026-11-10-connection.pdf", tmp_path / "f.pdf",
                             {"six-second-kiss.p1.day-2": "/on"})
    assert main(["harvest", str(filled), "-o", str(out)]) == 0
    ended = subprocess.Popen(["true"])
    ended.wait()  # its pid is no process's any more
    leftover = out / f".tmp-{ended.pid}-x.json"  # a killed batch's manifest copy
    leftover.write_text('{"clients": {"fa-1/2026-11-10-connection": {}}}')
    capsys.readouterr()
    assert main(["forget", "fa-1", "-o", str(out), "--yes"]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith(f"{out / 'fa-1'}: removed the folder: 1 handout(s), "
                              "1 record notebook(s)")
    assert said[1] == f"{out / 'fa-1' / ISSUED}: removed 1 issued handout record(s)"
    assert said[2] == f"{out / 'fa-1' / HISTORY}: removed 1 harvested row(s)"
    assert said[3] == (f"{out / 'manifest.json'}: removed 1 entry "
                       "(fa-1/2026-11-10-connection)")
    assert said[4] == f"{out}: removed 1 temp file(s) left by killed runs"
    for path in out.rglob("*"):  # nothing anywhere names the client any more
        assert "fa-1" not in str(path.relative_to(out))
        if path.is_file():
            assert b"fa-1" not in path.read_bytes(), path
    assert "kb-2/2026-11-10-connection" in json.loads((out / "manifest.json").read_text(
    ))["clients"]


def test_forget_on_a_symlinked_client_folder_is_one_line(tmp_path, capsys):
    out = tmp_path / "output"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not a client file")
    out.mkdir()
    os.symlink(elsewhere, out / "c-7")
    assert main(["forget", "c-7", "-o", str(out), "--yes"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "c-7" in err and "symbolic link" in err
    assert (elsewhere / "keep.txt").is_file() and (out / "c-7").is_symlink()
