"""The default library as each reader reads it: reading level, inclusive wording, care."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from handouts import load_library
from handouts.content.module import AUDIENCES, MATTER_IDS
from handouts.content.readability import flesch_kincaid_grade

LIBRARY = load_library()
MODULES = sorted(LIBRARY.modules.values(), key=lambda m: m.id)
# Every edition a client can be handed: each module, for each reader it serves, on paper
# and as a fillable PDF.
EDITIONS = [(m.for_reader(a, fillable), f"{m.id}[{a}{'-fillable' if fillable else ''}]")
            for m in MODULES for a in m.audiences for fillable in (False, True)]
GENDERED = re.compile(
    r"\b(he|she|him|his|hers|husband|wife|boyfriend|girlfriend|man|woman|men|women)\b",
    re.IGNORECASE,
)


def test_library_covers_the_content_brief():
    assert len(LIBRARY.ids("article")) >= 5
    assert len(LIBRARY.ids("worksheet")) >= 4
    assert len(LIBRARY.ids("script")) >= 5
    assert set(MATTER_IDS) <= set(LIBRARY.ids("matter"))


@pytest.mark.parametrize("module", MODULES, ids=[m.id for m in MODULES])
def test_default_modules_declare_topic_and_readers(module):
    # A practice's own module may leave these out; ours say so explicitly.
    meta = yaml.safe_load(Path(module.path).read_text(encoding="utf-8").split("---")[1])
    assert meta.get("topic") in LIBRARY.topics or module.kind == "matter", module.id
    assert meta.get("audiences"), f"{module.id}: list the readers it serves"
    assert set(meta["audiences"]) <= set(AUDIENCES)


@pytest.mark.parametrize(("edition", "name"), EDITIONS, ids=[n for _, n in EDITIONS])
def test_reading_level_is_grade_8_or_below(edition, name):
    grade = flesch_kincaid_grade(edition.plain_text())
    assert grade <= 8.0, f"{name} ({edition.path}) reads at grade {grade}"


@pytest.mark.parametrize(("edition", "name"), EDITIONS, ids=[n for _, n in EDITIONS])
def test_no_gendered_assumptions(edition, name):
    found = sorted({m.group(0).lower() for m in GENDERED.finditer(edition.plain_text())})
    assert not found, f"{name}: gendered words {found}; say 'your partner'"


# (what an edition mentions, what must then stand beside it, the rule in words)
CARE_RULES = [
    (r"\b(touch|touching|sex|sexual|sexually|kiss|kisses|kissing)\b",
     r"not now|not for me|consent|ask (me )?first|say no|decline",
     "mentions touch or sex without a consent line"),
    (r"\b(pain|painful|medication|medicine)\b",
     r"doctor|health professional|medical|clinician",
     "mentions pain or medication without a medical-check note"),
]


@pytest.mark.parametrize(("edition", "name"), EDITIONS, ids=[n for _, n in EDITIONS])
@pytest.mark.parametrize(("mention", "required", "problem"), CARE_RULES,
                         ids=["consent", "medical-note"])
def test_care_notes_stand_where_they_are_needed(edition, name, mention, required, problem):
    text = edition.plain_text().lower()
    if re.search(mention, text):
        assert re.search(required, text), f"{name} {problem}"


def test_every_touch_choice_list_offers_a_lasting_no():
    lists = [(m.id, e) for m in MODULES for e in m.extras if e.choices]
    assert lists, "the touch worksheet should offer a table of choices"
    for module_id, extra in lists:
        choices = [c.lower() for c in extra.choices]
        assert "not now" in choices and "not for me" in choices, module_id


def test_no_exercise_is_handed_out_where_there_is_violence_or_coercion():
    # CONTENT.md: these exercises are not for relationships with violence, coercion,
    # threats or fear. Rituals and conversation scripts are the exercises.
    exercises = [m for m in MODULES if m.kind in ("worksheet", "script")]
    assert exercises
    for module in exercises:
        assert {"violence-or-fear", "coercion-concern"} <= set(module.contraindications), \
            module.id


def test_practices_that_invite_touch_or_desire_wait_while_an_affair_is_raw():
    # Scripts that protect a "no" or a pause (declining-warmly, when-something-shifts)
    # stay available: saying no matters most then.
    inviting = [m for m in MODULES if m.kind in ("worksheet", "script")
                and {"touch", "affection", "desire"} & set(m.tags)]
    assert {"six-second-kiss", "gentle-touch-moments", "missing-closeness"} <= {
        m.id for m in inviting}
    for module in inviting:
        assert {"ongoing-affair", "affair-crisis"} <= set(module.contraindications), \
            module.id


def test_sources_cited_are_in_the_bibliography():
    for module in MODULES:
        for key in module.sources:
            assert key in LIBRARY.sources, f"{module.id}: {key}"
