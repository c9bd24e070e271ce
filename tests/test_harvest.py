"""Filled handouts read back: harvest, history, progress, 'Since last time', forget."""

from __future__ import annotations

import ctypes
import io
import json
import shutil
import stat
from pathlib import Path

import pikepdf
import pytest
from helpers import fill_with_pypdf, normalise, pdf_text

from handouts import load_library, validate, write_handout
from handouts.core.files import output_paths, private_dir
from handouts.core.resources import workbook_path
from handouts.plan.assemble import assemble
from handouts.records.harvest import HISTORY, harvest, load_history
from handouts.records.progress import practice_rows, reflections
from handouts.ui.cli import main

CLIENT = {"client_id": "c-7", "partners": ["Ana", "Bo"], "fillable": True,
          "rituals": ["six-second-kiss", "gentle-touch-moments"]}


def build(out: Path, date: str, **options) -> Path:
    profile = validate({**CLIENT, "session_date": date, **options})
    path = output_paths(out, profile, "connection")[0]
    private_dir(path.parent)
    return write_handout(assemble(profile, load_library()), path)


def fill_with_pdfium(src: Path, dst: Path, texts: dict[str, str], ticks: set[str]) -> Path:
    """Fill as a viewer built on PDFium does: click the boxes, type into the spaces."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as c

    pdf = pdfium.PdfDocument(str(src))
    pdf.init_forms()
    form = pdf.formenv
    for page in pdf:
        raw = page.raw
        for j in range(c.FPDFPage_GetAnnotCount(raw)):
            annot = c.FPDFPage_GetAnnot(raw, j)
            size = c.FPDFAnnot_GetFormFieldName(form, annot, None, 0)
            buf = (ctypes.c_ushort * max(1, size // 2))()
            c.FPDFAnnot_GetFormFieldName(form, annot, buf, size)
            name = bytes(buf).decode("utf-16-le").rstrip("\x00")
            rect = c.FS_RECTF()
            c.FPDFAnnot_GetRect(annot, rect)
            x, y = (rect.left + rect.right) / 2, (rect.top + rect.bottom) / 2
            if name in ticks:
                c.FORM_OnMouseMove(form, raw, 0, x, y)
                c.FORM_OnLButtonDown(form, raw, 0, x, y)
                c.FORM_OnLButtonUp(form, raw, 0, x, y)
            elif name in texts:
                c.FORM_SetFocusedAnnot(form, annot)
                encoded = (texts[name] + "\x00").encode("utf-16-le")
                c.FORM_ReplaceSelection(form, raw, (ctypes.c_ushort * (len(encoded) // 2))
                                        .from_buffer_copy(encoded))
                c.FORM_ForceToKillFocus(form)
            c.FPDFPage_CloseAnnot(annot)
    pdf.save(str(dst))
    return dst


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """Last week's handout, and one filled copy per partner (pypdf and PDFium)."""
    root = tmp_path_factory.mktemp("harvest")
    out = root / "output"
    blank = build(out, "2026-11-10")
    ana = fill_with_pypdf(blank, root / "ana.pdf", {
        "six-second-kiss.p1.day-1": "/on", "six-second-kiss.p1.day-3": "/on",
        "six-second-kiss.p1.prompt-1": "It felt warm.",
        "gentle-touch-moments.p1.extra-1.item-1.choice-4": "/on"})
    bo = fill_with_pdfium(blank, root / "bo.pdf",
                          {"six-second-kiss.p2.prompt-1": "Más calma, más risa."},
                          {"six-second-kiss.p2.day-2", "six-second-kiss.p2.day-5",
                           "six-second-kiss.p2.day-6"})
    return out, blank, ana, bo


@pytest.fixture
def out(week, tmp_path):
    """A fresh copy of the output folder, nothing harvested yet."""
    target = tmp_path / "output"
    shutil.copytree(week[0], target)
    return target


