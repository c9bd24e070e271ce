"""Filled PDFs handed in are read within bounds; a malformed one fails alone, in one line."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pikepdf
import pytest
from test_harvest import build, fill_with_pypdf

from handouts.records import filled
from handouts.records.harvest import HISTORY, ISSUED, harvest
from handouts.ui.cli import main

NOT_OURS = "is not a handout this practice issued"
GIB = 1 << 30


@pytest.fixture(scope="module")
def handed(tmp_path_factory):
    """An output folder with last week's handout, and one good filled copy."""
    root = tmp_path_factory.mktemp("hostile")
    out = root / "output"
    blank = build(out, "2026-11-10")
    good = fill_with_pypdf(blank, root / "good.pdf", {"six-second-kiss.p1.day-1": "/on"})
    return out, blank, good


@pytest.fixture
def out(handed, tmp_path):
    target = tmp_path / "output"
    shutil.copytree(handed[0], target)
    return target


def _marker(out: Path) -> str:
    issued = json.loads((out / "c-7" / ISSUED).read_text().splitlines()[0])
    return f"handouts-form-schema-2 handouts-id-{issued['handout']}"


def crafted(path: Path, keywords: str, expands_to: int = 0, layers: int = 1,
            size: int | None = None) -> Path:
    """Write a PDF whose form lives in an object stream that inflates to *expands_to*.

    Written by hand (a cross-reference stream and an object stream, as PDF 1.5 allows),
    the padding compressed in chunks, so the test itself never holds the expanded bytes.
    """
    packer = zlib.compressobj(9)
    head = b"5 0 "
    parts = [packer.compress(head + b"<< /Fields [] >>")]
    chunk = b" " * (1 << 20)
    for _ in range(expands_to // len(chunk)):
        parts.append(packer.compress(chunk))
    body = b"".join(parts) + packer.flush()
    for _ in range(layers - 1):
        body = zlib.compress(body, 9)
    flate = b"[" + b" /FlateDecode" * layers + b" ]"
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R /AcroForm 5 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        4: b"<< /Keywords (" + keywords.encode() + b") >>",
        6: b"<< /Type /ObjStm /N 1 /First %d /Filter %s /Length %d >>\nstream\n"
           % (len(head), flate, len(body)) + body + b"\nendstream",
    }
    data = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, text in objects.items():
        offsets[number] = len(data)
        data += b"%d 0 obj\n" % number + text + b"\nendobj\n"
    offsets[7] = len(data)
    rows = b"\x00" + b"\x00" * 4 + b"\xff\xff"
    for number in range(1, 8):
        if number == 5:
            rows += b"\x02" + (6).to_bytes(4, "big") + b"\x00\x00"
        else:
            rows += b"\x01" + offsets[number].to_bytes(4, "big") + b"\x00\x00"
    data += (b"7 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [0 8] /Root 1 0 R "
             b"/Info 4 0 R /Length %d >>\nstream\n" % (size or 8, len(rows))
             + rows + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % offsets[7])
    path.write_bytes(bytes(data))
    return path


HARVEST_IN_A_FRESH_PROCESS = textwrap.dedent("""
    import json, resource, sys
    # A backstop so that a reader that does read it whole fails here, not the machine.
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    from handouts.ui.cli import main
    code = main(sys.argv[1:])
    peak = max(resource.getrusage(who).ru_maxrss
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(json.dumps({"code": code, "peak_mb": peak // 1024}))
""")


