"""Profile values as the form's widgets show them, and back: id lists, yes/no, and texts
given one per language."""

from __future__ import annotations

from typing import Any


def ids_in(text: str) -> list[str]:
    """Return the ids in a comma- or line-separated text."""
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def ticked(value: Any) -> bool:
    """Return a yes/no setting as read from YAML, where every scalar stays text."""
    return str(value).strip().lower() in {"true", "yes", "on", "1"}


def listed(value: Any) -> list[str]:
    """Return a profile list field (a YAML list or a comma-separated text) as ids."""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return ids_in(str(value or ""))


def in_language(value: Any, language: str) -> tuple[str, dict[str, str] | None]:
    """Return the text of *value* the form shows for *language*, and, when *value* gives
    one text per language, all of them (so a save keeps the languages not shown)."""
    if isinstance(value, dict):
        texts = {str(k): str(v or "") for k, v in value.items()}
        return texts.get(language, next(iter(texts.values()), "")), texts
    return str(value or ""), None


def with_language(text: str, texts: dict[str, str] | None, language: str) -> Any:
    """Return what to save: *text*, or the texts per language with *language*'s replaced."""
    if texts is None:
        return text
    merged = {k: v for k, v in {**texts, language: text}.items() if v.strip()}
    return merged or ""