def test_both_partners_copies_are_kept_attributed_and_idempotent(week, out):
    _, _, ana, bo = week
    first = harvest([ana, bo], out)
    assert [(r.status, r.message) for r in first] == [("added", "partner 1"),
                                                       ("added", "partner 2")]
    history = out / "c-7" / HISTORY
    before = history.read_bytes()
    again = harvest([bo, ana], out)
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    assert history.read_bytes() == before
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    records = [json.loads(line) for line in before.decode().splitlines()]
    answers = {(a["module"], a["partner"]): a for r in records for a in r["answers"]}
    assert answers[("six-second-kiss", 1)]["days"] == [1, 3]
    assert answers[("six-second-kiss", 1)]["prompts"] == {"1": "It felt warm."}
    assert answers[("six-second-kiss", 2)]["days"] == [2, 5, 6]  # ticked in PDFium
    assert answers[("six-second-kiss", 2)]["prompts"] == {"1": "Más calma, más risa."}
    assert answers[("gentle-touch-moments", 1)]["choices"] == [
        {"extra": 1, "item": 1, "choice": 4}]  # "not for me" for holding hands
    for name in ("Ana", "Bo"):  # the history holds what the forms held, not names
        assert name not in before.decode()


def test_progress_counts_days_per_ritual_and_partner_and_draws_the_chart(week, out,
                                                                          tmp_path, capsys):
    harvest(week[2:], out)
    issued, history = load_history(out, "c-7")
    rows = {(r.ritual, r.partner): r.days for r in practice_rows(issued, history)}
    # Ana answered the touch table but ticked no day: 0 days, still shown.
    assert rows == {("six-second-kiss", 1): 2, ("six-second-kiss", 2): 3,
                    ("gentle-touch-moments", 1): 0}
    kiss = issued[0]["rituals"][0]
    assert ("2026-11-10", kiss["title"], 1, kiss["prompts"][0], "It felt warm.") in \
        reflections(issued, history)
    chart = tmp_path / "chart.png"
    assert main(["progress", "c-7", "-o", str(out), "--chart", str(chart)]) == 0
    shown = capsys.readouterr().out
    assert kiss["title"] in shown and "It felt warm." in shown
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 5000


def test_a_file_that_is_not_ours_fails_alone_with_one_line(week, out, tmp_path, capsys):
    stranger = tmp_path / "other.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(stranger)
    code = main(["harvest", str(stranger), str(week[2]), "-o", str(out)])
    err = capsys.readouterr()
    assert code == 1
    assert f"failed: {stranger}: is not a handout made by this tool" in err.err
    assert "added" in err.out  # the good file was still read
    assert len(err.err.strip().splitlines()) == 1


def _tamper(src: Path, dst: Path, change) -> Path:
    with pikepdf.open(src) as pdf:
        change(pdf)
        pdf.save(dst)
    return dst


def _field(pdf, name):
    return next(f for f in pdf.Root.AcroForm.Fields if str(f.get("/T")) == name)