@pytest.mark.parametrize("layers", [1, 2], ids=["flate", "flate-of-flate"])
def test_a_pdf_that_expands_to_a_gigabyte_is_refused_with_little_memory(
        handed, out, tmp_path, layers):
    bomb = crafted(tmp_path / "bomb.pdf", _marker(out), expands_to=GIB, layers=layers)
    assert bomb.stat().st_size < 1_100_000  # about 1 MB in
    done = subprocess.run([sys.executable, "-c", HARVEST_IN_A_FRESH_PROCESS, "harvest",
                           str(bomb), str(handed[2]), "-o", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["code"] == 1, done.stderr[-1500:]
    assert done.stderr.splitlines() == [
        f"failed: {bomb}: {NOT_OURS} (it expands to more than 64 MB when read, far more "
        "than a handout)"]
    assert "added:" in done.stdout  # the good copy was still read
    # neither process held the gigabyte (the old reader peaked at 1070 MB; this one at
    # 200-310 MB, the interpreter, pikepdf and a few inflate buffers, with the suite beside it)
    assert report["peak_mb"] < 500, report


def test_an_upload_that_expands_to_a_gigabyte_is_refused_in_the_progress_view(out,
                                                                             tmp_path):
    from handouts.records.progress import ProgressView

    bomb = crafted(tmp_path / "bomb.pdf", _marker(out), expands_to=GIB).read_bytes()
    view = ProgressView(out)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    results = view.harvest([("bomb.pdf", bomb)])
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
    assert [r.status for r in results] == ["failed"]
    assert f"bomb.pdf: {NOT_OURS}" in view.status.value
    assert grown_mb < 100


def test_a_pdf_with_too_many_objects_is_refused(out, tmp_path):
    many = crafted(tmp_path / "many.pdf", _marker(out), size=filled.MAX_OBJECTS + 1)
    [result] = harvest([many], out)
    assert result.message == f"{many}: {NOT_OURS} (it has more than 100000 objects, far " \
                             "more than a handout)"


def _fields(pdf):
    return pdf.Root.AcroForm.Fields


def _loop(pdf):
    kid = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String("k")))
    kid.Kids = pikepdf.Array([kid])
    _fields(pdf)[0].Kids = pikepdf.Array([kid])


MALFORMED = {
    "fields as a dict": lambda pdf: setattr(pdf.Root.AcroForm, "Fields",
                                            pikepdf.Dictionary(A=1)),
    "fields as a number": lambda pdf: setattr(pdf.Root.AcroForm, "Fields", 5),
    "no AcroForm": lambda pdf: pdf.Root.__delitem__("/AcroForm"),
    "AcroForm as a number": lambda pdf: setattr(pdf.Root, "AcroForm", 3),
    "a field without /T": lambda pdf: _fields(pdf).append(
        pdf.make_indirect(pikepdf.Dictionary(V=pikepdf.String("x")))),
    "/T as a number": lambda pdf: _fields(pdf).append(
        pdf.make_indirect(pikepdf.Dictionary(T=5, V=pikepdf.String("x")))),
    "/Kids as a number": lambda pdf: setattr(_fields(pdf)[0], "Kids", 7),
    "a loop in /Kids": _loop,
    "a field that is a number": lambda pdf: _fields(pdf).append(4),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_form_is_not_ours_and_the_harvest_goes_on(handed, out, tmp_path,
                                                              capsys, case):
    bad = tmp_path / "bad.pdf"
    with pikepdf.open(handed[2]) as pdf:
        MALFORMED[case](pdf)
        pdf.save(bad)
    code = main(["harvest", str(bad), str(handed[2]), "-o", str(out)])
    shown = capsys.readouterr()
    assert code == 1
    [line] = shown.err.splitlines()
    assert line.startswith(f"failed: {bad}: {NOT_OURS} (")
    assert f"added: {handed[2]} -> c-7" in shown.out
    assert len((out / "c-7" / HISTORY).read_text().splitlines()) == 1


def test_a_pdf_that_takes_too_long_is_stopped(handed, out, monkeypatch):
    monkeypatch.setattr(filled, "SECONDS", 0.01)
    [result] = harvest([handed[2]], out)
    assert result.status == "failed"
    assert "took more than 0.01 s to read" in result.message
    assert not (out / "c-7" / HISTORY).exists()


def test_a_file_larger_than_a_handout_is_not_read(out, tmp_path):
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.truncate(filled.MAX_BYTES + 1)  # sparse: no disk used
    [result] = harvest([big], out)
    assert result.message == f"{big}: PDF is larger than 26 MB; it is not read"
