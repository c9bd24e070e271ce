"""A library module and its readers' editions: the front matter, the parts, the blocks
that only some readers or editions get."""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Literal, Union

from markdown_it import MarkdownIt
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

KINDS = ("article", "worksheet", "script", "matter")
LANGUAGES = ("en", "es")
MATTER_IDS = ("how-to-use", "safety", "safety-alone", "disclaimer", "disclaimer-alone",
              "rituals-closing")
AUDIENCES = ("couple", "individual", "group")
MODES = ("fillable", "printed")
# What a packet holds, for matter pages that speak only of what is in it.
HOLDS = ("readings", "practices", "scripts", "cards")
# The profile list that holds each kind of module a therapist chooses.
LIST_OF_KIND = {"article": "modules", "worksheet": "rituals", "script": "scripts"}

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variants(_Strict):
    """Wording by reader: each audience or mode may have its own; ``default`` serves the rest."""

    couple: Text | None = None
    individual: Text | None = None
    group: Text | None = None
    fillable: Text | None = None
    printed: Text | None = None
    default: Text | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Variants:
        if not any(getattr(self, name) for name in type(self).model_fields):
            raise ValueError("a wording mapping needs at least one of "
                             + ", ".join(type(self).model_fields))
        return self

    def pick(self, audience: str, mode: str) -> str | None:
        """Return the wording for this reader, or None when there is none."""
        return getattr(self, audience) or getattr(self, mode) or self.default


Varied = Union[Text, Variants]  # noqa: UP007 - pydantic reads the union in this order


