"""The therapist's edition (``edition: therapist``): a session guide that never goes to the
client, and the facilitation notes every library module carries for it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pypdf
import pytest
from helpers import couple_form, normalise, pdf_text, write_profile

from handouts.content.library import load_library
from handouts.content.parse import parse_module_text
from handouts.errors import LibraryError
from handouts.ui.cli import main

# A flag's id, and a word the module's "when not to use it" notes must then use.
FLAG_WORDS = {
    "en": {"violence-or-fear": "violence", "coercion-concern": "coercion",
           "affair-crisis": "affair", "ongoing-affair": "affair",
           "trauma-flooding": "trauma", "unassessed-pain": "assess"},
    "es": {"violence-or-fear": "violencia", "coercion-concern": "coerci",
           "affair-crisis": "infidelidad", "ongoing-affair": "infidelidad",
           "trauma-flooding": "trauma", "unassessed-pain": "evalu"},
}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", normalise(text).replace("\u2026", "..."))


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_module_has_notes_that_agree_with_the_flags(language):
    library = load_library(language=language)
    chosen = [m for m in library.modules.values() if m.kind != "matter"]
    assert len(chosen) >= 31
    for module in chosen:
        notes = module.facilitation
        if notes is None and language != "en":
            continue  # the guide prints the English notes, and says so
        assert notes is not None, f"{module.id}: no facilitation block (docs/library-format.md)"
        assert notes.introduce and notes.obstacles and notes.watch_for and notes.not_when, \
            module.id
        cautions = " ".join(notes.not_when).lower()
        for flag in module.contraindications:
            word = FLAG_WORDS[language].get(flag)
            assert word is None or word in cautions, \
                f"{module.id}: left out under {flag}, but its not_when never says so"
    if language == "en":
        assert all(m.facilitation is not None for m in chosen)


def test_the_notes_are_checked_like_every_other_field():
    module = """---
id: our-walk
kind: article
title: Our walk
summary: A walk.
minutes: 5
tags: [walk]
sources: []
version: "1.0"
language: en
facilitation:
  introduce: Suggest a walk.
  pitfalls: [Rain.]
---
Walk together.
"""
    with pytest.raises(LibraryError) as caught:
        parse_module_text(module, "our-walk.md")
    assert "facilitation.pitfalls" in str(caught.value)
    assert "(valid: introduce, not_when, obstacles, watch_for)" in str(caught.value)
    matter = module.replace("kind: article", "kind: matter").replace("id: our-walk",
                                                                     "id: safety")
    with pytest.raises(LibraryError, match="matter page has no facilitation"):
        parse_module_text(matter.replace("  pitfalls: [Rain.]\n", ""), "safety.md")


def _notes_of(ids, language="en"):
    library = load_library(language=language)
    return {i: library.modules[i].facilitation for i in ids}


def test_the_demo_couples_guide_is_for_the_therapist_only(client_dir, examples, tmp_path,
                                                         capsys):
    text = (examples / "clients" / "sample-couple.yaml").read_text(encoding="utf-8")
    profile = write_profile(client_dir / "clients", text.replace("fillable: false",
                                                                 "fillable: true"))
    out = tmp_path / "out"
    assert main(["build", str(profile), "-o", str(out), "--edition", "therapist"]) == 0
    guide = out / "sample-couple" / "2026-11-24-connection-therapist-guide.pdf"
    assert capsys.readouterr().out.split() == [str(guide)]
    assert main(["build", str(profile), "-o", str(out)]) == 0
    handout = out / "sample-couple" / "2026-11-24-connection.pdf"
    assert capsys.readouterr().out.split() == [str(handout)]

    reader = pypdf.PdfReader(guide)
    pages = [normalise(page.extract_text()) for page in reader.pages]
    assert "Therapist's guide — not for the client" in pages[0]
    assert all("Therapist's guide — not for the client" in page for page in pages[1:])
    assert "/AcroForm" not in reader.trailer["/Root"]  # fillable: true, and still no fields
    assert len(pypdf.PdfReader(handout).get_fields() or {}) > 20  # the handout has them
    meta = reader.metadata
    assert meta.title == "Therapist\u2019s guide \u2014 not for the client"
    assert meta.get("/Keywords") == "handouts-therapist-guide"
    assert not any(name in str(value) for value in meta.values() for name in ("Alex", "Sam"))

    ids = ["emotional-safety", "opening-conversation", "everyday-eroticism", "barometer",
           "body-shuts-down", "six-second-kiss", "love-maps-check-in", "appreciation-ritual",
           "gentle-touch-moments", "missing-closeness", "wanting-without-pressure",
           "responding-with-care", "declining-warmly", "repair-after-missed-connection"]
    guide_text, handout_text = _squash(" ".join(pages)), _squash(pdf_text(handout))
    for module_id, notes in _notes_of(ids).items():
        for part in (notes.introduce, notes.obstacles[0], notes.watch_for[-1],
                     notes.not_when[0]):
            assert _squash(part[:70]) in guide_text, (module_id, part)
            assert _squash(part[:70]) not in handout_text, (module_id, part)
    assert "Howtointroduceit" not in handout_text and "Therapist'sguide" not in handout_text

    # never issued to the client, and refused by harvest in one line
    issued = [json.loads(line) for line in (guide.parent / ".issued.jsonl").read_text(
        encoding="utf-8").splitlines()]
    assert [row["file"] for row in issued] == [handout.name]
    assert main(["harvest", str(guide), "-o", str(out)]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and "therapist's guide" in errors[0] and guide.name in errors[0]


def test_a_flagged_guide_from_the_form_lists_the_flags_and_the_pages_left_out(tmp_path):
    pytest.importorskip("ipywidgets")
    folder = tmp_path / "practice"
    form = couple_form(folder, "guide-0033", ("Jordan", "Casey"), "2026-12-06",
                       "connection, after-an-affair", "affair-crisis")
    form.fillable.value = True
    form.edition.value = "therapist"
    assert form.values()["edition"] == "therapist"
    pdf = form.build()
    assert pdf is not None and pdf.name == "2026-12-06-connection-and-more-therapist-guide.pdf"
    text = normalise(pdf_text(pdf))
    squashed = _squash(text)
    assert "affair-crisis: An affair came to light recently" in text
    for module_id in ("everyday-eroticism", "six-second-kiss", "repair-after-missed-connection"):
        assert module_id in text  # each page left out, with the routing's reason
    assert _squash("In Gottman's atone-attune-attach model, closeness") in squashed
    kept = ("emotional-safety", "after-an-affair", "questions-after-an-affair")
    for notes in _notes_of(kept).values():
        assert _squash(notes.introduce[:70]) in squashed
    assert "left out: six-second-kiss" in form.status.value
    assert not (pdf.parent / ".issued.jsonl").exists()
    saved = (folder / "clients" / "guide-0033.yaml").read_text(encoding="utf-8")
    assert "edition: therapist" in saved


def test_a_guide_asked_for_as_a_web_page_stops_in_one_line_and_writes_nothing(
        examples, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["build", str(examples / "clients" / "sample-couple.yaml"), "-o", str(out),
                 "--edition", "therapist", "--format", "html"])
    errors = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(errors) == 1
    assert "format" in errors[0] and "PDF only" in errors[0] and "valid: pdf" in errors[0]
    assert not out.exists() or not any(out.rglob("*.html"))


PROGRAM_COUPLE = """\
practice: ../practice.yaml
client_id: guide-0034
partners:
  - name: Noor
  - name: Ezra
