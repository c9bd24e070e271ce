"""The therapist's edition (``edition: therapist``): a session guide that never goes to the
client, and the facilitation notes every library module carries for it."""

from __future__ import annotations

import json
import re

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
