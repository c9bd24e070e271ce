"""The Spanish glossary: one rendering of each clinical term, used in every Spanish module."""

from __future__ import annotations

import re

import pytest
import yaml
from helpers import reader_text

from handouts import load_library
from handouts.core.resources import library_dir

GLOSSARY = yaml.safe_load((library_dir() / "es" / "glossary.yaml").read_text(encoding="utf-8"))
SPANISH = load_library(language="es")


def editions(module):
    """Every edition a client can be handed (each reader, print and fillable): its text."""
    return [(reader_text(module, a, f), f"{module.id}[{a}{'-fillable' if f else ''}]")
            for a in module.audiences for f in (False, True)]


def leftovers(text, name):
    """Every forbidden rendering or English leftover in *text*, named."""
    found = []
    for key, entry in GLOSSARY.items():
        for kind in ("forbidden", "english"):
            for pattern in entry.get(kind, []):
                for hit in re.finditer(rf"(?<!\w){pattern}(?!\w)", text, re.IGNORECASE):
                    found.append(f"{name}: {kind} {hit.group(0)!r} for {key} "
                                 f"(use {' '.join(entry['es'].split())!r})")
    return found


def test_every_entry_names_its_spanish_term_and_its_source():
    for key, entry in GLOSSARY.items():
        assert entry.get("en") and entry.get("es") and entry.get("source"), key
        for pattern in entry.get("forbidden", []) + entry.get("english", []):
            re.compile(pattern)


@pytest.mark.parametrize("module_id", sorted(SPANISH.modules))
def test_no_forbidden_rendering_or_english_leftover(module_id):
    found = [hit for text, name in editions(SPANISH.get(module_id))
             for hit in leftovers(text, name)]
    assert not found, "\n".join(sorted(set(found)))


def test_topic_titles_and_summaries_use_the_glossary():
    found = [hit for key, topic in SPANISH.topics.items()
             for hit in leftovers(f"{topic.title}. {topic.summary}", f"topics.yaml {key}")]
    assert not found, "\n".join(found)


ENGLISH = load_library(language="en")
# A term the English edition names must reach the Spanish reader under its glossary name.
MUST_CARRY = {"eft": (r"\bEFT\b", "TFE"),
              "sensate-focus": (r"sensate focus", "focalización sensorial"),
              "love-maps": (r"love maps?", "mapas? del amor"),
              "bids": (r"\bbids?\b", "intentos? de conexión")}


@pytest.mark.parametrize("module_id", sorted(ENGLISH.modules))
def test_a_term_the_english_names_is_named_in_spanish(module_id):
    for key, (en, es) in MUST_CARRY.items():
        for reader in ENGLISH.get(module_id).audiences:
            english = ENGLISH.get(module_id).for_reader(reader, False).plain_text()
            spanish = SPANISH.get(module_id).for_reader(reader, False).plain_text()
            if re.search(en, english, re.IGNORECASE):
                assert re.search(es, spanish, re.IGNORECASE), (
                    f"{module_id}[{reader}]: the English names {key}; the Spanish does not "
                    f"say {es!r}")