def _pick(value: Varied | None, audience: str, mode: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.pick(audience, mode)


def _pick_all(values: tuple[Varied, ...], audience: str, mode: str) -> tuple[str, ...]:
    return tuple(t for t in (_pick(v, audience, mode) for v in values) if t)


class Extra(_Strict):
    """An extra list on a worksheet: prompts, sentence stems, or a table of choices.

    With ``choices``, each item is a row and each partner ticks one choice per row.
    Without, an item ending in ``___`` asks for writing and gets ``lines`` ruled lines
    per partner; ``draw`` adds a framed space to draw in after the items.
    """

    title: Varied
    intro: Varied = ""
    items: tuple[Varied, ...] = Field(min_length=1)
    choices: tuple[Text, ...] = ()
    lines: int = Field(default=3, ge=3, le=5)
    draw: bool = False

    def for_reader(self, audience: str, mode: str) -> Extra:
        return self.model_copy(update={
            "title": _pick(self.title, audience, mode) or "",
            "intro": _pick(self.intro, audience, mode) or "",
            "items": _pick_all(self.items, audience, mode),
        })


class Facilitation(_Strict):
    """Notes for the therapist on using a module in session: never printed for a client.

    ``not_when`` are the therapist's own cautions; the flags under which the module
    leaves (``contraindications``) are printed beside them from the library's rules.
    """

    introduce: Text
    obstacles: tuple[Text, ...] = ()
    watch_for: tuple[Text, ...] = ()
    not_when: tuple[Text, ...] = ()


FACILITATION_PARTS = tuple(Facilitation.model_fields)


_SCALARS = ("title", "summary", "why", "tracker", "when", "asking_for", "pause")
_LISTS = ("steps", "making_it_yours", "prompts", "openers", "listener", "avoid")


class Module(_Strict):
    """One content module: an article, worksheet, conversation script or matter page."""

    id: Slug
    kind: Literal["article", "worksheet", "script", "matter"]
    title: Varied
    summary: Varied
    minutes: int = Field(ge=1, le=60)
    tags: tuple[Slug, ...] = Field(min_length=1)
    sources: tuple[Text, ...]
    version: Text
    language: Literal["en", "es"]
    # A practice's own module may leave these out: it then serves every reader.
    topic: Slug = "general"
    audiences: tuple[Literal["couple", "individual", "group"], ...] = Field(
        default=AUDIENCES, min_length=1)
    # Flags (ids in flags.yaml) under which a therapist must not hand this module out.
    contraindications: tuple[Slug, ...] = ()
    # A worksheet each partner fills in alone: a page of their own, in their own copy.
    private: bool = False
    # For the therapist's guide only (``edition: therapist``); no client edition prints it.
    facilitation: Facilitation | None = None
    body: str = ""
    path: Path | None = None

    # worksheet parts
    steps: tuple[Varied, ...] = ()
    why: Varied = ""
    making_it_yours: tuple[Varied, ...] = ()
    tracker: Varied = ""
    extras: tuple[Extra, ...] = ()
    prompts: tuple[Varied, ...] = ()

    # script parts
    when: Varied = ""
    openers: tuple[Varied, ...] = ()
    asking_for: Varied = ""
    listener: tuple[Varied, ...] = ()
    avoid: tuple[Varied, ...] = ()
    pause: Varied = ""

    def for_reader(self, audience: str, fillable: bool = False,
                   holds: Collection[str] | None = None) -> Module:
        """Return this module as *audience* reads it: every text a plain string.

        *holds* names what the packet holds (:data:`HOLDS`); None keeps every block.
        """
        mode = "fillable" if fillable else "printed"
        update: dict = {name: _pick(getattr(self, name), audience, mode) or ""
                        for name in _SCALARS}
        update.update({name: _pick_all(getattr(self, name), audience, mode)
                       for name in _LISTS})
        update["extras"] = tuple(e.for_reader(audience, mode) for e in self.extras)
        update["body"] = select_blocks(self.body, audience, mode, holds)
        return self.model_copy(update=update)

    def reader_text(self) -> list[str]:
        """Return every piece of text a reader sees, as Markdown strings, in order.

        Call it on a reader's edition (:meth:`for_reader`).
        """
        parts = [self.body, *self.steps, self.why, *self.making_it_yours, self.tracker]
        for extra in self.extras:
            parts += [extra.title, extra.intro, *extra.items]
        parts += [*self.prompts, self.when, *self.openers, self.asking_for,
                  *self.listener, *self.avoid, self.pause]
        return [p for p in parts if isinstance(p, str) and p]

    def plain_text(self) -> str:
        """Return the reader-facing text as plain sentences (list items end with a period)."""

        md = MarkdownIt("commonmark")
        pieces = []
        for part in self.reader_text():
            text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", md.render(part))).split())
            pieces.append(text if re.search(r"[.!?:\"\u201d]\s*$", text) else text + ".")
        return " ".join(pieces)


# Fields each kind must fill in (beyond the common ones).
REQUIRED_PARTS = {
    "article": ("body", "sources"),
    "worksheet": ("steps", "why", "making_it_yours", "tracker", "prompts", "sources"),
    "script": ("when", "openers", "asking_for", "listener", "avoid", "pause", "sources"),
    "matter": ("body",),
}
_PARTS = {"steps", "why", "making_it_yours", "tracker", "extras", "prompts",
          "when", "openers", "asking_for", "listener", "avoid", "pause"}
ALLOWED_PARTS = {
    "article": set(),
    "worksheet": {"steps", "why", "making_it_yours", "tracker", "extras", "prompts"},
    "script": {"when", "openers", "asking_for", "listener", "avoid", "pause"},
    "matter": set(),
}

_BLOCK = re.compile(r"^:::[ \t]*(?P<words>.*?)[ \t]*$")


def _blocks(body: str) -> list[tuple[int, set[str] | None, str]]:
    """Split *body* into (line number, condition words or None, line); check the fences."""
    out: list[tuple[int, set[str] | None, str]] = []
    words: set[str] | None = None
    opened = 0
    for number, line in enumerate(body.splitlines(), start=1):
        match = _BLOCK.match(line)
        if not match:
            out.append((number, words, line))
            continue
        given = match["words"].split()
        if not given:
            if words is None:
                raise ValueError(f"line {number}: ':::' closes no block")
            words = None
            continue
        if words is not None:
            raise ValueError(f"line {number}: block opened on line {opened} is not closed "
                             "(blocks do not nest)")
        unknown = [w for w in given if w not in (*AUDIENCES, *MODES, *HOLDS)]
        if unknown:
            raise ValueError(f"line {number}: unknown reader {unknown[0]!r} after ':::' "
                             f"(valid: {', '.join((*AUDIENCES, *MODES, *HOLDS))})")
        words, opened = set(given), number
    if words is not None:
        raise ValueError(f"line {opened}: block is not closed by a ':::' line")
    return out


def select_blocks(body: str, audience: str, mode: str,
                  holds: Collection[str] | None = None) -> str:
    """Return *body* with the ``::: reader`` blocks kept for this reader only.

    A block naming what a packet holds (``::: practices``) stays only when the packet holds
    one of them; with *holds* None every such block stays.
    """
    kept = []
    for _, words, line in _blocks(body):
        if words is not None:
            audiences, modes = words & set(AUDIENCES), words & set(MODES)
            wanted = words & set(HOLDS)
            if (audiences and audience not in audiences) or (modes and mode not in modes):
                continue
            if wanted and holds is not None and not wanted & set(holds):
                continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()




class Topic(_Strict):
    """A topic: its title and the modules it recommends, in reading order."""

    id: Slug
    title: Text
    summary: Text
    modules: tuple[Slug, ...] = ()
    rituals: tuple[Slug, ...] = ()
    scripts: tuple[Slug, ...] = ()


