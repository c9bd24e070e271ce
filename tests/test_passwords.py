"""Password protection through the doors people use: build, batch, profiles."""

from __future__ import annotations

import hashlib
import io
import shutil
import sys

import pikepdf
import pytest
from pikepdf.models.encryption import EncryptionMethod

from handouts.cli import main

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
