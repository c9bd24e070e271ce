"""One profile, one PDF, whatever the door: build, batch and papermill's own CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from handouts.core.resources import workbook_path
from handouts.ui.cli import main

PAPERMILL = str(Path(sys.executable).with_name("papermill"))
PROFILE = """\
practice: practice.yaml
client_id: "00123"
partners:
  - name: "No"
    pronouns: they/them
  - name: Kai
session_date: 2026-12-03
rituals: [six-second-kiss]
scripts: [declining-warmly]
note: Keep it light.
"""


def papermill(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PAPERMILL, str(workbook_path("connection")), "run.ipynb", *args],
                          cwd=folder, capture_output=True, text=True, timeout=600,
                          check=False)


def test_the_same_profile_gives_the_same_pdf_through_every_door(tmp_path, examples):
    shutil.copy(examples / "practice.yaml", tmp_path / "practice.yaml")
    shutil.copy(examples / "logo.svg", tmp_path / "logo.svg")
    # The practice says A4 and names a practice no workbook default knows.
    practice = (tmp_path / "practice.yaml").read_text().replace("paper: letter", "paper: a4")
    (tmp_path / "practice.yaml").write_text(
        practice.replace("Harbor Light Couples Therapy", "Riverbend Relationship Clinic"))
    profile = tmp_path / "client.yaml"
    profile.write_text(PROFILE, encoding="utf-8")
    pdfs = {}

    out = tmp_path / "build"
    assert main(["build", str(profile), "-o", str(out)]) == 0
    pdfs["handouts build"] = out / "00123" / "2026-12-03-connection.pdf"

    roster = tmp_path / "roster.csv"
    roster.write_text("profile\nclient.yaml\n", encoding="utf-8")
    out = tmp_path / "batch"
    assert main(["batch", str(roster), "-o", str(out), "-j", "1"]) == 0
    pdfs["handouts batch"] = out / "00123" / "2026-12-03-connection.pdf"

    for door, args in {
        "papermill -f": ["-f", "client.yaml", "-p", "output_dir", "pm-f"],
        "papermill -y": ["-y", PROFILE, "-p", "output_dir", "pm-y"],
        "papermill --engine handouts": ["-f", "client.yaml", "--engine", "handouts",
                                        "-p", "output_dir", "pm-e"],
    }.items():
        result = papermill(tmp_path, *args)
        assert result.returncode == 0, f"{door}: {result.stderr[-2000:]}"
        pdfs[door] = tmp_path / args[args.index("output_dir") + 1] / "00123" / \
            "2026-12-03-connection.pdf"

    reference = pdfs["handouts build"].read_bytes()
    from helpers import pdf_text

    text = pdf_text(pdfs["handouts build"])
    assert "Riverbend Relationship Clinic" in text and "No" in text
    for door, pdf in pdfs.items():
        assert pdf.read_bytes() == reference, f"{door} made a different PDF"


def test_misspelled_and_converted_parameters_fail_under_papermill(tmp_path):
    result = papermill(tmp_path, "-p", "langauge", "es", "-p", "output_dir", "out")
    assert result.returncode != 0
    assert "unknown parameter 'langauge' (did you mean 'language'?)" in result.stderr + \
        result.stdout
    result = papermill(tmp_path, "-p", "client_id", "00123", "-p", "output_dir", "out")
    assert result.returncode != 0
    assert "client_id: must be text, but arrived as int 123" in result.stderr + result.stdout
    assert not list((tmp_path / "out").rglob("*.pdf"))
    result = papermill(tmp_path, "-y", PROFILE.replace('client_id: "00123"\n', ""),
                       "-r", "client_id", "00123", "-p", "output_dir", "out",
                       "-p", "practice", "")
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((tmp_path / "out" / "00123").glob("*.pdf"))


def test_papermill_from_another_folder_takes_the_practice_beside_the_profile(tmp_path,
                                                                            examples):
    """`practice: practice.yaml` in a profile means the one beside it, as in handouts build,
    with the in-process engine and with a kernel papermill starts."""
    folder = tmp_path / "practice"
    folder.mkdir()
    shutil.copy(examples / "logo.svg", folder / "logo.svg")
    (folder / "practice.yaml").write_text((examples / "practice.yaml").read_text().replace(
        "Harbor Light Couples Therapy", "Riverbend Relationship Clinic"))
    (folder / "client.yaml").write_text(PROFILE, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Another practice file where papermill runs must not be taken for the profile's own.
    (elsewhere / "practice.yaml").write_text((folder / "practice.yaml").read_text().replace(
        "Riverbend Relationship Clinic", "Decoy Clinic"))
    shutil.copy(examples / "logo.svg", elsewhere / "logo.svg")
    from helpers import pdf_text

    for door, extra in (("engine", ["--engine", "handouts"]), ("kernel", [])):
        result = papermill(elsewhere, "-f", str(folder / "client.yaml"),
                           "-p", "output_dir", door, *extra)
        assert result.returncode == 0, f"{door}: {result.stderr[-2000:]}"
        pdf = elsewhere / door / "00123" / "2026-12-03-connection.pdf"
        text = pdf_text(pdf)
        assert "Riverbend Relationship Clinic" in text and "Decoy" not in text, door


def test_papermill_with_a_practice_that_is_nowhere_says_where_it_looked(tmp_path):
    (tmp_path / "client.yaml").write_text(
        PROFILE.replace("practice: practice.yaml", "practice: nowhere.yaml"), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = papermill(elsewhere, "-f", str(tmp_path / "client.yaml"),
                       "--engine", "handouts")
    assert result.returncode != 0
    said = result.stderr + result.stdout
    assert (f"parameters: practice: no file 'nowhere.yaml' in {elsewhere}, nor beside a "
            "papermill -f file") in said
    assert "pass -p practice /full/path/practice.yaml" in said
    assert not list(elsewhere.rglob("*.pdf"))
