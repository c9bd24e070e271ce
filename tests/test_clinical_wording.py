"""Clinical claims the library must word carefully, in every reader's edition, both languages."""

from __future__ import annotations

import re

import pytest

from handouts import load_library

LANGUAGES = ("en", "es")
LIBRARIES = {lang: load_library(language=lang) for lang in LANGUAGES}
# Basson's circular model is one model that fits many people, not how desire works for all.
ONE_MODEL = {"en": r"\b(one|a) model\b", "es": r"\bun modelo\b"}
NOT_EVERYONE = {"en": r"not everyone|not the only|does not fit everyone",
                "es": r"todo el mundo|todas las personas"}
# A yes under pressure is not consent; the reader is told to stop and where to turn.
NOT_CONSENT = {"en": r"yes given under pressure is not consent",
               "es": r"sí dado bajo presión no es consentimiento"}
THEN_WHAT = {"en": (r"\bstop\b", r"therapist", r"safety page"),
             "es": (r"\b(?:detente|detenerte|paremos)\b", r"terapeuta", r"página de seguridad")}


def _editions(lang, module_id=None):
    lib = LIBRARIES[lang]
    return [(m.for_reader(a, fillable).plain_text(), f"{lang}/{m.id}[{a}]")
            for m in lib.modules.values() if module_id in (None, m.id)
            for a in m.audiences for fillable in (False, True)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_basson_is_presented_as_one_model_not_as_how_desire_works(lang):
    cited = [(text, name) for text, name in _editions(lang) if "Basson" in text]
    assert cited, f"{lang}: no module names Basson; the brief's desire teaching is gone"
    for text, name in cited:
        assert re.search(ONE_MODEL[lang], text, re.IGNORECASE), \
            f"{name}: Basson's model is not called one model"
        assert re.search(NOT_EVERYONE[lang], text, re.IGNORECASE), \
            f"{name}: Basson's model is not said to fit many people, not everyone"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_start_pause_decline_says_a_pressured_yes_is_not_consent_and_what_to_do(lang):
    for text, name in _editions(lang, "start-pause-decline"):
        assert re.search(NOT_CONSENT[lang], text, re.IGNORECASE), \
            f"{name}: no line that a yes under pressure is not consent"
        for needed in THEN_WHAT[lang]:
            assert re.search(needed, text, re.IGNORECASE), f"{name}: does not say {needed!r}"


# Realising afterwards that a yes was not free: not the reader's fault, and the care is not
# put on the person whose yes was not free ("say so kindly").
NOT_YOUR_FAULT = {"en": r"not your fault", "es": r"no es tu culpa"}
CARE_ON_WRONG_SIDE = {"en": r"say so kindly", "es": r"dilo\s+con\s+cariño"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_start_pause_decline_says_a_yes_found_unfree_afterwards_is_not_your_fault(lang):
    for text, name in _editions(lang, "start-pause-decline"):
        assert re.search(NOT_YOUR_FAULT[lang], text, re.IGNORECASE), \
            f"{name}: does not say that a yes found unfree afterwards is not your fault"
        assert not re.search(CARE_ON_WRONG_SIDE[lang], text, re.IGNORECASE), \
            f"{name}: asks the person whose yes was not free to say so kindly"
