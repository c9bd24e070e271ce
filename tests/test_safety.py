"""Hostile input and client privacy: each point of the safety brief, each with its own attack."""

from __future__ import annotations

import errno
import http.server
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pikepdf
import pytest
from helpers import normalise, pdf_text, write_profile

from handouts import (
    BuildError,
    HandoutsError,
    ProfileError,
    RenderError,
    assemble,
    load_library,
    load_profile,
    render_html,
    validate,
    write_handout,
)
from handouts.core.resources import workbook_path
from handouts.errors import BatchError
from handouts.render.pdf import render_pdf
from handouts.run.batch import run as run_batch
from handouts.run.build import build
from handouts.ui.cli import main

CANARY = "Zqxcanaryvv"
PAYLOADS = [
    '<img src="file:///etc/passwd">',
    '<link rel="attachment" href="file:///etc/hostname">',
    "{{ 7*7 }}{% raw %}x{% endraw %}",
    "</style><style>@import url(http://127.0.0.1:9/x.css);</style>",
    "url(file:///etc/passwd)",
    "[x](file:///etc/passwd) ![y](http://127.0.0.1:9/y.png)",
]


def params(**overrides):
    base = {"client_id": "safe-1", "partners": [{"name": "Avery"}],
            "session_date": "2026-12-01", "modules": ["barometer"],
            "rituals": ["six-second-kiss"], "scripts": []}
    return {**base, **overrides}


def profile_text(**fields) -> str:
    import yaml

    return yaml.safe_dump(params(**fields), allow_unicode=True)


# 1. No injection -------------------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_every_client_field_stays_text(payload, tmp_path):
    profile = validate(params(
        partners=[{"name": payload[:80], "pronouns": payload[:40]}], note=payload,
        therapist=payload, practice_name=payload, practice_contact=payload,
        crisis_lines={"en": [{"label": payload[:120], "number": payload[:200],
                              "text": payload[:200]}]},
        own_sections=[{"title": payload[:120], "text": payload, "after": "barometer"}]))
    html = render_html(assemble(profile, load_library()))
    body = html.split("<body", 1)[1]
    for dangerous in ("<img src=\"file", "<link rel", "<style>@import", "49"):
        assert dangerous not in body
    out = write_handout(assemble(profile, load_library()), tmp_path / "h.pdf")
    with pikepdf.open(out) as pdf:
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})
        assert not pdf.attachments
    # Every payload, links included, prints as its literal text.
    assert normalise(payload)[:30] in normalise(pdf_text(out))


class _Counter(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):  # noqa: N802
        type(self).hits += 1
        self.send_response(302)
        self.send_header("Location", "file:///etc/passwd")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_renderer_never_fetches_urls_or_follows_redirects():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/logo.png"
        html = render_html(assemble(validate(params()), load_library()))
        for src in (url, "file:///etc/passwd", "data:image/png;base64,iVBORw0KGgo="):
            with pytest.raises(RenderError, match="refused to fetch"):
                render_pdf(html.replace("</body>", f'<img src="{src}"></body>'))
        assert _Counter.hits == 0
    finally:
        server.shutdown()


# 2. Parameters stay what they are --------------------------------------------------

