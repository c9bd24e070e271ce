"""Compare two language editions of a module: the same shape, sources and version.

A Spanish handout must be read back exactly like an English one, so everything that
names a form field (worksheet id, steps, tracker, prompts, extras, rows and choices) and
everything a reader is told to trust (sources, version, who it is for, when not to use
it) must match; only the words differ.
"""

from __future__ import annotations

from handouts.content.library import Library
from handouts.content.module import _LISTS, _SCALARS, Module, Variants, _blocks

_SAME = ("kind", "version", "sources", "topic", "audiences", "contraindications",
         "minutes", "tags")


def _shape(value) -> object:
    """Return which readers a text is worded for: '' for one wording, else their names."""
    if isinstance(value, Variants):
        return tuple(n for n in Variants.model_fields if getattr(value, n))
    return "" if value else None


def _body_shape(body: str) -> list[tuple[str, ...]]:
    shape: list[tuple[str, ...]] = []
    for _, words, _line in _blocks(body):
        key = tuple(sorted(words)) if words else ()
        if key and (not shape or shape[-1] != key):
            shape.append(key)
        elif not key and shape and shape[-1]:
            shape.append(())
    return [s for s in shape if s]


def parity_problems(original: Module, edition: Module) -> list[str]:
    """Return how *edition* differs in shape from *original* (empty when they match)."""
    problems = [f"{name}: {getattr(edition, name)!r} differs from {getattr(original, name)!r}"
                for name in _SAME if getattr(original, name) != getattr(edition, name)]
    for name in ("title", "summary", *_SCALARS):
        if _shape(getattr(original, name)) != _shape(getattr(edition, name)):
            problems.append(f"{name}: worded for {_shape(getattr(edition, name))!r}, "
                            f"the original for {_shape(getattr(original, name))!r}")
    for name in _LISTS:
        a, b = getattr(original, name), getattr(edition, name)
        if len(a) != len(b):
            problems.append(f"{name}: {len(b)} items, the original has {len(a)}")
        elif [_shape(x) for x in a] != [_shape(x) for x in b]:
            problems.append(f"{name}: items worded for other readers than the original")
    if len(original.extras) != len(edition.extras):
        problems.append(f"extras: {len(edition.extras)}, the original has "
                        f"{len(original.extras)}")
    for number, (a, b) in enumerate(
            zip(original.extras, edition.extras, strict=False), start=1):
        if len(a.items) != len(b.items) or len(a.choices) != len(b.choices):
            problems.append(f"extras[{number}]: {len(b.items)} rows and {len(b.choices)} "
                            f"choices, the original has {len(a.items)} and "
                            f"{len(a.choices)}")
        elif [_shape(x) for x in a.items] != [_shape(x) for x in b.items]:
            problems.append(f"extras[{number}].items: worded for other readers")
    if _body_shape(original.body) != _body_shape(edition.body):
        problems.append(f"body: reader blocks {_body_shape(edition.body)} differ from the "
                        f"original's {_body_shape(original.body)}")
    return problems


def library_parity(original: Library, edition: Library) -> dict[str, list[str]]:
    """Return the problems of every module, by id: missing editions and shape differences."""
    found: dict[str, list[str]] = {}
    for module_id, module in original.modules.items():
        other = edition.modules.get(module_id)
        problems = (parity_problems(module, other) if other is not None
                    else [f"no {edition.language!r} edition"])
        if problems:
            found[module_id] = problems
    for module_id in edition.modules.keys() - original.modules.keys():
        found[module_id] = [f"no {original.language!r} original"]
    return found
