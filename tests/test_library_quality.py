"""The default library as clients read it: reading level, inclusive wording, care."""

from __future__ import annotations

import re

import pytest
import textstat

from handouts import load_library
from handouts.content import MATTER_IDS

LIBRARY = load_library()
MODULES = sorted(LIBRARY.modules.values(), key=lambda m: m.id)
IDS = [m.id for m in MODULES]
GENDERED = re.compile(
    r"\b(he|she|him|his|hers|husband|wife|boyfriend|girlfriend|man|woman|men|women)\b",
    re.IGNORECASE,
)


def plain(module) -> str:
    return module.plain_text()


def test_library_covers_the_content_brief():
    assert len(LIBRARY.ids("article")) >= 5
    assert len(LIBRARY.ids("worksheet")) >= 4
    assert len(LIBRARY.ids("script")) >= 5
    assert set(MATTER_IDS) <= set(LIBRARY.ids("matter"))


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_reading_level_is_grade_8_or_below(module):
    grade = textstat.flesch_kincaid_grade(plain(module))
    assert grade <= 8.0, f"{module.id} ({module.path}) reads at grade {grade}"


@pytest.mark.parametrize("module", MODULES, ids=IDS)
def test_no_gendered_assumptions(module):
    found = sorted({m.group(0).lower() for m in GENDERED.finditer(plain(module))})
    assert not found, f"{module.id}: gendered words {found}; say 'your partner'"


@pytest.mark.parametrize("module", [m for m in MODULES if m.kind != "matter"],
                         ids=[m.id for m in MODULES if m.kind != "matter"])
def test_teaching_modules_cite_sources(module):
    assert module.sources, module.id


# (what a module mentions, what must then stand beside it, the rule in words)
CARE_RULES = [
    (r"\b(touch|touching|sex|sexual|sexually|kiss|kisses|kissing)\b",
     r"not now|both (of you )?want|consent|ask (me )?first|say no",
     "mentions touch or sex without a consent line"),
    (r"\b(pain|painful|medication|medicine)\b",
     r"doctor|health professional|medical",
     "mentions pain or medication without a medical-check note"),
]


@pytest.mark.parametrize("module", MODULES, ids=IDS)
@pytest.mark.parametrize(("mention", "required", "problem"), CARE_RULES,
                         ids=["consent", "medical-note"])
def test_care_notes_stand_where_they_are_needed(module, mention, required, problem):
    text = plain(module).lower()
    if re.search(mention, text):
        assert re.search(required, text), f"{module.id} {problem}"


def test_scripts_have_two_or_three_openers():
    for script in LIBRARY.of_kind("script"):
        assert 2 <= len(script.openers) <= 3, script.id
