"""Reading level of library text.

English: the Flesch-Kincaid grade, 0.39 * words/sentences + 11.8 * syllables/words - 15.59,
syllables counted with pyphen (it comes with WeasyPrint and works offline).

Spanish: the Fernández-Huerta ease, 206.84 - 0.60 * P - 1.02 * F, where P is syllables
per 100 words and F sentences per 100 words; 70 or more reads as "bastante fácil".
Spanish syllables follow the spelling rules, so they are counted from the vowels.
"""

from __future__ import annotations

import re
from functools import cache

_SENTENCE_END = re.compile(r"[.!?:;]+(?=\s|$)")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’][A-Za-zÀ-ÿ]+)*")
# Spanish vowel nuclei: strong vowels (and accented í, ú, which break a diphthong) start
# a new syllable after another strong vowel; unaccented i, u, ü join their neighbour.
_ES_STRONG = set("aeoáéóíú")
_ES_VOWEL = _ES_STRONG | set("iuü")


@cache
def _dictionary(language: str):
    import pyphen  # lazy: only hyphenation needs it

    return pyphen.Pyphen(lang=language)


def syllables(word: str, language: str = "en_US") -> int:
    """Return the number of syllables in *word* (at least one)."""
    if language.startswith("es"):
        return spanish_syllables(word)
    return max(1, len(_dictionary(language).positions(word.lower())) + 1)


def spanish_syllables(word: str) -> int:
    """Return the number of syllables in a Spanish *word* (at least one)."""
    word = word.lower()
    count, previous = 0, ""
    for i, char in enumerate(word):
        if char == "y" and (i == len(word) - 1) and previous in _ES_VOWEL:
            char = "i"  # "hoy", "muy": a final y closes a diphthong
        if char in _ES_VOWEL:
            if previous not in _ES_VOWEL or (char in _ES_STRONG and previous in _ES_STRONG):
                count += 1
        previous = char
    return max(1, count)


def flesch_kincaid_grade(text: str, language: str = "en_US") -> float:
    """Return the Flesch-Kincaid grade level of *text* (0 for no words)."""
    words = _WORD.findall(text)
    if not words:
        return 0.0
    sentences = max(1, len(_SENTENCE_END.findall(text)))
    count = sum(syllables(w, language) for w in words)
    return round(0.39 * len(words) / sentences + 11.8 * count / len(words) - 15.59, 1)


def fernandez_huerta(text: str) -> float:
    """Return the Fernández-Huerta reading ease of Spanish *text* (100 for no words)."""
    words = _WORD.findall(text)
    if not words:
        return 100.0
    sentences = max(1, len(_SENTENCE_END.findall(text)))
    per_100 = 100 / len(words)
    count = sum(spanish_syllables(w) for w in words)
    return round(206.84 - 0.60 * count * per_100 - 1.02 * sentences * per_100, 1)
