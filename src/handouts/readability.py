"""Reading level of library text: Flesch-Kincaid grade, syllables counted with pyphen.

pyphen comes with WeasyPrint and works offline; the grade is the standard formula
0.39 * words/sentences + 11.8 * syllables/words - 15.59.
"""

from __future__ import annotations

import re
from functools import cache

_SENTENCE_END = re.compile(r"[.!?:;]+(?=\s|$)")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’][A-Za-zÀ-ÿ]+)*")


@cache
def _dictionary(language: str):
    import pyphen

    return pyphen.Pyphen(lang=language)


def syllables(word: str, language: str = "en_US") -> int:
    """Return the number of syllables in *word* (at least one)."""
    return max(1, len(_dictionary(language).positions(word.lower())) + 1)


def flesch_kincaid_grade(text: str, language: str = "en_US") -> float:
    """Return the Flesch-Kincaid grade level of *text* (0 for no words)."""
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(_SENTENCE_END.findall(text)))
    count = sum(syllables(w, language) for w in words)
    return round(0.39 * len(words) / sentences + 11.8 * count / len(words) - 15.59, 1)