def test_workbook_without_parameters_cell_fails(tmp_path, examples):
    nb = nbformat.read(workbook_path("connection"), as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    broken = tmp_path / "connection.ipynb"
    nbformat.write(nb, broken)
    with pytest.raises(BuildError, match="needs exactly one cell tagged 'parameters'"):
        build(examples / "clients" / "sample-individual.yaml", tmp_path / "out",
              workbook=str(broken))


# 3. Bounded ------------------------------------------------------------------------

def test_huge_note_fails_with_the_field(tmp_path):
    path = write_profile(tmp_path, profile_text(note="x" * 25_000))
    with pytest.raises(ProfileError, match="note: String should have at most 20000"):
        load_profile(path)


def test_yaml_alias_bomb_is_refused(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    path = write_profile(tmp_path, bomb)
    with pytest.raises(ProfileError, match="aliases .* are not allowed"):
        load_profile(path)


def test_oversized_profile_file_is_refused(tmp_path):
    path = write_profile(tmp_path, "note: '" + "x" * 1_100_000 + "'\n")
    with pytest.raises(ProfileError, match="larger than 1000 kB"):
        load_profile(path)


def test_huge_roster_is_refused(tmp_path, examples):
    roster = tmp_path / "roster.csv"
    rows = "".join(f"r-{i},A,2026-12-01,barometer\n" for i in range(5_001))
    roster.write_text("client_id,partners,session_date,modules\n" + rows)
    with pytest.raises(BatchError, match="more than 5000 rows"):
        run_batch(roster, tmp_path / "out")


def test_pathological_markdown_note_renders_or_fails_clearly(tmp_path):
    with pytest.raises(ProfileError, match="note: .*line 1 is quoted more than 10 levels"):
        validate(params(note="> " * 3_000 + "deep"))
    note = "> " * 10 + "ten deep\n\n" + "*" * 6_000 + "\n\n" + "[" * 6_000 + " end"
    out = write_handout(assemble(validate(params(note=note)), load_library()),
                        tmp_path / "h.pdf")
    text = pdf_text(out)
    assert "ten deep" in text and "end" in text  # nothing silently dropped


def test_a_client_that_exhausts_memory_fails_alone(tmp_path, examples):
    nb = nbformat.read(workbook_path("connection"), as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if "handouts.start(" in c.source)
    nb.cells.insert(start + 1, nbformat.v4.new_code_cell(
        "if session.profile.client_id == 'm-big':\n    hog = bytearray(3 * 1024 ** 3)\n"))
    custom = tmp_path / "wb" / "connection.ipynb"
    custom.parent.mkdir()
    nbformat.write(nb, custom)
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,partners,session_date,modules\n"
                      "m-big,A,2026-12-01,barometer\nm-ok,B,2026-12-01,barometer\n")
    result = run_batch(roster, tmp_path / "out", jobs=1, workbook=str(custom))
    status = {o.client_id: o for o in result.outcomes}
    assert status["m-ok"].status == "built"
    assert status["m-big"].status == "failed"
    assert "ran out of memory" in status["m-big"].message


# 5. Nothing lost -------------------------------------------------------------------

def test_killing_a_build_leaves_the_previous_pdf(tmp_path, examples):
    handouts_bin = str(Path(sys.executable).with_name("handouts"))
    profile = examples / "clients" / "sample-individual.yaml"
    out = tmp_path / "out"
    pdf = out / "sample-individual" / "2026-11-26-connection.pdf"
    assert main(["build", str(profile), "-o", str(out)]) == 0
    previous = pdf.read_bytes()
    for delay in (0.5, 1.5, 2.5, 3.0):
        process = subprocess.Popen([handouts_bin, "build", str(profile), "-o", str(out)],
                                   start_new_session=True, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        # The same inputs give the same bytes: whatever moment the kill hit, the PDF on
        # disk is the previous one, whole, or its identical successor.
        assert pdf.read_bytes() == previous, f"killed at {delay} s"
    assert main(["build", str(profile), "-o", str(out)]) == 0
    assert not list(out.rglob(".tmp-*"))


def test_killing_a_writer_mid_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "h.pdf"
    target.write_bytes(b"%PDF previous whole file")
    # A real writer, stopped after it has written 40 MB but before it renames the file.
    script = (
        "import os, sys, time\n"
        "import handouts.core.files as f\n"
        "f.os.fsync = lambda fd: (print('written', flush=True), time.sleep(60))\n"
        f"f.atomic_write({str(target)!r}, b'x' * 40_000_000)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().strip() == "written"
    partial = list(tmp_path.glob(".tmp-*"))
    assert partial and partial[0].stat().st_size == 40_000_000  # mid-write, for real
    process.kill()
    process.wait()
    assert target.read_bytes() == b"%PDF previous whole file"
    from handouts.core.files import remove_stale_temps

    remove_stale_temps(tmp_path)  # the next run removes the dead writer's temp file
    assert not list(tmp_path.glob(".tmp-*"))


def test_disk_full_leaves_the_previous_file(tmp_path, monkeypatch):
    handout = assemble(validate(params()), load_library())
    target = write_handout(handout, tmp_path / "h.pdf")
    before = target.read_bytes()

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("handouts.core.files.os.fsync", full)
    with pytest.raises(RenderError, match="No space left on device; free some disk space"):
        write_handout(handout, target)
    assert target.read_bytes() == before
    assert not list(tmp_path.glob(".tmp-*"))


def test_unwritable_output_folder_is_one_clear_line(tmp_path, examples, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    code = main(["build", str(examples / "clients" / "sample-individual.yaml"),
                 "-o", str(blocker / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith("error: client sample-individual: output: cannot create")


# 6. Private by default -------------------------------------------------------------

def test_private_modes_whatever_the_umask(tmp_path, examples):
    handouts_bin = str(Path(sys.executable).with_name("handouts"))
    out = tmp_path / "out"
    subprocess.run([handouts_bin, "build", str(examples / "clients" / "sample-individual.yaml"),
                    "-o", str(out)], check=True, capture_output=True,
                   preexec_fn=lambda: os.umask(0))
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_canary_name_appears_nowhere_but_the_page(tmp_path, examples):
    practice = tmp_path / "p"
    practice.mkdir()
    (practice / "practice.yaml").write_text((examples / "practice.yaml").read_text())
    (practice / "logo.svg").write_text((examples / "logo.svg").read_text())
    profile = write_profile(practice, profile_text(
        client_id="canary-1", partners=[{"name": CANARY}, {"name": f"{CANARY} Two"}],
        note=f"Dear {CANARY}"))
    roster = practice / "roster.csv"
    roster.write_text("profile\nclient.yaml\n")
    out = tmp_path / "out"
    handouts_bin = str(Path(sys.executable).with_name("handouts"))
    logs = ""
    for command in (["build", str(profile), "-o", str(out), "--no-record"],
                    ["batch", str(roster), "-o", str(out / "b"), "--no-record"]):
        result = subprocess.run([handouts_bin, *command], capture_output=True, text=True,
                                check=True)
        logs += result.stdout + result.stderr
    assert CANARY not in logs
    pdfs = list(out.rglob("*.pdf"))
    assert len(pdfs) == 2
    for path in out.rglob("*"):
        assert CANARY.lower() not in path.name.lower()
        assert path.suffix != ".ipynb"  # --no-record keeps no notebook
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes()  # metadata, XMP, manifest
    for pdf in pdfs:
        assert CANARY in pdf_text(pdf)  # the client still gets a handout with the name
        with pikepdf.open(pdf) as doc:
            meta = str(dict(doc.docinfo))
            with doc.open_metadata() as xmp:
                meta += str(xmp)
        assert CANARY not in meta


def test_errors_never_repeat_a_name(tmp_path):
    path = write_profile(tmp_path, profile_text(client_id=f"{CANARY} Smith",
                                                partners=[{"name": CANARY * 10}]))
    with pytest.raises(HandoutsError) as info:
        load_profile(path)
    assert CANARY not in str(info.value)
    path = write_profile(tmp_path, profile_text(partners=[{"name": CANARY * 10}]))
    with pytest.raises(HandoutsError) as info:
        load_profile(path)
    assert "partners.0.name" in str(info.value) and CANARY not in str(info.value)


def test_password_protection_is_aes_256(tmp_path):
    out = write_handout(assemble(validate(params(password="correct horse")), load_library()),
                        tmp_path / "h.pdf")
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(out)
    with pikepdf.open(out, password="correct horse") as pdf:
        assert pdf.is_encrypted
        assert pdf.encryption.R == 6
        assert pdf.encryption.bits == 256
        assert str(pdf.encryption.stream_method) == "EncryptionMethod.aesv3"
        assert str(pdf.encryption.string_method) == "EncryptionMethod.aesv3"
    assert b"/RC4" not in out.read_bytes()


# 7. Reproducible -------------------------------------------------------------------

def test_same_inputs_give_byte_identical_pdfs(tmp_path, examples):
    profile = examples / "clients" / "sample-individual.yaml"
    first = build(profile, tmp_path / "a", record=False).read_bytes()
    time.sleep(1.1)
    second = build(profile, tmp_path / "b", record=False).read_bytes()
    assert first == second


# 8. Faults -------------------------------------------------------------------------

@pytest.mark.parametrize("engine", [[], ["--kernel"]], ids=["warm-engine", "jupyter-kernel"])
def test_cell_error_is_one_line_naming_the_client(tmp_path, examples, capsys, engine):
    nb = nbformat.read(workbook_path("connection"), as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("raise RuntimeError('cell broke')"))
    custom = tmp_path / "wb" / "connection.ipynb"
    custom.parent.mkdir()
    nbformat.write(nb, custom)
    code = main(["build", str(examples / "clients" / "sample-individual.yaml"), "-o",
                 str(tmp_path / "out"), "-w", str(custom), *engine])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert "client sample-individual" in err and "RuntimeError: cell broke" in err
    assert not list((tmp_path / "out").rglob("*.pdf"))


def late_failing_workbook(tmp_path: Path) -> Path:
    """The connection workbook with a last cell that fails after the PDF is written."""
    import nbformat
    from nbformat.v4 import new_code_cell

    nb = nbformat.read(workbook_path("connection"), as_version=4)
    nb.cells.append(new_code_cell("raise RuntimeError('the preview stage broke')"))
    path = tmp_path / "late" / "connection.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("previous", [False, True], ids=["no-previous", "previous-pdf"])
def test_a_build_failing_after_the_pdf_leaves_no_new_file(tmp_path, examples, capsys,
                                                           previous):
    shutil.copytree(examples, tmp_path / "ex")
    profile = tmp_path / "ex" / "clients" / "sample-individual.yaml"
    out = tmp_path / "out"
    pdf = out / "sample-individual" / "2026-11-26-connection.pdf"
    issued = pdf.parent / ".issued.jsonl"  # what harvest matches filled copies against
    if previous:  # an earlier, different PDF of the same client and session
        earlier = profile.with_name("earlier.yaml")
        earlier.write_text(profile.read_text().replace("[appreciation-ritual]",
                                                       "[six-second-kiss]"))
        assert main(["build", str(earlier), "-o", str(out), "--no-record"]) == 0
        before, issued_before = pdf.read_bytes(), issued.read_bytes()
    code = main(["build", str(profile), "-o", str(out),
                 "-w", str(late_failing_workbook(tmp_path))])
    err = capsys.readouterr().err
    assert code == 1 and "the preview stage broke" in err
    if previous:
        assert pdf.read_bytes() == before  # the previous PDF, untouched
        assert issued.read_bytes() == issued_before  # and no id of a handout never given
    else:
        assert not pdf.exists() and not issued.exists()
    assert not pdf.with_suffix(".ipynb").exists()  # no record of a failed build
    assert not list(out.rglob(".tmp-*"))