HOSTILE = {
    "huge value": (lambda pdf: setattr(_field(pdf, "six-second-kiss.p1.prompt-1"), "V",
                                       pikepdf.String("x" * 200_000)), "characters long"),
    "wrong type": (lambda pdf: setattr(_field(pdf, "six-second-kiss.p1.day-1"), "V",
                                       pikepdf.Array([1, 2])), "tick box holds something"),
    "text as a dict": (lambda pdf: setattr(_field(pdf, "six-second-kiss.p1.prompt-1"), "V",
                                           pikepdf.Dictionary(A=1)), "other than text"),
    "thousands of fields": (lambda pdf: pdf.Root.AcroForm.Fields.extend(
        [pdf.make_indirect(pikepdf.Dictionary(T=f"f{i}", V=pikepdf.String("x")))
         for i in range(4000)]), "more than 3000 form fields"),
    "a field it never had": (lambda pdf: pdf.Root.AcroForm.Fields.append(
        pdf.make_indirect(pikepdf.Dictionary(T="evil.p1.prompt-1", V=pikepdf.String("x")))),
        "a form field this handout never had"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_pdfs_fail_that_file_alone(week, out, tmp_path, case):
    change, message = HOSTILE[case]
    bad = _tamper(week[2], tmp_path / "bad.pdf", change)
    results = harvest([bad, week[3]], out)
    assert results[0].status == "failed" and message in results[0].message, results[0]
    assert str(bad) in results[0].message
    assert results[1].status == "added"
    assert "x" * 1000 not in (out / "c-7" / HISTORY).read_text()


def test_scripts_in_a_pdf_are_never_run(week, out, tmp_path):
    canary = tmp_path / "ran"

    def add_scripts(pdf):
        script = pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                    JS=pikepdf.String(f"app.launchURL('file://{canary}')"))
        pdf.Root.OpenAction = script
        _field(pdf, "six-second-kiss.p1.prompt-1").AA = pikepdf.Dictionary(K=script)

    scripted = _tamper(week[2], tmp_path / "scripted.pdf", add_scripts)
    assert harvest([scripted], out)[0].status == "added"
    assert not canary.exists()


def test_a_protected_pdf_asks_for_its_password(tmp_path, monkeypatch, capsys):
    out = tmp_path / "output"
    locked = build(out, "2026-11-10", password="tide-7-lantern")
    assert main(["harvest", str(locked), "-o", str(out)]) == 1
    assert "password-protected: give the password with --password-env" in capsys.readouterr().err
    monkeypatch.setenv("PDF_PW", "wrong")
    assert main(["harvest", str(locked), "-o", str(out), "--password-env", "PDF_PW"]) == 1
    assert "the password given does not open it" in capsys.readouterr().err
    monkeypatch.setenv("PDF_PW", "tide-7-lantern")
    assert main(["harvest", str(locked), "-o", str(out), "--password-env", "PDF_PW"]) == 0


def test_the_next_handout_remembers_only_when_asked(week, out):
    harvest(week[2:], out)
    quote = "We laughed during the kiss on Tuesday."
    remembered = pdf_text(build(out, "2026-11-17", since_last_time=True, quote=quote))
    text = normalise(remembered)
    assert "Since last time" in text and quote in text
    six = load_library().get("six-second-kiss").title
    line = next(normalise(ln) for ln in remembered.splitlines() if normalise(six) in
                normalise(ln) and "days" in ln)
    assert "2 days" in line and "3 days" in line  # Ana 2, Bo 3
    for private in ("It felt warm.", "Más calma"):  # reflections stay out unless quoted
        assert private not in text
    plain = normalise(pdf_text(build(out, "2026-11-24")))
    assert "Since last time" not in plain


def test_forget_asks_then_removes_the_client(week, out, capsys, monkeypatch):
    harvest(week[2:], out)
    folder = out / "c-7"
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["forget", "c-7", "-o", str(out)]) == 130  # no answer: nothing removed
    assert folder.is_dir()
    assert main(["forget", "c-7", "-o", str(out), "--yes"]) == 0
    assert not folder.exists()
    assert main(["forget", "../c-7", "-o", str(out), "--yes"]) == 1
    assert "is not a client id" in capsys.readouterr().err


def test_files_picked_in_the_progress_view_are_read_from_memory(week, out):
    from handouts.records.progress import ProgressView

    _, _, ana, bo = week
    view = ProgressView(out)
    results = view.harvest([("ana.pdf", ana.read_bytes()), ("bo.pdf", bo.read_bytes()),
                            ("notes.pdf", b"%PDF-1.4 not really")])
    assert [r.status for r in results] == ["added", "added", "failed"]
    assert "notes.pdf" in results[2].message  # the one bad file, named, fails alone
    assert "BytesIO" not in results[2].message  # and the reason reads as a sentence
    shown = view.status.value
    assert "added: ana.pdf → c-7 (partner 1)" in shown and "notes.pdf" in shown
    assert view.client_id == "c-7"  # the report follows the client just read
    report = view.report.value
    assert "data:image/png;base64," in report and "It felt warm." in report
    assert "Ana" not in report and "partner 2" in report  # no names unless given
    issued, history = load_history(out, "c-7")
    assert {a["partner"] for r in history for a in r["answers"]} == {1, 2}
    assert not [p for p in out.rglob("*.pdf") if p.name != week[1].name]  # nothing kept
    view.set_client("c-7", ["Ana", "Bo"])
    assert "Ana" in view.report.value and "Bo" in view.report.value


def test_the_progress_workbook_under_papermill_shows_the_report(week, out, tmp_path):
    import subprocess
    import sys

    harvest(week[2:], out)
    profile = tmp_path / "c-7.yaml"
    profile.write_text("client_id: c-7\npartners: [Ana, Bo]\nsession_date: 2026-11-10\n")
    papermill = Path(sys.executable).with_name("papermill")
    done = subprocess.run([str(papermill), str(workbook_path("progress")), "run.ipynb",
                           "-r", "client_id", "c-7", "-p", "output_dir", str(out),
                           "-p", "profile", str(profile), "--no-progress-bar"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    shown = (tmp_path / "run.ipynb").read_text()
    assert "Days practised" in shown and "It felt warm." in shown
    assert "data:image/png;base64," in shown and "Ana" in shown
    assert stat.S_IMODE(out.joinpath("c-7", HISTORY).stat().st_mode) == 0o600
