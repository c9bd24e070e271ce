"""Concerns a therapist records (``flags``) and how each routes the packet, read as data.

The rules live in the library's ``flags.yaml`` (and a practice's, over it by id): which
modules leave under a flag and why, which come in instead, whether each partner gets a
packet of their own, and whether the packet is discreet. See that file for the format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from handouts.errors import LibraryError

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=600)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """Modules, by id or by tag, that a flag removes: with the reason and its source."""

    modules: tuple[Slug, ...] = ()
    tags: tuple[Slug, ...] = ()
    reason: Sentence
    source: Slug

    def matches(self, module_id: str, tags: tuple[str, ...]) -> bool:
        """Return whether a module with *module_id* and *tags* falls under this rule."""
        return module_id in self.modules or bool(set(tags) & set(self.tags))


class Addition(_Strict):
    """A module that comes in under a flag, with the reason and its source."""

    module: Slug
    reason: Sentence
    source: Slug


class Flag(_Strict):
    """One concern and its routing rules."""

    id: Slug
    summary: Sentence
    packet: Literal["shared", "individual"] = "shared"
    discreet: bool = False
    only: Rule | None = None
    leave: tuple[Rule, ...] = ()
    add: tuple[Addition, ...] = ()

    def reason_out(self, module_id: str, tags: tuple[str, ...],
                   marked: tuple[str, ...] = ()) -> str | None:
        """Return why a module leaves under this flag, or None when it may stay.

        *marked* are the flags the module's own front matter lists as contraindications.
        """
        for rule in self.leave:
            if rule.matches(module_id, tags):
                return " ".join(rule.reason.split())
        if self.only is not None and not self.only.matches(module_id, tags):
            return " ".join(self.only.reason.split())
        if self.id in marked:
            return f"the module itself is marked not for use when {self.id} is noted"
        return None


def parse_flags(data: Mapping, file: object) -> dict[str, Flag]:
    """Validate the mapping read from a flags.yaml; a bare sentence is a summary."""
    flags: dict[str, Flag] = {}
    for key, value in data.items():
        body = {"summary": value} if isinstance(value, str) else value
        if not isinstance(body, Mapping):
            raise LibraryError("must be a sentence, or a mapping with a summary and rules",
                               file=file, field=str(key))
        try:
            flags[str(key)] = Flag(id=key, **body)
        except (ValidationError, TypeError) as exc:
            first = exc.errors()[0] if isinstance(exc, ValidationError) else None
            where = ".".join(str(p) for p in first["loc"]) if first else ""
            message = first["msg"] if first else str(exc)
            raise LibraryError(f"invalid flag rule: {message}", file=file,
                               field=f"{key}.{where}" if where else str(key),
                               choices=tuple(Flag.model_fields)) from None
    return flags


def check_references(flags: Mapping[str, Flag], modules: Mapping[str, object],
                     sources: Mapping[str, str], file: object) -> None:
    """Raise unless every module id and source key a rule names exists."""
    for flag in flags.values():
        rules = [*flag.leave, *([flag.only] if flag.only else [])]
        for rule in rules:
            for module_id in rule.modules:
                if module_id not in modules:
                    raise LibraryError(f"flag {flag.id!r} names no module {module_id!r}",
                                       file=file, field=f"{flag.id}.modules",
                                       choices=modules)
        for addition in flag.add:
            if addition.module not in modules:
                raise LibraryError(f"flag {flag.id!r} adds no module {addition.module!r}",
                                   file=file, field=f"{flag.id}.add", choices=modules)
        for key in [r.source for r in rules] + [a.source for a in flag.add]:
            if key not in sources:
                raise LibraryError(f"flag {flag.id!r} cites unknown source {key!r}",
                                   file=file, field=f"{flag.id}.source", choices=sources)
