"""Concerns route the packet (issue 27): what each flag removes, brings in and splits.

Each flag is tried through the door a therapist uses (`handouts build`, `handouts check`,
`handouts batch`) on a couple who chose every topic, and the PDFs are read back: which
titles are present and absent, the crisis lines, whose names appear in which packet, the
file names and the metadata, and what the build said it left out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
import yaml
from helpers import couple_form, normalise, pdf_text, write_profile

from handouts.content.flags import parse_flags
from handouts.content.library import load_library
from handouts.core.resources import workbook_path
from handouts.errors import LibraryError
from handouts.plan.routing import flag_table
from handouts.ui.cli import main

LIBRARY = load_library()
ALL_TOPICS = [t for t in LIBRARY.topics if t != "staying-safe"]
TITLES = {m.id: normalise(m.for_reader("couple").title) for m in LIBRARY.modules.values()
          if m.kind != "matter" and "couple" in m.audiences}
# Topic words that must never be on a discreet cover, header or in its metadata.
TELLING = ("connection", "desire", "sex", "affair", "violence", "abuse", "trauma",
           "intimacy", "couples", "therapy", "safety")


def _couple(folder: Path, flags: list[str], **extra: object) -> Path:
    data = {
        "practice": str(folder / "practice.yaml"),
        "client_id": "c-7301",
        "partners": [{"name": "Quinlan", "pronouns": "he/him"}, {"name": "Marisela"}],
        "session_date": "2026-12-01",
        "topics": ALL_TOPICS,
        "flags": flags,
        "note": "Quinlan and Marisela, thank you both for coming in.",
        **extra,
    }
    return write_profile(folder, yaml.safe_dump(data, sort_keys=False))


def _build(profile: Path, out: Path, capsys, *args: str) -> tuple[list[Path], str]:
    assert main(["build", str(profile), "-o", str(out), "--no-record", *args]) == 0
    captured = capsys.readouterr()
    pdfs = [Path(line) for line in captured.out.splitlines() if line.endswith(".pdf")]
    assert pdfs and all(p.is_file() for p in pdfs)
    return pdfs, captured.err


def _pages(pdf: Path) -> list[str]:
    return [normalise(p.extract_text() or "") for p in pypdf.PdfReader(str(pdf)).pages]


@pytest.mark.parametrize("flag", ["violence-or-fear", "coercion-concern"])
def test_fear_or_coercion_builds_one_discreet_safety_packet_per_partner(
        flag, client_dir, tmp_path, capsys):
    profile = _couple(client_dir, [flag])
    pdfs, said = _build(profile, tmp_path / "out", capsys)

    assert [p.name for p in pdfs] == ["2026-12-01-notes-partner-1.pdf",
                                      "2026-12-01-notes-partner-2.pdf"]
    for pdf, (mine, other) in zip(pdfs, [("Quinlan", "Marisela"), ("Marisela", "Quinlan")],
                                  strict=True):
        text = normalise(pdf_text(pdf))
        assert mine in text and other not in text, pdf.name
        # Only what is safe to read alone: the safety page and the safety plan.
        assert "Your safety comes first" in text and "A safety plan of your own" in text
        for module_id, title in TITLES.items():
            assert title not in text, f"{module_id} in {pdf.name}"
        assert "thank you both" not in text  # the note addressed both partners
        for line in ("800-799-7233", "START to 88788", "thehotline.org", "800-656-4673",
                     "rainn.org", "988"):
            assert line in text, line
        assert "Reproductive coercion" in text and "Sexual coercion" in text
        # Its disclaimer is for one reader with no practices to do.
        assert "About these notes" in text and "Every practice is optional" not in text
        # Contents lists the safety page.
        contents = next(p for p in _pages(pdf) if "In these notes" in p)
        assert "Your safety comes first" in contents
        # Discreet: neutral cover title, running header and metadata; no practice name.
        pages = _pages(pdf)
        assert pages[0].startswith("Reading notes")
        assert "Harbor Light" not in text and "harborlight" not in text
        meta = pypdf.PdfReader(str(pdf)).metadata
        shown = " ".join(str(meta.get(k, "")) for k in ("/Title", "/Subject", "/Keywords"))
        assert not any(word in shown.lower() for word in TELLING), shown
        cover_and_header = pages[0] + " " + " ".join(p[:80] for p in pages[1:])
        assert not any(w in cover_and_header.lower() for w in ("connection", "affair",
                                                                "violence", "desire")), \
            cover_and_header
    # The build says what it left out and why, module by module.
    assert "left out: the note" in said
    for module_id in ("emotional-safety", "barometer", "opening-conversation",
                      "everyday-eroticism", "missing-closeness", "six-second-kiss"):
        assert f"left out: {module_id} — " in said, module_id


def test_a_module_listed_by_hand_that_a_flag_rules_out_stops_with_one_line(
        client_dir, tmp_path, capsys):
    profile = _couple(client_dir, ["violence-or-fear"], rituals=["six-second-kiss"])
    assert main(["build", str(profile), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "six-second-kiss" in err and "violence-or-fear" in err
    assert err.endswith("remove the module") and "or the flag" not in err
    assert not (tmp_path / "out" / "c-7301").exists() or not list(
        (tmp_path / "out" / "c-7301").glob("*.pdf"))


@pytest.mark.parametrize("flag", ["affair-crisis", "ongoing-affair"])
def test_after_an_affair_the_no_blame_pages_and_attachment_rituals_leave(
        flag, client_dir, tmp_path, capsys):
    pdfs, said = _build(_couple(client_dir, [flag]), tmp_path / "out", capsys)
    assert len(pdfs) == 1
    text = normalise(pdf_text(pdfs[0]))
    for module_id in ("pursue-withdraw-cycle", "mapping-our-cycle", "naming-the-loop",
                      "body-shuts-down", "repair-after-missed-connection",
                      "appreciation-ritual", "love-maps-check-in"):
        assert TITLES[module_id] not in text, module_id
        assert f"left out: {module_id} — " in said
    assert "Quinlan" in text and "Marisela" in text  # still one couple packet
    if flag == "affair-crisis":
        assert TITLES["after-an-affair"] in text
    else:
        assert TITLES["after-an-affair"] not in text


def test_trauma_flooding_leaves_out_touch_and_sexual_menus(client_dir, tmp_path, capsys):
    pdfs, said = _build(_couple(client_dir, ["trauma-flooding"]), tmp_path / "out", capsys)
    text = normalise(pdf_text(pdfs[0]))
    for module_id in ("closeness-on-hard-days", "wanting-without-pressure",
                      "sensate-focus-explained", "sensate-focus-steps",
                      "gentle-touch-moments", "six-second-kiss"):
        assert TITLES[module_id] not in text, module_id
        assert f"left out: {module_id} — " in said
    assert TITLES["trauma-and-intimacy"] in text and TITLES["grounding-plan"] in text


def test_unassessed_pain_leaves_out_sexual_pages_and_asks_for_a_medical_check_first(
        client_dir, tmp_path, capsys):
    pdfs, said = _build(_couple(client_dir, ["unassessed-pain"]), tmp_path / "out", capsys)
    text = normalise(pdf_text(pdfs[0]))
    invites = [m.id for m in LIBRARY.modules.values() if "invites-sex" in m.tags]
    assert {"sensate-focus-steps", "closeness-on-hard-days", "start-pause-decline"} <= set(
        invites)
    for module_id in invites:
        assert TITLES[module_id] not in text, module_id
    assert "First, a medical check" in text
    assert "pelvic floor physical therapist" in text
    assert "added: medical-check-first — " in said


def test_without_flags_a_topic_packet_is_named_by_its_topic_not_connection(
        client_dir, tmp_path, capsys):
    profile = _couple(client_dir, [], topics=["mismatched-desire"])
    pdfs, _ = _build(profile, tmp_path / "out", capsys)
    assert [p.name for p in pdfs] == ["2026-12-01-mismatched-desire.pdf"]
    text = normalise(pdf_text(pdfs[0]))
    assert "Harbor Light Couples Therapy" in text  # not discreet: the practice is named


def test_discreet_is_an_option_for_anyone_and_uses_the_discreet_name(
        client_dir, tmp_path, capsys):
    practice = client_dir / "practice.yaml"
    practice.write_text(practice.read_text(encoding="utf-8")
                        + "discreet_name: Wellness Office\n", encoding="utf-8")
    profile = _couple(client_dir, [], topics=["mismatched-desire"])
    pdfs, _ = _build(profile, tmp_path / "out", capsys, "--discreet")
    assert [p.name for p in pdfs] == ["2026-12-01-notes.pdf"]
    pages = _pages(pdfs[0])
    assert "Wellness Office" in pages[0] and "Harbor Light" not in " ".join(pages)
    assert pages[0].count("When desire differs") == 0  # no topic on the cover
    # A couple who asked for discretion still get their couple pages.
    assert "Quinlan" in pages[0] and "Marisela" in pages[0]


def test_check_shows_the_plan_without_building(client_dir, tmp_path, capsys):
    profile = _couple(client_dir, ["coercion-concern"])
    assert main(["check", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "2026-12-01-notes-partner-1.pdf (en, individual, discreet)" in out
    assert "2026-12-01-notes-partner-2.pdf" in out
    assert "pages: safety-alone, staying-safe" in out
    assert "left out: emotional-safety — " in out
    assert not (tmp_path / "output").exists() and not (client_dir / "output").exists()


def test_batch_builds_each_partners_packet_and_reports_what_left(client_dir, tmp_path,
                                                                  capsys):
    roster = tmp_path / "roster.yaml"
    roster.write_text(yaml.safe_dump({"clients": [{
        "practice": str(client_dir / "practice.yaml"), "client_id": "c-7302",
        "partners": [{"name": "Quinlan"}, {"name": "Marisela"}],
        "session_date": "2026-12-01", "topics": ["connection"],
        "flags": ["violence-or-fear"]}]}), encoding="utf-8")
    code = main(["batch", str(roster), "-o", str(tmp_path / "out"), "-j", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    folder = tmp_path / "out" / "c-7302"
    assert sorted(p.name for p in folder.glob("*.pdf")) == [
        "2026-12-01-notes-partner-1.pdf", "2026-12-01-notes-partner-2.pdf"]
    assert "left out: emotional-safety" in out
    second = normalise(pdf_text(folder / "2026-12-01-notes-partner-2.pdf"))
    assert "Marisela" in second and "Quinlan" not in second


def test_rules_are_data_with_a_reason_and_a_known_source():
    for flag in LIBRARY.flags.values():
        for rule in [*flag.leave, *([flag.only] if flag.only else [])]:
            assert rule.reason.strip() and rule.source in LIBRARY.sources, flag.id
        for addition in flag.add:
            assert addition.module in LIBRARY.modules and addition.source in LIBRARY.sources


def test_a_practice_can_extend_the_rules(tmp_path):
    library = tmp_path / "library"
    (library / "en").mkdir(parents=True)
    (library / "flags.yaml").write_text(
        "recent-loss:\n  summary: A recent bereavement.\n  leave:\n"
        "    - tags: [desire]\n      reason: Desire pages wait during early grief.\n"
        "      source: nagoski-2015\n", encoding="utf-8")
    (library / "en" / "own.md").write_text(
        "---\nid: own-page\nkind: article\ntitle: Our own page\nsummary: A page.\n"
        "minutes: 1\ntags: [desire]\nsources: [nagoski-2015]\nversion: '1'\n"
        "language: en\n---\nText.\n",
        encoding="utf-8")
    lib = load_library(library)
    assert "recent-loss" in lib.modules["own-page"].contraindications
    assert "recent-loss" in lib.modules["barometer"].contraindications  # tagged desire
    assert "recent-loss" not in lib.modules["grounding-plan"].contraindications


def test_a_malformed_rule_is_one_line_naming_the_file_and_field(tmp_path):
    with pytest.raises(LibraryError) as caught:
        parse_flags({"odd": {"summary": "x", "packet": "everyone"}}, tmp_path / "flags.yaml")
    message = str(caught.value)
    assert "flags.yaml" in message and "odd.packet" in message and "\n" not in message


def test_the_record_keeps_what_was_left_out_and_the_pdf_does_not(client_dir, tmp_path,
                                                                   capsys):
    profile = _couple(client_dir, ["trauma-flooding"])
    assert main(["build", str(profile), "-o", str(tmp_path / "out")]) == 0
    folder = tmp_path / "out" / "c-7301"
    [pdf] = folder.glob("*.pdf")
    issued = [json.loads(line) for line in (folder / ".issued.jsonl").read_text().splitlines()]
    assert any(line.startswith("left out: six-second-kiss — ") for line in
               issued[0]["left_out"])
    record = pdf.with_suffix(".ipynb").read_text(encoding="utf-8")
    assert "left out: six-second-kiss" in record  # the executed workbook shows it too
    assert "left out" not in pdf_text(pdf)


def test_papermill_with_a_violence_profile_writes_each_partners_packet(client_dir, tmp_path):
    profile = _couple(client_dir, ["violence-or-fear"], topics=["connection"])
    done = subprocess.run(
        [str(Path(sys.executable).with_name("papermill")), str(workbook_path("connection")),
         "run.ipynb", "-f", str(profile), "-p", "output_dir", str(tmp_path / "pm")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    folder = tmp_path / "pm" / "c-7301"
    names = sorted(p.name for p in folder.glob("*.pdf"))
    assert names == ["2026-12-01-notes-partner-1.pdf", "2026-12-01-notes-partner-2.pdf"]
    first = normalise(pdf_text(folder / names[0]))
    assert "Quinlan" in first and "Marisela" not in first
    assert "left out: emotional-safety" in (tmp_path / "run.ipynb").read_text()


def test_the_form_app_builds_the_packets_and_says_what_was_left_out(tmp_path):
    pytest.importorskip("ipywidgets")
    from handouts.ui.form import Form

    folder = tmp_path / "practice"
    form = couple_form(folder, "c-7303", ("Quinlan", "Marisela"), "2026-12-01",
                       "connection", "coercion-concern")
    assert form.build() is not None, form.status.value
    status = form.status.value
    assert "notes-partner-1.pdf" in status and "notes-partner-2.pdf" in status
    assert "left out: emotional-safety — " in status
    form2 = Form(folder)
    form2.client_id.value = "c-7304"
    form2.partner_rows[0][0].value = "Quinlan"
    form2.session_date.value = "2026-12-01"
    form2.lists["modules"].value = "barometer"
    form2.discreet.value = True
    built = form2.build()
    assert built is not None and built.name == "2026-12-01-notes.pdf"


def test_the_docs_flag_table_is_the_library():
    page = (Path(__file__).parents[1] / "docs" / "flags.md").read_text(encoding="utf-8")
    assert page.strip() == flag_table(LIBRARY).strip(), "run: python tools/make_docs.py"


def test_a_discreet_cover_draws_no_mark_or_logo(client_dir):
    # The default mark (two rings) reads as a couple's symbol; a logo names the practice.
    from handouts.plan.assemble import plan_packets
    from handouts.plan.validation import load_profile
    from handouts.render.html import render_html

    for flags, discreet in (([], False), (["violence-or-fear"], True)):
        profile = load_profile(_couple(client_dir, flags, topics=["connection"]))
        cover = render_html(plan_packets(profile)[0].handout).split('class="front"')[0]
        drawn = 'class="mark"' in cover or 'class="logo"' in cover
        assert drawn is not discreet, flags


def _group(folder: Path, **extra: object) -> Path:
    data = {"practice": str(folder / "practice.yaml"), "client_id": "c-7310",
            "partners": [{"name": "Noor"}, {"name": "Tomas"}, {"name": "Kai"}],
            "session_date": "2026-12-01", **extra}
    return write_profile(folder, yaml.safe_dump(data, sort_keys=False), "group.yaml")


def test_a_group_practice_addresses_only_its_participants(client_dir, tmp_path, capsys):
    profile = _group(client_dir, rituals=["gentle-touch-moments", "love-maps-check-in"],
                     participants={"gentle-touch-moments": ["Noor", "Kai"]}, fillable=True)
    pdfs, _ = _build(profile, tmp_path / "out", capsys)
    fields = pypdf.PdfReader(str(pdfs[0])).get_fields()
    touch = {name.split(".")[1] for name in fields if name.startswith("gentle-touch-moments.p")}
    check_in = {name.split(".")[1] for name in fields if name.startswith("love-maps-check-in.p")}
    assert touch == {"p1", "p3"}  # Noor and Kai keep their numbers; Tomas has no column
    assert check_in == {"p1", "p2", "p3"}
    pages = _pages(pdfs[0])
    start, end = (min(i for i, p in enumerate(pages) if normalise(  # the worksheet's head
        LIBRARY.modules[m].for_reader("group").title) in p and "PRACTICES TO TRY ·" in p)
        for m in ("gentle-touch-moments", "love-maps-check-in"))
    touch_pages = " ".join(pages[start:end])
    assert "Noor" in touch_pages and "Kai" in touch_pages and "Tomas" not in touch_pages


def test_participants_must_be_partners_of_a_chosen_ritual(client_dir, tmp_path, capsys):
    profile = _group(client_dir, rituals=["love-maps-check-in"],
                     participants={"love-maps-check-in": ["Noor", "Sasha"]})
    assert main(["build", str(profile), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "participants" in err and "Sasha" not in err.split("(")[-1]
    profile = _group(client_dir, rituals=["love-maps-check-in"],
                     participants={"six-second-kiss": ["Noor"]})
    assert main(["build", str(profile), "-o", str(tmp_path / "out")]) == 1
    assert "'six-second-kiss' is not a chosen ritual" in capsys.readouterr().err


def test_the_rules_hold_for_group_editions(client_dir, tmp_path, capsys):
    profile = _group(client_dir, topics=["sensate-focus"], flags=["trauma-flooding"])
    pdfs, said = _build(profile, tmp_path / "out", capsys)
    text = normalise(pdf_text(pdfs[0]))
    assert TITLES["sensate-focus-steps"] not in text
    assert "left out: sensate-focus-steps — " in said
    profile = _group(client_dir, topics=["connection"], flags=["coercion-concern"])
    pdfs, _ = _build(profile, tmp_path / "out2", capsys)
    assert [p.name for p in pdfs] == [f"2026-12-01-notes-partner-{n}.pdf" for n in (1, 2, 3)]


def test_fear_with_unassessed_pain_builds_the_safety_packets_with_the_medical_check(
        client_dir, tmp_path, capsys):
    profile = _couple(client_dir, ["violence-or-fear", "unassessed-pain"])
    pdfs, said = _build(profile, tmp_path / "out", capsys)
    assert len(pdfs) == 2
    text = normalise(pdf_text(pdfs[0]))
    assert "A safety plan of your own" in text and "First, a medical check" in text
    assert "after sex you did not want" in text
    assert "see each partner alone and assess danger" in said


@pytest.mark.parametrize(("flag", "added"), [("trauma-flooding", "trauma-and-intimacy"),
                                             ("trauma-flooding", "grounding-plan"),
                                             ("affair-crisis", "after-an-affair")])
def test_a_flag_brings_in_the_page_for_its_stage(flag, added, client_dir, tmp_path, capsys):
    profile = _couple(client_dir, [flag], topics=["connection"])
    pdfs, said = _build(profile, tmp_path / "out", capsys)
    assert TITLES[added] in normalise(pdf_text(pdfs[0]))
    assert f"added: {added} — " in said
