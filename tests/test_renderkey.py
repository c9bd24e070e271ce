"""One render key for every cache: a change to anything that reaches the page is printed.

The reuse path is the notebook's: ``write_handout(..., reuse_layout=True)`` twice in one
process. Each Profile field is changed in turn (every field the model has, so a field
added later is in the loop, and fails it until it has a changed value here).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil

import pypdf
import pytest

import handouts
from handouts.content.library import load_library
from handouts.plan.assemble import plan_edition
from handouts.plan.guide import session_guide
from handouts.plan.profile import Profile
from handouts.plan.renderkey import BODY_FIELDS, render_key
from handouts.records.issue import write_guide, write_handout
from handouts.records.store import ISSUED, read_jsonl
from handouts.render import segments


@pytest.fixture(autouse=True)
def no_earlier_build():
    segments._LAST.clear()
    yield
    segments._LAST.clear()


def _text(path) -> str:
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(
        io.BytesIO(path.read_bytes())).pages).split())


def _changes(profile: Profile, tmp_path) -> dict[str, tuple[object, str | None, str | None]]:
    """Return, per field, (a changed valid value, text printed before, text printed after,
    and optionally the other fields that change with it)."""
    logo = tmp_path / "other-logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
                    '<circle cx="20" cy="20" r="18" fill="#aa3355"/></svg>')
    practice_library = tmp_path / "practice-library"
    practice_library.mkdir()
    first = profile.modules[0]  # a module the handout prints, replaced by the practice's
    module = load_library().get(first).path
    shutil.copy(module, practice_library / f"{first}.md")
    text = (practice_library / f"{first}.md").read_text(encoding="utf-8")
    old_title = load_library().get(first).title
    (practice_library / f"{first}.md").write_text(
        text.replace(f"title: {old_title}", "title: The Weather Between Us", 1),
        encoding="utf-8")
    names = ("Noor", "Ezra")
    first_line = profile.crisis[0]
    return {
        "client_id": ("sample-couple-2", None, None),
        "partners": (tuple(p.model_copy(update={"name": n})
                           for p, n in zip(profile.partners, names, strict=True)),
                     profile.partners[0].name, names[0]),
        "therapist": ("Dr. Quinn Ashby", profile.therapist or None, "Dr. Quinn Ashby"),
        "session_date": (dt.date(2026, 12, 8), None, "December 8, 2026"),
        "modules": (profile.modules[:-1], None, None),
        "rituals": (tuple(reversed(profile.rituals)), None, None),
        "scripts": (profile.scripts[:1], None, None),
        "topics": (("connection",), None, None),
        # The flag leaves a script out, so the profile that lists it by hand drops it too.
        "flags": (("unassessed-pain",), None, "First, a medical check",
                  {"scripts": profile.scripts[:1]}),
        "note": ("Walk together on Sunday mornings.", None, "Walk together on Sunday mornings."),
        "own_sections": (({"title": "Our winter plan", "text": "Tea at seven.",
                           "after": "end"},), None, "Our winter plan"),
        "audience": ("couple", None, None),
        "language": ("es", None, None),
        "languages": (("en", "es"), None, None),
        # The therapist's guide to the same packet: another document altogether.
        "edition": ("therapist", None, "not for the client"),
        "paper": ("a4", None, None),
        "large_print": (True, None, None),
        "fillable": (True, None, None),
        "ink_saver": (True, None, None),
        "cards": (not profile.cards, None, None),
        "discreet": (True, profile.practice_name, "Reading notes"),
        # A partner's own packet names that partner alone (the routing sets both).
        "partner_copy": (1, None, None, {"partners": profile.partners[:1]}),
        "participants": ({profile.rituals[0]: (profile.partners[0].name,)}, None, None),
        "discreet_name": ("Wellness Office", None, None),
        # One copy per partner: this copy is the first partner's, and says so on its cover.
        "copies": ("per-partner", None, "THIS COPY IS FOR", {"partner_copy": 1}),
        "immigration_note": (True, None, "does not ask about your immigration status"),
        "since_last_time": (True, None, None),
        "quote": ("Slower mornings.", None, None),
        "practice_name": ("Tidewater Counselling Rooms", profile.practice_name,
                          "Tidewater Counselling Rooms"),
        "practice_contact": ("Tidewater · 555 0199", profile.practice_contact or None,
                             "Tidewater · 555 0199"),
        "practice_logo": (str(logo), None, None),
        "accent_color": ("#aa3355", None, None),
        "crisis_lines": ({"en": ({"label": "Harbor Night Line", "number": "555 0142",
                                  "text": "any hour"},)},
                         first_line.label, "Harbor Night Line"),
        "practice_library": (str(practice_library), old_title, "The Weather Between Us"),
        # A program week: its pages come in, with the week's title and a check-in.
        "program": ("sensate-focus", None, "Getting ready", {"week": 1}),
        "week": (1, None, "Weekly check-in", {"program": "sensate-focus"}),
        # Reminders are a file beside the PDF: the key still tells the two builds apart.
        "calendar": (True, None, None),
        "calendar_time": ("07:30", None, None),
        "calendar_details": (True, None, None),
    }


def _build(profile: Profile, path, reuse: bool):
    library = load_library(profile.practice_library or None, profile.language)
    if profile.edition == "therapist":
        return write_guide(session_guide(plan_edition(profile, library)[0], library), path)
    return write_handout(handouts.assemble(profile, library), path, reuse_layout=reuse)


def _couple(examples) -> Profile:
    """The example couple, with fewer parts (the loop builds it about 85 times)."""
    couple = handouts.load_profile(examples / "clients" / "sample-couple.yaml")
    return couple.model_copy(update={
        "modules": couple.modules[:2], "rituals": couple.rituals[:2],
        "scripts": couple.scripts[:2], "note": "Thank you both for this week."})


def test_every_profile_field_changed_in_a_rebuild_is_printed(examples, tmp_path):
    base = _couple(examples)
    changes = _changes(base, tmp_path)
    # format chooses the kind of file (tests/test_screen.py builds each); it is still keyed
    fields = [name for name in Profile.model_fields if name not in ("password", "format")]
    assert sorted(changes) == sorted(fields), "give every Profile field a changed value"
    as_web = base.model_copy(update={"format": "html"})
    assert render_key(as_web).digest != render_key(base).digest
    base_path, fresh_path = tmp_path / "a" / "reused.pdf", tmp_path / "b" / "fresh.pdf"
    base_path.parent.mkdir()
    fresh_path.parent.mkdir()
    base_text = _text(_build(base, fresh_path, reuse=False))
    failures = []
    for name in fields:
        value, before, after, *also = changes[name]
        edited = Profile.model_validate({**base.model_dump(), name: value, **(also or [{}])[0]})
        assert getattr(edited, name) != getattr(base, name), name
        assert render_key(edited).digest != render_key(base).digest, name
        if name not in BODY_FIELDS:
            assert render_key(edited).layout != render_key(base).layout, name
        _build(base, base_path, reuse=True)  # the last build of this process
        reused = _text(_build(edited, base_path, reuse=True))
        fresh = _text(_build(edited, fresh_path, reuse=False))
        if reused != fresh:
            failures.append(f"{name}: the rebuilt PDF is not what a fresh build prints")
        if after and after not in reused:
            failures.append(f"{name}: {after!r} is not printed after the change")
        if before and before in reused and before not in after:
            failures.append(f"{name}: {before!r} is still printed after the change")
        if before:
            assert before in base_text, f"{name}: {before!r} is not printed at first"
    assert not failures, "\n".join(failures)


def test_a_practice_name_changed_in_a_notebook_is_printed_on_every_page(examples, tmp_path):
    base = _couple(examples)
    path = tmp_path / "handout.pdf"
    _build(base, path, reuse=True)
    renamed = base.model_copy(update={"practice_name": "Tidewater Counselling Rooms"})
    pages = pypdf.PdfReader(str(_build(renamed, path, reuse=True))).pages
    stale = [n for n, page in enumerate(pages, 1) if base.practice_name in page.extract_text()]
    assert not stale, f"the old practice name is printed on pages {stale} of {len(pages)}"


def test_the_key_holds_the_logo_bytes_and_the_library_files(examples, tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    library = tmp_path / "library"
    library.mkdir()
    (library / "notes.md").write_text("one")
    profile = handouts.load_profile(examples / "clients" / "sample-couple.yaml").model_copy(
        update={"practice_logo": str(logo), "practice_library": str(library)})
    first = render_key(profile)
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>')
    second = render_key(profile)
    assert second.digest != first.digest and second.layout != first.layout
    (library / "notes.md").write_text("two, and longer")
    assert render_key(profile).digest != second.digest
    assert render_key(profile, "quick").digest != render_key(profile).digest
    assert render_key(profile, since=[("week", 3)]).digest != render_key(profile).digest


def test_a_batch_rebuilds_a_since_last_time_client_after_a_harvest(examples, tmp_path,
                                                                    capsys):
    from test_harvest import build, fill_with_pypdf

    from handouts.ui.cli import main

    shutil.copy(examples / "practice.yaml", tmp_path / "practice.yaml")
    shutil.copy(examples / "logo.svg", tmp_path / "logo.svg")
    out = tmp_path / "out"
    blank = build(out, "2026-11-10")  # last week's fillable handout for c-7
    roster = tmp_path / "roster.csv"
    roster.write_text("client_id,partners,session_date,rituals,fillable,since_last_time\n"
                      "c-7,Ana; Bo,2026-11-17,\"six-second-kiss, gentle-touch-moments\","
                      "true,true\n", encoding="utf-8")
    assert main(["batch", str(roster), "-o", str(out)]) == 0
    pdf = out / "c-7" / "2026-11-17-connection.pdf"
    before = _text(pdf)
    filled = fill_with_pypdf(blank, tmp_path / "back.pdf", {
        "six-second-kiss.p1.day-1": "/on", "six-second-kiss.p1.day-3": "/on"})
    assert main(["harvest", str(filled), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["batch", str(roster), "-o", str(out)]) == 0
    assert "1 built, 0 up to date" in capsys.readouterr().out  # the history reaches the page
    after = _text(pdf)
    assert after != before and "2 days" in after


def test_the_issued_record_names_the_render_key_the_pdf_was_drawn_from(examples, tmp_path):
    base = _couple(examples)
    pdf = _build(base, tmp_path / "handout.pdf", reuse=False)
    rows = read_jsonl(pdf.parent / ISSUED)
    assert [row["render_key"] for row in rows] == [render_key(base).digest]
    assert base.partners[0].name not in json.dumps(rows[0]["render_key"])
