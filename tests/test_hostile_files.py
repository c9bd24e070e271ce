"""Practice files, profiles, rosters, logos and PDFs must be regular files of sane size,
and an error names the file, row and field, never what the file holds."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from test_harvest import build, fill_with_pypdf

from handouts.ui.cli import main

GOOD = ("client_id: c-1\npartners: [Noor]\nsession_date: 2026-11-24\n"
        "rituals: [six-second-kiss]\n")
NOT_REGULAR = "is not a regular {what} (a folder, device or pipe); give a file"


def _cap_memory() -> None:
    # A backstop: a reader that does read /dev/zero fails in the child, not the machine.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def handouts(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the installed CLI; a read that hangs fails the test after 60 s."""
    return subprocess.run([sys.executable, "-m", "handouts", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False,
                          preexec_fn=_cap_memory)


def _special(tmp_path: Path, kind: str, name: str) -> Path:
    if kind == "/dev/zero":
        return Path("/dev/zero")
    path = tmp_path / name
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
@pytest.mark.parametrize("role", ["practice file", "profile"])
def test_a_pipe_or_device_given_as_a_practice_file_or_profile_fails_at_once(
        tmp_path, kind, role):
    special = _special(tmp_path, kind, "practice.yaml" if role == "practice file"
                       else "client.yaml")
    profile = special
    if role == "practice file":
        profile = tmp_path / "client.yaml"
        profile.write_text(GOOD + f"practice: {special}\n")
    done = handouts("build", str(profile), "-o", "out", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"error: {special}: "
                                        + NOT_REGULAR.format(what="file")]


def test_a_pipe_given_as_a_roster_or_a_roster_client_fails_at_once(tmp_path):
    roster = _special(tmp_path, "fifo", "roster.csv")
    done = handouts("batch", str(roster), "-o", "out", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"error: {roster}: "
                                        + NOT_REGULAR.format(what="roster file")]
    pipe = _special(tmp_path, "fifo", "noor.yaml")
    (tmp_path / "roster.yaml").write_text(f"clients:\n  - {pipe.name}\n")
    done = handouts("batch", "roster.yaml", "-o", "out", cwd=tmp_path)
    assert done.returncode == 1
    assert f"{pipe}: " + NOT_REGULAR.format(what="file") in done.stderr


def test_a_pipe_or_a_huge_file_as_a_logo_fails_at_once(tmp_path):
    logo = _special(tmp_path, "fifo", "logo.png")
    (tmp_path / "practice.yaml").write_text("practice_logo: logo.png\n")
    (tmp_path / "client.yaml").write_text(GOOD)
    done = handouts("build", "client.yaml", "-o", "out", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {logo}: practice_logo: " + NOT_REGULAR.format(what="logo file")]
    logo.unlink()
    with logo.open("wb") as handle:
        handle.truncate(6_000_000)  # sparse: no disk used
    done = handouts("build", "client.yaml", "-o", "out", cwd=tmp_path)
    assert done.stderr.splitlines() == [
        f"error: {logo}: practice_logo: logo file is larger than 5000 kB; it is not read"]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.pdf"))


def test_a_pipe_handed_in_to_harvest_fails_alone_and_at_once(tmp_path):
    out = tmp_path / "output"
    blank = build(out, "2026-11-10")
    good = fill_with_pypdf(blank, tmp_path / "good.pdf", {"six-second-kiss.p1.day-1": "/on"})
    pipe = _special(tmp_path, "fifo", "filled.pdf")
    done = handouts("harvest", str(pipe), str(good), "-o", str(out), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"failed: {pipe}: " + NOT_REGULAR.format(what="PDF")]
    assert f"added: {good} -> c-7" in done.stdout


PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
          "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
NOTE = "Sam disclosed: an affair in March\nworry: she may leave him\n"


def _roster_cases(tmp_path: Path) -> dict[str, tuple[Path, str, tuple[str, ...]]]:
    """Rosters that reach files they should not, each with what must never be shown."""
    (tmp_path / "notes.yaml").write_text(NOTE)
    (tmp_path / "broken.yaml").write_text('private: "Sam told me about\n  the affair\n')
    cases = {
        "a password file as a CSV roster": ("passwd.csv", PASSWD, ("root", "/bin/bash")),
        "a private note as a client profile": (
            "notes-roster.yaml", "clients:\n  - notes.yaml\n", ("Sam", "affair")),
        "a private note as a practice file": (
            "practice-roster.yaml",
            "clients:\n  - {client_id: c-1, partners: [N], session_date: 2026-11-24, "
            "practice: notes.yaml}\n", ("Sam", "affair")),
        "a note that is not even YAML": (
            "broken-roster.yaml", "clients:\n  - broken.yaml\n", ("Sam", "affair")),
        "a partner cell that cannot be read": (
            "partners.csv", "client_id,partners,session_date\n"
            'c-1,"Alex (they/them; Sam (sh",2026-11-24\n', ("Alex", "Sam")),
        "a date that is a sentence": (
            "dates.csv", "client_id,partners,session_date\n"
            "c-1,Noor,after Sam's affair came out\n", ("Sam", "affair")),
        "a tick that is a sentence": (
            "ticks.csv", "client_id,partners,session_date,large_print\n"
            "c-1,Noor,2026-11-24,Sam said no\n", ("Sam",)),
    }
    return {case: (tmp_path / name, text, secrets)
            for case, (name, text, secrets) in cases.items()}


@pytest.mark.parametrize("case", ["a password file as a CSV roster",
                                  "a private note as a client profile",
                                  "a private note as a practice file",
                                  "a note that is not even YAML",
                                  "a partner cell that cannot be read",
                                  "a date that is a sentence",
                                  "a tick that is a sentence"])
def test_a_roster_error_names_the_file_never_its_contents(tmp_path, capsys, case):
    roster, text, secrets = _roster_cases(tmp_path)[case]
    roster.write_text(text)
    assert main(["batch", str(roster), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert str(roster) in err
    for secret in secrets:
        assert secret not in err.replace(str(tmp_path), "")


def test_a_pipe_in_the_practice_library_fails_at_once(tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    pipe = _special(library, "fifo", "our-module.md")
    done = handouts("check", "--practice-library", str(library), cwd=tmp_path)
    assert done.returncode == 1
    assert f"{pipe}: " + NOT_REGULAR.format(what="module") in done.stderr.splitlines()
