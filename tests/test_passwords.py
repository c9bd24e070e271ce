"""Password protection through the doors people use: build, batch, profiles."""

from __future__ import annotations

import hashlib
import io
import shutil
import sys
from pathlib import Path

import pikepdf
import pytest
from pikepdf.models.encryption import EncryptionMethod

from handouts.ui.cli import main

SECRET = "correct-horse-battery"


def encrypted_with(pdf, password) -> bool:
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(pdf)
    with pikepdf.open(pdf, password=password) as doc:
        info = doc.encryption
        assert info.R == 6  # AES-256, PDF 2.0 security handler; never RC4
        assert info.stream_method == EncryptionMethod.aesv3
        return len(doc.pages) > 1


def no_secret_in(folder) -> None:
    digest = hashlib.sha256(SECRET.encode()).hexdigest()
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix != ".pdf":
            text = path.read_bytes()
            assert SECRET.encode() not in text, path
            assert digest.encode() not in text, path


def test_build_with_a_password_from_the_environment(tmp_path, examples, monkeypatch, capsys):
    monkeypatch.setenv("CLIENT_PDF_PASSWORD", SECRET)
    out = tmp_path / "out"
    code = main(["build", str(examples / "clients" / "sample-individual.yaml"), "-o", str(out),
                 "--password-env", "CLIENT_PDF_PASSWORD"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    pdf = out / "sample-individual" / "2026-11-26-connection.pdf"
    assert encrypted_with(pdf, SECRET)
    record = pdf.with_suffix(".ipynb")
    assert record.is_file()  # the preview opened the protected PDF: the build succeeded
    no_secret_in(out)
    assert SECRET not in printed.out + printed.err


def test_ask_password_prompts_without_echo(tmp_path, examples, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{SECRET}\n{SECRET}\n"))
    out = tmp_path / "out"
    assert main(["build", str(examples / "clients" / "sample-individual.yaml"), "-o", str(out),
                 "--ask-password"]) == 0
    assert encrypted_with(out / "sample-individual" / "2026-11-26-connection.pdf", SECRET)
    no_secret_in(out)


def test_a_missing_password_variable_is_one_line(tmp_path, examples, capsys):
    code = main(["build", str(examples / "clients" / "sample-individual.yaml"),
                 "-o", str(tmp_path / "out"), "--password-env", "NO_SUCH_VARIABLE_HERE"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "NO_SUCH_VARIABLE_HERE is not set" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.pdf"))


def test_a_password_in_the_profile_is_never_recorded(tmp_path, examples):
    shutil.copy(examples / "practice.yaml", tmp_path / "practice.yaml")
    shutil.copy(examples / "logo.svg", tmp_path / "logo.svg")
    profile = tmp_path / "client.yaml"
    profile.write_text("client_id: pw-1\npartners: [Ari, Bo]\nsession_date: 2026-12-01\n"
                       f"rituals: [six-second-kiss]\npassword: {SECRET}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["build", str(profile), "-o", str(out)]) == 0
    assert encrypted_with(out / "pw-1" / "2026-12-01-connection.pdf", SECRET)
    no_secret_in(out)


def test_batch_with_a_password_skips_when_unchanged_and_rebuilds_when_changed(
        tmp_path, examples, monkeypatch):
    shutil.copy(examples / "practice.yaml", tmp_path / "practice.yaml")
    shutil.copy(examples / "logo.svg", tmp_path / "logo.svg")
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,partners,session_date,rituals\n"
                      "pb-1,Ari,2026-12-01,six-second-kiss\n"
                      "pb-2,Bo; Cy,2026-12-01,six-second-kiss\n", encoding="utf-8")
    out = tmp_path / "out"
    monkeypatch.setenv("PDFPW", SECRET)
    argv = ["batch", str(roster), "-o", str(out), "--password-env", "PDFPW"]
    assert main(argv) == 0
    for client in ("pb-1", "pb-2"):
        assert encrypted_with(out / client / "2026-12-01-connection.pdf", SECRET)
    first = (out / "pb-1" / "2026-12-01-connection.pdf").read_bytes()
    assert main(argv) == 0  # unchanged: up to date, not failed
    assert (out / "pb-1" / "2026-12-01-connection.pdf").read_bytes() == first
    no_secret_in(out)
    monkeypatch.setenv("PDFPW", "another-password")
    assert main(argv) == 0  # a new password is a new input: rebuilt
    assert encrypted_with(out / "pb-1" / "2026-12-01-connection.pdf", "another-password")
    assert (out / ".manifest-key").stat().st_mode & 0o777 == 0o600


def _papermill(*args, cwd, env=None, watch=False):
    """Run papermill's own CLI; return (process result, every descendant's command line)."""
    import os
    import subprocess
    import time

    command = [str(Path(sys.executable).with_name("papermill")), *map(str, args)]
    process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cmdlines: set[bytes] = set()
    while watch and process.poll() is None:  # the kernel and anything it starts
        cmdlines.update(_cmdlines(process.pid))
        time.sleep(0.05)
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(command, process.returncode, out, err), cmdlines


def _cmdlines(pid: int) -> set[bytes]:
    """Return the command lines of *pid*'s descendants (gone ones are skipped)."""
    found: set[bytes] = set()
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in children:
        try:
            found.add(Path(f"/proc/{child}/cmdline").read_bytes())
        except OSError:
            continue
        found |= _cmdlines(int(child))
    return found


def _client_file(tmp_path, examples, extra: str = "") -> Path:
    shutil.copy(examples / "practice.yaml", tmp_path / "practice.yaml")
    shutil.copy(examples / "logo.svg", tmp_path / "logo.svg")
    profile = tmp_path / "client.yaml"
    profile.write_text("client_id: pm-1\npartners: [Ari, Bo]\nsession_date: 2026-12-01\n"
                       f"rituals: [six-second-kiss]\npractice: practice.yaml\n{extra}",
                       encoding="utf-8")
    return profile


@pytest.mark.parametrize("how", ["-p", "-y", "-f"])
def test_papermill_refuses_a_password_parameter_before_writing_anything(
        tmp_path, examples, how):
    from handouts.core.resources import workbook_path

    profile = _client_file(tmp_path, examples, f"password: {SECRET}\n" if how == "-f" else "")
    given = {"-p": ["-p", "password", SECRET], "-y": ["-y", f"password: {SECRET}"],
             "-f": []}[how]
    result, _ = _papermill(workbook_path("connection"), "run.ipynb", "-f", profile, *given,
                           "-p", "output_dir", "out", cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0
    assert "password" in lines[-1] and "HANDOUTS_PASSWORD" in lines[-1]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run.ipynb").exists()  # papermill wrote no notebook at all
    assert not (tmp_path / "out").exists()  # and no PDF
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != profile:
            assert SECRET.encode() not in path.read_bytes(), path


def test_papermill_takes_the_password_from_the_environment(tmp_path, examples):
    pytest.importorskip("ipykernel")
    from handouts.core.resources import workbook_path

    profile = _client_file(tmp_path, examples)
    result, cmdlines = _papermill(workbook_path("connection"), "run.ipynb", "-f", profile,
                                  "-p", "output_dir", "out", cwd=tmp_path,
                                  env={"HANDOUTS_PASSWORD": SECRET}, watch=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert encrypted_with(tmp_path / "out" / "pm-1" / "2026-12-01-connection.pdf", SECRET)
    assert any(b"ipykernel" in c for c in cmdlines)  # the kernel was watched
    assert not any(SECRET.encode() in c for c in cmdlines)
    assert SECRET.encode() not in (tmp_path / "run.ipynb").read_bytes()
    assert SECRET not in result.stdout + result.stderr
    no_secret_in(tmp_path / "out")


def test_papermill_api_refuses_a_password_parameter(tmp_path, examples):
    import papermill

    from handouts.core.resources import workbook_path
    from handouts.errors import ProfileError

    with pytest.raises(ProfileError, match="HANDOUTS_PASSWORD") as refused:
        papermill.execute_notebook(str(workbook_path("connection")), str(tmp_path / "r.ipynb"),
                                   parameters={"client_id": "pm-2", "password": SECRET})
    assert refused.value.field == "password" and SECRET not in str(refused.value)
    assert not (tmp_path / "r.ipynb").exists()


def test_a_password_typed_into_the_parameters_cell_is_refused(tmp_path, monkeypatch):
    import handouts
    from handouts.errors import ProfileError

    monkeypatch.chdir(tmp_path)
    namespace = {"client_id": "pm-3", "partners": ["Ari"], "password": SECRET}
    with pytest.raises(ProfileError, match="never holds the PDF password"):
        handouts.start(namespace, "connection")


@pytest.mark.parametrize("door", ["build", "build --kernel", "batch"])
def test_a_password_build_puts_the_password_in_no_process_title(tmp_path, examples, door):
    import os
    import subprocess
    import time

    if "--kernel" in door:
        pytest.importorskip("ipykernel")
    given = _client_file(tmp_path, examples)
    if door == "batch":
        given = tmp_path / "roster.csv"
        given.write_text("client_id,partners,session_date,rituals\n"
                         "pm-1,Ari; Bo,2026-12-01,six-second-kiss\n", encoding="utf-8")
    command, *options = door.split()
    process = subprocess.Popen(
        [sys.executable, "-m", "handouts", command, str(given), "-o", "out",
         "--password-env", "PDFPW", *options], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PDFPW": SECRET})
    cmdlines: set[bytes] = set()
    while process.poll() is None:
        cmdlines.update(_cmdlines(process.pid))
        time.sleep(0.05)
    out, err = process.communicate()
    assert process.returncode == 0, err[-2000:]
    assert cmdlines  # a worker or a kernel ran the workbook
    assert not any(SECRET.encode() in c for c in cmdlines)
    assert SECRET not in out + err
    assert encrypted_with(tmp_path / "out" / "pm-1" / "2026-12-01-connection.pdf", SECRET)
    no_secret_in(tmp_path / "out")
