"""What clients write is data: never rich markup, never terminal escapes, never HTML."""

from __future__ import annotations

import io
import shutil

import pikepdf
import pytest
from helpers import normalise, pdf_text
from test_harvest import build, fill_with_pypdf

from handouts import load_library, validate, write_handout
from handouts.plan.assemble import assemble
from handouts.records.harvest import harvest
from handouts.records.progress import report_html
from handouts.run.report import BatchResult, Outcome, print_summary
from handouts.ui.cli import main

ANSWERS = {"six-second-kiss.p1.prompt-1": "[/] closed nothing",
           "six-second-kiss.p2.prompt-1": "[bold]x and \x1b[31mred\x1b[0m \u202egnp.exe",
           "gentle-touch-moments.p1.prompt-1": "<img src=x onerror=alert(1)> \x1b]0;t\x07ok"}
RAW = ("\x1b", "\x07", "\u202e")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """An output folder where both partners' answers hold markup and escapes."""
    root = tmp_path_factory.mktemp("text")
    out = root / "output"
    blank = build(out, "2026-11-10")
    filled = fill_with_pypdf(blank, root / "filled.pdf", ANSWERS)
    assert [r.status for r in harvest([filled], out)] == ["added"]
    return out, blank


def test_markup_in_an_answer_prints_literally_in_handouts_progress(written, capsys,
                                                                   monkeypatch):
    out, _ = written
    monkeypatch.setenv("COLUMNS", "240")  # each answer on one line of the table
    assert main(["progress", "c-7", "-o", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "[/] closed nothing" in shown  # crashed rich before
    assert "[bold]x and red" in shown  # printed, not styled away
    assert not any(raw in shown for raw in RAW)


def test_answers_in_the_notebook_and_app_report_are_escaped_text(written):
    html = report_html(written[0], "c-7")
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    assert "[bold]x and red" in html
    assert not any(raw in html for raw in RAW)


def test_escapes_in_a_hostile_field_name_never_reach_the_terminal(written, tmp_path,
                                                                  capsys):
    out = tmp_path / "output"
    shutil.copytree(written[0], out)
    bad = tmp_path / "bad.pdf"
    with pikepdf.open(written[1]) as pdf:
        pdf.Root.AcroForm.Fields.append(pdf.make_indirect(pikepdf.Dictionary(
            T=pikepdf.String("six-second-kiss.p1.\x1b[2J\x1b]0;pwned\x07"),
            V=pikepdf.String("x"))))
        pdf.save(bad)
    assert main(["harvest", str(bad), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"failed: {bad}: six-second-kiss.p1.: has a form field" in err  # sequences gone
    assert not any(raw in err for raw in RAW)


def test_a_batch_summary_prints_messages_as_text():
    result = BatchResult([Outcome(1, "c-1", "failed", message="[/] \x1b[2Jgone [bold]x"),
                          Outcome(2, "c-2", "built")], seconds=1.0)
    stream = io.StringIO()
    print_summary(result, stream)
    shown = stream.getvalue()
    assert "[/] gone [bold]x" in shown and "\x1b" not in shown
    assert "1 built, 0 up to date, 1 failed" in shown
    html = result._repr_html_()
    assert "[/] gone [bold]x" in html and "\x1b" not in html


def test_names_and_notes_print_as_text_in_the_pdf(tmp_path):
    profile = validate({"client_id": "c-9", "partners": ["<b>Sam</b>", "[bold]Ana"],
                        "session_date": "2026-11-24", "rituals": ["six-second-kiss"],
                        "note": "<script>alert(1)</script> and <i>this</i> stays"})
    pdf = write_handout(assemble(profile, load_library()), tmp_path / "h.pdf")
    text = normalise(pdf_text(pdf))
    assert "<b>Sam</b>" in text and "[bold]Ana" in text
    assert "<script>alert(1)</script> and <i>this</i> stays" in text
