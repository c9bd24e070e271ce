"""The command line: build, demo, library, check, and bad profiles."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import normalise, pdf_text, write_profile

from handouts.ui.cli import main

GOOD = """\
practice: ../practice.yaml
client_id: cli-0007
partners:
  - name: Noor
  - name: Ezra
    pronouns: he/him
session_date: 2026-12-05
modules: [everyday-eroticism]
rituals: [love-maps-check-in]
scripts: [repair-after-missed-connection]
note: A short note.
"""


def test_build_writes_pdf_and_record_privately(client_dir, tmp_path, capsys):
    profile = write_profile(client_dir / "clients", GOOD)
    out = tmp_path / "out"
    assert main(["build", str(profile), "-o", str(out)]) == 0
    pdf = out / "cli-0007" / "2026-12-05-connection.pdf"
    record = pdf.with_suffix(".ipynb")
    assert capsys.readouterr().out.strip() == str(pdf)
    assert pdf.is_file() and record.is_file()
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert stat.S_IMODE(pdf.parent.stat().st_mode) == 0o700
    text = normalise(pdf_text(pdf))
    assert "Noor" in text and "Ezra" in text and "Harbor Light Couples Therapy" in text
    from handouts import load_library

    title = load_library().get("love-maps-check-in").for_reader("couple").title
    assert normalise(title) in text
    # no client name in any file name
    for path in out.rglob("*"):
        assert "Noor" not in path.name and "Ezra" not in path.name


def test_demo_builds_every_example_for_its_reader(tmp_path, capsys, examples):
    from handouts import load_profile

    assert main(["demo", "-o", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    profiles = [load_profile(p) for p in sorted((examples / "clients").glob("*.yaml"))]
    assert {p.reader for p in profiles} == {"couple", "individual", "group"}
    editions = [e for p in profiles for e in p.editions()]
    assert {e.language for e in editions} == {"en", "es"}
    assert len(printed) == len(editions)  # one line per PDF: a bilingual client has two
    for path, edition in zip(printed, editions, strict=True):
        assert Path(path).parent == tmp_path / edition.client_id
        text = pdf_text(Path(path))
        assert all(name in text for name in edition.names), path


def test_library_json_lists_every_module(capsys):
    assert main(["library", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    kinds = {r["kind"] for r in rows}
    assert kinds == {"article", "worksheet", "script"}
    assert {"id", "kind", "title", "minutes", "language"} <= set(rows[0])
    assert any(r["id"] == "six-second-kiss" for r in rows)


def test_library_table(capsys):
    assert main(["library"]) == 0
    out = capsys.readouterr().out
    assert "six-second-kiss" in out and "rituals" in out


def test_check_passes_on_the_examples(examples, capsys):
    profiles = sorted(str(p) for p in (examples / "clients").glob("*.yaml"))
    assert main(["check", *profiles]) == 0
    assert "ok" in capsys.readouterr().out


BAD = [
    (GOOD.replace("[everyday-eroticism]", "[everyday-erotica]"),
     "modules[0]: unknown article id 'everyday-erotica' (valid: "),
    (GOOD.replace("[love-maps-check-in]", "[barometer]"),
     "rituals[0]: unknown worksheet id 'barometer' (valid: appreciation-ritual,"),
    (GOOD + "large_print: sometimes\n", "large_print: 'sometimes' is not true or false"),
    (GOOD + "paper: legal\n", "paper: 'legal' is not allowed (valid: a4, letter)"),
    (GOOD.replace("client_id: cli-0007\n", ""), "client_id: required field is missing"),
    (GOOD + "favourite_colour: blue\n", "unknown parameter 'favourite_colour' (valid:"),
    (GOOD.replace("  - name: Noor\n", "  - name: [Noor\n"), "malformed YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_profiles_fail_clearly_and_leave_no_pdf(client_dir, tmp_path, capsys, text, message):
    profile = write_profile(client_dir / "clients", text)
    out = tmp_path / "out"
    assert main(["build", str(profile), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(profile) in err
    assert message in err
    if "unknown article id" in message:  # the valid ids are listed
        assert "everyday-eroticism" in err and "barometer" in err
    assert not list(tmp_path.rglob("*.pdf"))
    assert main(["check", str(profile)]) == 1
    assert message in capsys.readouterr().err


def test_console_script_and_module_entry_points():
    result = subprocess.run([sys.executable, "-m", "handouts", "--help"],
                            capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("build", "demo", "library", "check"):
        assert command in result.stdout


def test_check_lists_every_problem_in_every_file(tmp_path, capsys):
    first = tmp_path / "first.yaml"
    first.write_text("client_id: c-1\npartners: [Ana]\nsession_date: 2026-12-01\n"
                     "modules: [barometer]\npaper: legal\nlanguage: fr\n", encoding="utf-8")
    second = tmp_path / "second.yaml"
    second.write_text("client_id: c-2\npartners: [Bo]\nsession_date: 2026-12-01\n"
                      "modules: [barometer]\nlangauge: en\ncolour: red\n", encoding="utf-8")
    library = tmp_path / "library"
    library.mkdir()
    (library / "bad.md").write_text("---\nid: Bad Id\nkind: essay\ntitle: T\nsummary: S\n"
                                    "minutes: 3\ntags: [a]\nsources: []\nversion: '1'\n"
                                    "language: en\n---\nbody\n", encoding="utf-8")
    code = main(["check", str(first), str(second), "--practice-library", str(library)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{first}: paper: 'legal' is not allowed (valid: a4, letter)" in err
    assert f"{first}: language: 'fr' is not allowed (valid: en, es)" in err
    assert "unknown parameter 'langauge' (did you mean 'language'?)" in err
    assert "unknown parameter 'colour'" in err
    assert "bad.md: id: 'Bad Id' must be a slug" in err
    assert "bad.md: kind: 'essay' is not allowed" in err


def test_check_names_every_bad_field_and_unknown_id_of_one_profile_at_once(tmp_path, capsys):
    profile = tmp_path / "c.yaml"
    profile.write_text("client_id: c-1\npartners: [Ana]\nsession_date: 2026-13-40\n"
                       "fillable: maybe\npaper: b5\nmodules: [barometer, nope-article]\n"
                       "rituals: [nope-ritual]\nscripts: [nope-script]\nflags: [nope-flag]\n",
                       encoding="utf-8")
    assert main(["check", str(profile)]) == 1
    err = capsys.readouterr().err.splitlines()
    for expected in ("session_date: '2026-13-40' is not a date",
                     "fillable: 'maybe' is not true or false", "paper: 'b5' is not allowed",
                     "modules[1]: unknown article id 'nope-article'",
                     "rituals[0]: unknown worksheet id 'nope-ritual'",
                     "scripts[0]: unknown script id 'nope-script'",
                     "flags[0]: unknown flag 'nope-flag'"):
        assert sum(f"{profile}: {expected}" in line for line in err) == 1, (expected, err)
    assert len(err) == 7


def test_check_names_every_unknown_id_of_a_valid_profile(tmp_path, capsys):
    profile = tmp_path / "c.yaml"
    profile.write_text("client_id: c-1\npartners: [Ana]\nsession_date: 2026-12-01\n"
                       "topics: [nope-topic]\nmodules: [nope-article]\n"
                       "rituals: [nope-ritual]\n", encoding="utf-8")
    assert main(["check", str(profile)]) == 1
    err = capsys.readouterr().err
    assert "topics[0]: unknown topic 'nope-topic'" in err
    assert "modules[0]: unknown article id 'nope-article'" in err
    assert "rituals[0]: unknown worksheet id 'nope-ritual'" in err


def test_a_language_without_modules_is_one_line(capsys):
    code = main(["library", "--language", "de"])
    assert code != 0
    assert "Traceback" not in capsys.readouterr().err


def test_cleaning_removes_only_dead_processes_temp_files(tmp_path):
    import os
    import subprocess
    import sys

    from handouts.core.files import remove_stale_temps

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    mine = tmp_path / f".tmp-{os.getpid()}-abc.pdf"   # a live worker's file in progress
    theirs = tmp_path / f".tmp-{dead}-abc.pdf"        # left by a process that is gone
    mine.write_bytes(b"live")
    theirs.write_bytes(b"dead")
    remove_stale_temps(tmp_path)
    assert mine.exists() and not theirs.exists()
