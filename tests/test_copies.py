"""One copy per partner (``copies: per-partner``) and private worksheets, by the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest
from helpers import fill_with_pypdf, normalise

from handouts.ui.cli import main

PROFILE = """\
client_id: c-9
partners: [Ana, Bo]
session_date: 2026-11-24
modules: [barometer]
rituals: [six-second-kiss, brakes-accelerators-map]
fillable: true
"""
PRIVATE = "brakes-accelerators-map"


@pytest.fixture
def profile(tmp_path) -> Path:
    path = tmp_path / "c-9.yaml"
    path.write_text(PROFILE)
    return path


def _pages(pdf: Path) -> list[str]:
    return [normalise(page.extract_text() or "") for page in pypdf.PdfReader(pdf).pages]


def _fields_by_page(pdf: Path) -> list[set[str]]:
    out = []
    for page in pypdf.PdfReader(pdf).pages:
        names = set()
        for annot in page.get("/Annots") or []:
            field = annot.get_object()
            if "/T" in field:
                names.add(str(field["/T"]))
        out.append(names)
    return out


@pytest.fixture
def copies(profile, tmp_path, capsys) -> list[Path]:
    out = tmp_path / "out"
    assert main(["build", str(profile), "-o", str(out), "--copies", "per-partner"]) == 0
    return [Path(line) for line in capsys.readouterr().out.split()]


def test_per_partner_copies_are_one_pdf_each_with_their_name_and_own_fields(copies):
    assert [p.name for p in copies] == ["2026-11-24-connection-partner-1.pdf",
                                        "2026-11-24-connection-partner-2.pdf"]
    fields = []
    for pdf, name, other in ((copies[0], "Ana", "Bo"), (copies[1], "Bo", "Ana")):
        pages = _pages(pdf)
        assert f"THIS COPY IS FOR {name}" in pages[0]
        worksheets = [t for t in pages if "PRACTICES TO TRY" in t]
        assert worksheets and all(f"For {name}" in t for t in worksheets)
        # the private map is in this partner's copy only: never the other's page of it
        assert any("Mapping your own brakes" in t for t in worksheets)
        assert not any(f"For {other}" in t for t in pages)
        named = set().union(*_fields_by_page(pdf))
        mine = f"p{1 if name == 'Ana' else 2}"
        assert named and all(re.fullmatch(rf"[a-z-]+\.{mine}\..+", f) for f in named), named
        fields.append(named)
    assert not fields[0] & fields[1]  # no answer can be read back as the other's


def test_both_filled_copies_are_harvested_as_each_partners_and_progress_shows_both(
        copies, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # one table row a line
    ana = fill_with_pypdf(copies[0], tmp_path / "a.pdf", {
        f"{PRIVATE}.p1.prompt-1": "Tiredness surprised me.",
        "six-second-kiss.p1.day-1": "/on", "six-second-kiss.p1.day-2": "/on"})
    bo = fill_with_pypdf(copies[1], tmp_path / "b.pdf", {
        f"{PRIVATE}.p2.prompt-1": "Noise is my brake.", "six-second-kiss.p2.day-3": "/on"})
    out = copies[0].parent.parent
    assert main(["harvest", str(ana), str(bo), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "partner 1" in said and "partner 2" in said
    assert main(["progress", "c-9", "-o", str(out)]) == 0
    shown = capsys.readouterr().out
    rows = [" ".join(line.replace("│", " ").split()) for line in shown.splitlines()]
    assert any(" 1 Which of your brakes" in r and r.endswith("Tiredness surprised me.")
               for r in rows), shown
    assert any(" 2 Which of your brakes" in r and r.endswith("Noise is my brake.")
               for r in rows), shown
    kiss = [r for r in rows if "six-second pause" in r and r.split()[-1].isdigit()]
    assert sorted(r.split()[-2:] for r in kiss) == [["1", "2"], ["2", "1"]], shown
    assert "partner 1's copy" in shown and "partner 2's copy" in shown


def test_a_shared_couple_packet_gives_each_partner_a_page_of_a_private_worksheet(
        profile, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", str(profile), "-o", str(out)]) == 0
    pdf = Path(capsys.readouterr().out.strip())
    assert pdf.name == "2026-11-24-connection.pdf"
    pages, fields = _pages(pdf), _fields_by_page(pdf)
    own = {name: [i for i, t in enumerate(pages) if f"For {name}" in t]
           for name in ("Ana", "Bo")}
    assert own["Ana"] and own["Bo"] and not set(own["Ana"]) & set(own["Bo"])
    ana, bo = own["Ana"][0], own["Bo"][0]
    assert "Mapping your own brakes" in pages[ana] and "Mapping your own brakes" in pages[bo]
    assert {f for f in fields[ana] if f.startswith(PRIVATE)} and all(
        ".p1." in f for f in fields[ana] if f.startswith(PRIVATE))
    assert all(".p2." in f for f in fields[bo] if f.startswith(PRIVATE))
    # a shared worksheet keeps one page with both partners' places
    kiss = set().union(*fields)
    assert {"six-second-kiss.p1.day-1", "six-second-kiss.p2.day-1"} <= kiss
    every = [f for page in fields for f in page]
    assert len(every) == len(set(every))  # two pages never share a field


def test_check_shows_each_copy_and_the_private_pages(profile, capsys):
    assert main(["check", str(profile)]) == 0
    shared = capsys.readouterr().out
    assert f"{PRIVATE} (a page per partner)" in shared and "partner-" not in shared
    profile.write_text(PROFILE + "copies: per-partner\n")
    assert main(["check", str(profile)]) == 0
    plan = capsys.readouterr().out
    for k in (1, 2):
        assert f"2026-11-24-connection-partner-{k}.pdf (en, couple, partner {k}'s own " \
               "copy)" in plan
    assert "a page per partner" not in plan
    assert "Ana" not in plan and "Bo" not in plan
