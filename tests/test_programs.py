"""Programs: a fictional couple walked week by week from the CLI, gates, the tracker, the
weekly check-in in `handouts progress`, calendar reminders, and broken program files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import icalendar
import pypdf
import pytest
from helpers import fill_with_pypdf, normalise, pdf_text, write_profile
from test_records import at_once, rows

from handouts.core.resources import library_dir
from handouts.records.programs import PROGRAM
from handouts.ui.cli import main

COUPLE = """\
practice: ../practice.yaml
client_id: walk-0033
partners:
  - name: Ines
  - name: Teo
session_date: 2026-03-02
program: sensate-focus
week: 1
fillable: true
calendar: true
"""


def _titles(pdf: Path) -> set[str]:
    """Return the module titles a packet's contents (on its cover) list."""
    cover = normalise(pypdf.PdfReader(pdf).pages[0].extract_text())
    return {t for t in ("Sensate focus: touch with nothing to prove",
                        "Sensate focus, one step at a time",
                        "A six-second pause to greet each other",
                        "Agreeing how anyone can start, pause or say no",
                        "When closeness suddenly feels wrong") if t in cover}


def test_a_couple_walks_through_a_program_week_by_week(client_dir, tmp_path, capsys):
    out = tmp_path / "out"
    profile = write_profile(client_dir / "clients", COUPLE)
    folder = out / "walk-0033"

    # week 1 builds, with a check-in for each partner and a calendar beside it
    assert main(["build", str(profile), "-o", str(out)]) == 0
    week1 = folder / "2026-03-02-sensate-focus-week-1.pdf"
    assert capsys.readouterr().out.strip() == str(week1)
    fields = pypdf.PdfReader(week1).get_fields()
    for k in (1, 2):
        assert f"checkin.p{k}.word" in fields
        assert {f"checkin.p{k}.close-{n}" for n in range(1, 6)} <= set(fields)
    text = normalise(pdf_text(week1))
    assert "WEEK 1 OF 7" in text.upper() and "Weekly check-in" in text
    assert "Your weeks so far" not in text  # nothing before week 1

    # the .ics parses, has one event a day of the week, and holds only neutral text
    ics = week1.with_suffix(".ics")
    events = icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert [e.decoded("dtstart").date().isoformat() for e in events] == [
        f"2026-03-0{d}" for d in range(2, 9)]
    assert {str(e["summary"]) for e in events} == {"Practice time"}
    assert all(not any(k in e for k in ("DESCRIPTION", "LOCATION", "ATTENDEE"))
               for e in events)
    raw = ics.read_text(encoding="utf-8").lower()
    assert not any(word in raw for word in ("ines", "teo", "sensate", "kiss", "walk-0033"))

    # week 1 comes back filled: days ticked and a check-in from each partner
    filled = fill_with_pypdf(week1, tmp_path / "filled.pdf", {
        "six-second-kiss.p1.day-1": "/on", "six-second-kiss.p1.day-4": "/on",
        "six-second-kiss.p2.day-2": "/on",
        "checkin.p1.close-4": "/on", "checkin.p1.word": "hopeful",
        "checkin.p2.ease-2": "/on", "checkin.p2.close-3": "/on",
        "checkin.p2.close-5": "/on"})  # two numbers ticked: no answer, not a guess
    assert main(["harvest", str(filled), "-o", str(out)]) == 0
    capsys.readouterr()

    # week 2 waits for its gate: one line with what to confirm and the command
    profile.write_text(COUPLE.replace("week: 1", "week: 2"))
    assert main(["build", str(profile), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "waits for the therapist to confirm that the couple has agreed a pause word" in err
    assert f"handouts program advance walk-0033 -o {out}" in err
    assert not (folder / "2026-03-02-sensate-focus-week-2.pdf").exists()

    assert main(["program", "advance", "walk-0033", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith("confirmed: week 2 of sensate-focus")
    assert main(["program", "advance", "walk-0033", "-o", str(out)]) == 0  # twice: one row
    assert capsys.readouterr().out.startswith("already confirmed")
    assert len(rows(folder / PROGRAM)) == 1

    # week 2 builds (--week on the command line), with other pages than week 1
    profile.write_text(COUPLE)
    assert main(["build", str(profile), "-o", str(out), "--week", "2"]) == 0
    week2 = Path(capsys.readouterr().out.strip())
    assert week2.name == "2026-03-02-sensate-focus-week-2.pdf"
    assert _titles(week1) == {"Sensate focus: touch with nothing to prove",
                              "A six-second pause to greet each other",
                              "Agreeing how anyone can start, pause or say no"}
    assert _titles(week2) == {"Sensate focus, one step at a time",
                              "When closeness suddenly feels wrong"}
    # the tracker counts what week 1's workbook came back with, and whose check-in
    page = normalise(pypdf.PdfReader(week2).pages[1].extract_text())
    assert "Your weeks so far" in page and "Week 1 · Getting ready" in page
    assert "A six-second pause to greet each other 2 days 1 day" in page
    assert "Weekly check-in ✓ ✓" in page
    assert "hopeful" not in page  # the tracker counts; it quotes no one

    # `handouts progress` shows each partner's check-in per week
    assert main(["progress", "walk-0033", "-o", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "Weekly check-in" in shown and "hopeful" in shown
    assert "●●●●○ 4" in shown and "●●○○○ 2" in shown
    assert "●●●○○" not in shown and "●●●●●" not in shown  # partner 2's double tick


def test_program_list_json_names_every_program_its_weeks_and_gates(capsys):
    assert main(["program", "list", "--json"]) == 0
    listed = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert set(listed) == {"sensate-focus", "mismatched-desire", "after-an-affair-first-weeks"}
    assert 6 <= listed["sensate-focus"]["weeks"] <= 8
    assert 4 <= listed["mismatched-desire"]["weeks"] <= 6
    assert [g["opens_week"] for g in listed["sensate-focus"]["gates"]] == [2, 4, 6]
    assert listed["after-an-affair-first-weeks"]["title"]["es"].startswith("Las primeras")


def test_the_affair_flags_route_every_week_of_a_program(client_dir, capsys):
    profile = write_profile(client_dir / "clients", COUPLE.replace(
        "sensate-focus", "after-an-affair-first-weeks").replace("week: 1", "week: 4")
        + "flags: [affair-crisis]\n")
    assert main(["check", str(profile)]) == 0
    shown = capsys.readouterr().out
    assert "left out: appreciation-ritual" in shown and "left out: love-maps-check-in" in shown
    assert "pages: safety, after-an-affair, emotional-safety" in shown


@pytest.mark.parametrize(("edit", "field"), [
    (lambda t: t.replace("week: 2\n", "week: two\n", 1), "weeks[1].week"),
    (lambda t: t.replace("    rituals: [sensate-focus-steps]\n",
                         "    rituals: [sensate-focus-stepz]\n", 1), "weeks[1].rituals[0]"),
])
def test_a_broken_program_file_is_one_line_naming_the_file_and_field(
        tmp_path, capsys, edit, field):
    practice = tmp_path / "mine"
    (practice / "programs").mkdir(parents=True)
    text = (library_dir() / "programs" / "sensate-focus.yaml").read_text(encoding="utf-8")
    broken = practice / "programs" / "sensate-focus.yaml"
    broken.write_text(edit(text), encoding="utf-8")
    assert main(["program", "list", "--practice-library", str(practice)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {broken}: {field}: ")
    if "rituals" in field:
        assert "(valid: " in err and "sensate-focus-steps" in err


def test_two_advances_at_once_lose_nothing(tmp_path):
    out = tmp_path / "out"
    base = ["program", "advance", "walk-0034", "-o", str(out), "--program", "sensate-focus"]
    results = at_once(tmp_path, [[*base, "--week", "2"], [*base, "--week", "4"],
                                 [*base, "--week", "6"], [*base, "--week", "6"]])
    assert [code for code, _, _ in results] == [0, 0, 0, 0], results
    recorded = rows(out / "walk-0034" / PROGRAM)
    assert sorted(r["opens_week"] for r in recorded) == [2, 4, 6]
    shutil.rmtree(out)


def test_the_form_picks_a_program_week_and_confirms_its_gate(tmp_path):
    pytest.importorskip("ipywidgets")
    from handouts.ui.form import Form
    from handouts.ui.lab import init_folder

    folder = tmp_path / "practice"
    init_folder(folder)
    form = Form(folder)
    form.client_id.value = "form-0033"
    form.partner_rows[0][0].value = "Ines"
    form.add_partner("Teo")
    form.session_date.value = "2026-03-09"
    form.programs.program.value = "mismatched-desire"
    form.programs.week.value = 3
    assert form.programs.confirm.layout.display != "none"  # week 3 has a gate
    assert form.build() is None  # not confirmed: the status says what to confirm
    assert "waits for the therapist to confirm that both partners have agreed" \
        in form.status.value
    form.programs.confirm.value = True
    pdf = form.build()
    assert pdf is not None and pdf.name == "2026-03-09-mismatched-desire-week-3.pdf"
    assert "confirmed: week 3 of mismatched-desire" in form.status.value
    assert form.programs.confirm.value is False  # given for one build, never saved
    saved = (folder / "clients" / "form-0033.yaml").read_text()
    assert "program: mismatched-desire" in saved and "week: 3" in saved
    assert "confirm" not in saved
    form.open(folder / "clients" / "form-0033.yaml")
    assert (form.programs.program.value, form.programs.week.value) == ("mismatched-desire", 3)


def test_papermill_builds_a_program_week_once_its_gate_is_confirmed(client_dir, tmp_path):
    import subprocess
    import sys

    from handouts.core.resources import workbook_path

    papermill = str(Path(sys.executable).with_name("papermill"))
    profile = write_profile(client_dir / "clients", COUPLE.replace("walk-0033", "pm-0033")
                            .replace("practice: ../practice.yaml\n", ""))
    out = tmp_path / "out"

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([papermill, str(workbook_path("connection")), "run.ipynb",
                               "--no-progress-bar", "-f", str(profile), "-p", "week", "2",
                               "-p", "output_dir", str(out), *extra], cwd=tmp_path,
                              capture_output=True, text=True, timeout=300, check=False)

    waiting = run()
    assert waiting.returncode != 0
    assert "week 2 of sensate-focus waits for the therapist to confirm" in waiting.stderr
    assert not list(out.rglob("*.pdf"))
    built = run("-p", "confirm_gate", "True")
    assert built.returncode == 0, built.stderr[-2000:]
    assert [p.name for p in out.rglob("*.pdf")] == ["2026-03-02-sensate-focus-week-2.pdf"]
    assert [r["opens_week"] for r in rows(out / "pm-0033" / PROGRAM)] == [2]


def test_a_program_week_as_a_web_page_has_the_check_in_and_is_harvested(
        client_dir, tmp_path, capsys):
    out = tmp_path / "out"
    profile = write_profile(client_dir / "clients", COUPLE.replace("walk-0033", "web-0033"))
    assert main(["build", str(profile), "-o", str(out), "--format", "html"]) == 0
    page = Path(capsys.readouterr().out.strip())
    assert page.name == "2026-03-02-sensate-focus-week-1.html"
    html = page.read_text(encoding="utf-8")
    assert "Week 1 of 7" in html and "Weekly check-in" in html
    names = set(re.findall(r'<input type="(?:checkbox|text)"[^>]*name="(checkin\.[^"]+)"', html))
    assert names == {f"checkin.p{k}.{q}-{n}" for k in (1, 2) for q in ("close", "ease")
                     for n in range(1, 6)} | {"checkin.p1.word", "checkin.p2.word"}
    assert 'for="checkin.p1.word"' in html  # each field has a label a screen reader reads
    assert page.with_suffix(".ics").is_file()

    handout = re.search(r'data-handout="([0-9a-f]{20})"', html)[1]
    saved = tmp_path / "answers.json"
    saved.write_text(json.dumps({
        "format": "handouts-answers", "version": 1, "form_schema": "2", "handout": handout,
        "fields": {"checkin.p1.close-2": True, "checkin.p1.word": "tired",
                   "checkin.p2.ease-5": True, "six-second-kiss.p2.day-3": True}}))
    assert main(["harvest", str(saved), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["progress", "web-0033", "-o", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "Weekly check-in" in shown and "tired" in shown
    assert "●●○○○ 2" in shown and "●●●●● 5" in shown
