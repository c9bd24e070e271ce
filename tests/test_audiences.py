"""Who is reading: every module, built for each reader, reads right for that reader.

A handout is built for a couple, an individual (partner not reading) and three partners,
with every library module that serves that reader. Its PDF text is split by module, and
wording meant for another reader fails the test, naming the module. The checkable
clinical rules (consent options, crisis lines, a medical-check note, sources) each have
a test that names the module that breaks them.
"""

from __future__ import annotations

import re

import pytest
from helpers import normalise, pdf_text

from handouts import load_library, render_html, validate, write_pdf
from handouts.plan.assemble import assemble

PARTNERS = {
    "individual": [{"name": "Rowan"}],
    "couple": [{"name": "Rowan"}, {"name": "Ellis"}],
    "group": [{"name": "Rowan"}, {"name": "Ellis"}, {"name": "Mika"}],
}

# Wording that addresses a reader who is not there.
WRONG_FOR = {
    "individual": ("both of you", "each of you", "you both", "the two of you",
                   "your partners"),
    "group": ("both of you", "the two of you", "you both"),
    "couple": ("your partners",),
}

KIND_LIST = {"article": "modules", "worksheet": "rituals", "script": "scripts"}
FRONT = "front matter (how-to-use, safety)"
BACK = "back matter (disclaimer)"
CARDS = "cut-out cards"


def serving(library, reader):
    """The ids of every module of each chosen kind that serves *reader*, by profile list."""
    return {name: [m.id for m in library.of_kind(kind) if reader in m.audiences]
            for kind, name in KIND_LIST.items()}


def profile_for(reader, library, **extra):
    return validate({
        "client_id": f"audience-{reader}", "partners": PARTNERS[reader],
        "session_date": "2026-12-01", "cards": True, **serving(library, reader), **extra})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """reader -> (handout, PDF text split into {module id or part: normalised text})."""
    library = load_library()
    cache = {}

    def _built(reader):
        if reader not in cache:
            handout = assemble(profile_for(reader, library), library)
            out = write_pdf(render_html(handout), tmp_path_factory.mktemp(reader) / "h.pdf")
            cache[reader] = (handout, split_by_module(handout, normalise(pdf_text(out))))
        return cache[reader]

    return _built


def split_by_module(handout, text):
    """Cut the PDF text at each module's title, in reading order, after the contents."""
    # The contents page lists the titles too: start after the safety note's crisis lines.
    start = text.index("If you are in crisis")
    marks = [(FRONT, 0)]
    cursor = start
    for module in handout.sections:
        at = text.find(normalise(module.title), cursor)
        assert at >= 0, f"{module.id}: title {module.title!r} not found in the PDF"
        marks.append((module.id, at))
        cursor = at + 1
    closing = handout.matter.get("rituals-closing")
    if closing and handout.worksheets:
        at = text.find(normalise(closing.title), marks[len(handout.articles) + 1][1])
        if at >= 0:
            marks.append(("rituals-closing", at))
    for name, heading in ((CARDS, "Cards to cut out"),
                          (BACK, normalise(handout.matter["disclaimer"].title))):
        at = text.find(heading, cursor)
        if at >= 0:
            marks.append((name, at))
    marks.sort(key=lambda m: m[1])
    return {name: text[at:end] for (name, at), (_, end) in
            zip(marks, [*marks[1:], ("", len(text))], strict=True)}


@pytest.mark.parametrize("reader", ["couple", "individual", "group"])
def test_every_serving_module_is_in_the_handout(built, reader):
    handout, parts = built(reader)
    assert handout.profile.reader == reader
    expected = serving(load_library(), reader)
    assert [m.id for m in handout.articles] == expected["modules"]
    assert [m.id for m in handout.worksheets] == expected["rituals"]
    assert [m.id for m in handout.scripts] == expected["scripts"]


@pytest.mark.parametrize("reader", ["couple", "individual", "group"])
def test_no_wording_meant_for_another_reader(built, reader):
    _, parts = built(reader)
    wrong = []
    for part, text in parts.items():
        for phrase in WRONG_FOR[reader]:
            for hit in re.finditer(r"\b" + re.escape(phrase) + r"\b", text, re.IGNORECASE):
                context = text[max(0, hit.start() - 50):hit.end() + 30]
                wrong.append(f"{part}: {phrase!r} in \"...{context}...\"")
    assert not wrong, f"{reader} handout:\n" + "\n".join(wrong)


@pytest.mark.parametrize("reader", ["couple", "individual", "group"])
def test_crisis_lines_of_the_language_are_in_every_handout(built, reader):
    handout, parts = built(reader)
    safety = parts[FRONT]
    lines = handout.profile.crisis
    assert any(re.search(r"domestic violence", line.label, re.I) for line in lines), \
        "the crisis lines need a domestic-violence line"
    missing = [f"{line.label} {line.number}" for line in lines
               if normalise(line.label) not in safety or line.number not in safety]
    assert not missing, f"{reader} handout's safety note lacks: {missing}"


def test_every_touch_or_consent_choice_list_offers_not_for_me():
    library = load_library()
    failing = []
    for module in library.modules.values():
        for index, extra in enumerate(module.extras, start=1):
            choices = [c.lower() for c in extra.choices]
            touch = {"touch", "consent"} & set(module.tags) or "not now" in choices
            if choices and touch and "not for me" not in choices:
                failing.append(f"{module.id} extras[{index}]: {extra.choices}")
    assert not failing, "a touch or consent list without a lasting 'not for me':\n" + \
        "\n".join(failing)


_PAIN = re.compile(r"\b(pain|painful|medication|medicine|medicines|side effects?)\b", re.I)
_CHECK = re.compile(r"\b(doctor|health professional|medical|clinician|nurse)\b", re.I)


@pytest.mark.parametrize("reader", ["couple", "individual", "group"])
def test_pain_or_medication_comes_with_a_medical_check_note(reader):
    library = load_library()
    failing = []
    for module in library.modules.values():
        if reader not in module.audiences:
            continue
        text = module.for_reader(reader).plain_text()
        if _PAIN.search(text) and not _CHECK.search(text):
            failing.append(f"{module.id}: mentions {_PAIN.search(text).group(0)!r} "
                           "but never suggests a check with a doctor or health professional")
    assert not failing, "\n".join(failing)


def test_every_module_names_its_sources():
    library = load_library()
    failing = [f"{m.id}: no sources" for m in library.modules.values()
               if m.kind != "matter" and not m.sources]
    failing += [f"{m.id}: unknown source {key!r}" for m in library.modules.values()
                for key in m.sources if key not in library.sources]
    assert not failing, "\n".join(failing)


@pytest.mark.parametrize("reader", ["couple", "individual", "group"])
def test_every_source_is_printed_in_the_references(built, reader):
    handout, parts = built(reader)
    references = parts[BACK]
    library = load_library()
    failing = []
    for module in handout.sections:
        for key in module.sources:
            citation = normalise(library.sources[key])
            if citation[:60] not in references:
                failing.append(f"{module.id}: {citation[:60]!r}")
    assert not failing, f"{reader} handout's references lack:\n" + "\n".join(failing)
