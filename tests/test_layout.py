"""Packets that read well: page fill, boxes kept whole, title sizes and the how-to-use page.

Each packet is built through the ``handouts build`` command, as a therapist builds it.
"""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest
from helpers import normalise, starts_fresh

from handouts import load_library, load_profile
from handouts.ui.cli import main

MM = 72 / 25.4
def _build(profile: Path, out: Path, capsys) -> Path:
    assert main(["build", str(profile), "-o", str(out)]) == 0
    return Path(capsys.readouterr().out.split()[0])


@pytest.fixture(scope="module")
def couple(examples, tmp_path_factory) -> Path:
    """The demo couple's packet, built by the CLI."""
    out = tmp_path_factory.mktemp("couple")
    assert main(["build", str(examples / "clients" / "sample-couple.yaml"), "-o",
                 str(out)]) == 0
    return next(out.rglob("*.pdf"))


def _body(page) -> str:
    return page.crop((0, 20 * MM, page.width, page.height - 20 * MM)).extract_text() or ""


def test_demo_couple_keeps_fewer_pages(couple):
    # 38 pages before the layout work, 35 before the denser design; the goal of 24 is not
    # reached yet (see the note in docs/layout.md), this guards what was won.
    with pdfplumber.open(couple) as pdf:
        assert len(pdf.pages) <= 31, len(pdf.pages)


def test_no_near_empty_page_except_before_a_fresh_part(couple, examples):
    names = load_profile(examples / "clients" / "sample-couple.yaml").names
    with pdfplumber.open(couple) as pdf:
        texts = [_body(p) for p in pdf.pages]
        for number, page in enumerate(pdf.pages[:-1], start=1):
            marks = [o for o in page.chars + page.rects + page.lines
                     if 20 * MM < o["top"] and o["bottom"] < page.height - 20 * MM]
            bottom = max((o["bottom"] for o in marks), default=0)
            if bottom < page.height * 0.4:
                assert starts_fresh(texts[number], names), (
                    f"page {number} is {bottom / page.height:.0%} full and page "
                    f"{number + 1} starts with {normalise(texts[number])[:60]!r}")


def test_article_titles_stand_above_their_section_headings(couple):
    lib = load_library()
    article = lib.get("barometer").for_reader("couple")
    section = next(line[3:] for line in article.body.splitlines() if line.startswith("## "))
    with pdfplumber.open(couple) as pdf:
        sizes = {}
        for page in pdf.pages[3:]:
            for line in page.extract_text_lines(return_chars=True):
                text = normalise(line["text"])
                for wanted in (article.title, section):
                    if (text and normalise(wanted).startswith(text) and len(text) > 12
                            and wanted not in sizes):
                        sizes[wanted] = max(c["size"] for c in line["chars"])
    assert set(sizes) == {article.title, section}, sizes
    assert sizes[article.title] >= 1.35 * sizes[section], sizes


@pytest.mark.parametrize("script", ["missing-closeness", "responding-with-care",
                                    "declining-warmly", "repair-after-missed-connection"])
def test_a_script_keeps_its_title_and_intro_with_its_whole_openers_card(couple, script):
    module = load_library().get(script).for_reader("couple")
    with pdfplumber.open(couple) as pdf:
        pages = [normalise(p.extract_text() or "") for p in pdf.pages[2:]]
    title = next(i for i, t in enumerate(pages) if normalise(module.title) in t)
    # the card is whole on the title's page: its heading and its last opener
    last = normalise(module.openers[-1])[:40].replace("**", "")
    assert "Ways to begin" in pages[title].split(normalise(module.title), 1)[1], script
    assert last in pages[title], (script, last)


def test_callout_boxes_that_fit_are_never_split(couple):
    lib = load_library()
    profile_scripts = ["missing-closeness", "wanting-without-pressure", "responding-with-care",
                       "declining-warmly", "repair-after-missed-connection"]
    with pdfplumber.open(couple) as pdf:
        pages = [normalise(p.extract_text() or "") for p in pdf.pages]
    pages = [t for t in pages if "Cards to cut out" not in t]  # the cards repeat an opener
    for script in profile_scripts:
        openers = [normalise(o)[:30] for o in lib.get(script).for_reader("couple").openers]
        on = {i for i, t in enumerate(pages) for o in openers if o in t}
        assert len(on) == 1, (script, on)
    # the love-maps question box and the therapist's note are whole on one page
    box = lib.get("love-maps-check-in").for_reader("couple").extras[0]
    first, last = normalise(box.items[0])[:30], normalise(box.items[-1])[:30]
    assert any(first in t and last in t for t in pages), box.title
    assert any("A note from your therapist" in t and "Robin Example" in t for t in pages)


HOW = {"en": ("Before you begin", "Your safety"), "es": ("Antes de empezar", "seguridad")}
PRACTICE_WORDS = {"en": ("practice", "write on the paper", "not now"),
                  "es": ("práctica", "escribe en el papel", "ahora no")}
SCRIPT_WORDS = {"en": ("conversation guide", "sample lines"),
                "es": ("guías para conversar", "frases de ejemplo")}
CARD_WORDS = {"en": ("cut out",), "es": ("recorta",)}


def _how_to_use(pdf: Path, language: str) -> str:
    with pdfplumber.open(pdf) as doc:
        text = normalise(" ".join(_body(p) for p in doc.pages[1:4]))
    start = text.index(HOW[language][0])
    end = text.find("Safety and choice" if language == "en" else "Lo primero, tu seguridad", start)
    return text[start:end if end > start else start + 1500].lower()


@pytest.mark.parametrize("language", ["en", "es"])
def test_how_to_use_speaks_only_of_what_the_packet_holds(tmp_path, capsys, language):
    base = ("client_id: c-7\npartners: [Ana, Bo]\nsession_date: 2026-11-24\n"
            f"language: {language}\ncards: true\n")
    readings = tmp_path / "readings.yaml"
    readings.write_text(base + "modules: [barometer, emotional-safety]\n")
    page = _how_to_use(_build(readings, tmp_path / "a", capsys), language)
    for word in PRACTICE_WORDS[language] + SCRIPT_WORDS[language] + CARD_WORDS[language]:
        assert word not in page, (word, page)
    full = tmp_path / "full.yaml"
    full.write_text(base + "modules: [barometer]\nrituals: [six-second-kiss]\n"
                    "scripts: [missing-closeness]\n")
    page = _how_to_use(_build(full, tmp_path / "b", capsys), language)
    for word in PRACTICE_WORDS[language] + SCRIPT_WORDS[language] + CARD_WORDS[language]:
        assert word in page, (word, page)