session_date: 2026-04-06
program: sensate-focus
week: 2
"""


def test_a_program_weeks_guide_says_the_week_its_gate_and_what_comes_next(
        client_dir, tmp_path, capsys):
    out = tmp_path / "out"
    profile = write_profile(client_dir / "clients", PROGRAM_COUPLE)
    folder = out / "guide-0034"
    guide = folder / "2026-04-06-sensate-focus-week-2-therapist-guide.pdf"

    # the client's week 2 waits for its gate; the guide still builds and says what for
    assert main(["build", str(profile), "-o", str(out)]) == 1
    assert "waits for the therapist to confirm" in capsys.readouterr().err
    assert main(["build", str(profile), "-o", str(out), "--edition", "therapist"]) == 0
    assert capsys.readouterr().out.split() == [str(guide)]
    text = normalise(pdf_text(guide))
    assert "Program: Sensate focus, stage by stage (sensate-focus)" in text
    assert "Week 2 of 7: Stage 1: taking turns" in text
    assert ("Waiting. Week 2 waits for you to confirm that the couple has agreed a pause "
            "word and a stop word, and any pain has been checked medically.") in text
    command = ["program", "advance", "guide-0034", "-o", str(out), "--program",
               "sensate-focus", "--week", "2"]  # the command the guide gives, word by word
    assert _squash(f"handouts {' '.join(command)}") in _squash(text)
    this_week = text[text.index("This week's practices"):text.index("What comes next week")]
    assert "Sensate focus, one step at a time (Practice, sensate-focus-steps)" in this_week
    assert "When closeness suddenly feels wrong (Conversation script" in this_week
    upcoming = text[text.index("What comes next week"):text.index("Concerns noted")]
    assert "Week 3 of 7: Stage 1, a second week" in upcoming
    assert "Small moments of welcome touch (Practice, gentle-touch-moments)" in upcoming
    assert "No gate: it can be built when you judge the time is right." in upcoming

    # confirmed: the guide says when, the client's week 2 builds, and holds none of it
    assert main(command) == 0  # nothing of the program built yet: it works all the same
    assert capsys.readouterr().out.startswith("confirmed: week 2 of sensate-focus")
    day = json.loads((folder / "program.jsonl").read_text(encoding="utf-8"))["confirmed_on"]
    assert main(["build", str(profile), "-o", str(out), "--edition", "therapist"]) == 0
    capsys.readouterr()
    text = normalise(pdf_text(guide))
    assert f"Passed. Week 2 opened on {day}, when you confirmed that the couple" in text
    assert "Waiting." not in text and "program advance" not in text
    assert main(["build", str(profile), "-o", str(out)]) == 0
    handout = Path(capsys.readouterr().out.strip())
    client_text = normalise(pdf_text(handout))
    assert "WEEK 2 OF 7" in client_text.upper() and "Weekly check-in" in client_text
    for guide_only in ("Passed.", "What comes next week", "This week's practices",
                       "confirmed that", "Therapist's guide"):
        assert guide_only not in client_text

    # week 3: the gate before week 4 is what comes next, and still waits
    profile.write_text(PROGRAM_COUPLE.replace("week: 2", "week: 3"))
    assert main(["build", str(profile), "-o", str(out), "--edition", "therapist"]) == 0
    capsys.readouterr()
    text = normalise(pdf_text(folder / "2026-04-06-sensate-focus-week-3-therapist-guide.pdf"))
    assert "Week 3 of 7: Stage 1, a second week" in text
    assert f"Passed. Week 2 opened on {day}" in text  # week 3 needs week 2's gate too
    upcoming = text[text.index("What comes next week"):text.index("Concerns noted")]
    assert "Week 4 of 7: Stage 2" in upcoming
    assert "Before it can be built, you confirm that stage 1 is done" in upcoming
