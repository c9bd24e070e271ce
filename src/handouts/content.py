"""Load the content library: Markdown modules with YAML front matter.

A module may word its text differently for each reader (a couple, one person whose
partner is not reading, more than two partners) and for printed or fillable copies.
The library keeps modules as written; :meth:`Module.for_reader` returns the one reader's
edition, plain strings only, which is what a handout holds.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from .errors import LibraryError
from .flags import Flag, check_references, parse_flags
from .resources import library_dir, load_yaml
from .untrusted import MAX_MODULE_BYTES, read_bounded

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
        import html

        from markdown_it import MarkdownIt

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


def split_front_matter(text: str, path: Path) -> tuple[dict, str]:
    """Split a module file into its front matter mapping and Markdown body."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise LibraryError("file must start with a '---' line opening the front matter",
                           file=path, field="front matter")
    end = next((i for i, line in enumerate(lines) if i and line.strip() == "---"), None)
    if end is None:
        raise LibraryError("front matter is not closed by a '---' line",
                           file=path, field="front matter")
    try:
        meta = load_yaml("".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise LibraryError(f"front matter is not valid YAML{where}: {exc}",
                           file=path, field="front matter") from None
    if not isinstance(meta, dict):
        raise LibraryError("front matter must be a mapping of field: value",
                           file=path, field="front matter")
    return meta, "".join(lines[end + 1:])


class Topic(_Strict):
    """A topic: its title and the modules it recommends, in reading order."""

    id: Slug
    title: Text
    summary: Text
    modules: tuple[Slug, ...] = ()
    rituals: tuple[Slug, ...] = ()
    scripts: tuple[Slug, ...] = ()


def parse_module(path: Path, sources: Mapping[str, str] | None = None,
                 flags: Mapping[str, str] | None = None) -> Module:
    """Read and validate one module file; raise on its first problem."""
    module, problems = module_problems(path, sources, flags)
    if problems:
        raise problems[0]
    return module  # type: ignore[return-value]


def module_problems(path: Path, sources: Mapping[str, str] | None = None,
                    flags: Mapping[str, str] | None = None
                    ) -> tuple[Module | None, list[LibraryError]]:
    """Read and validate one module file; return it (if valid) and every problem found."""
    try:
        text = read_bounded(path, MAX_MODULE_BYTES, LibraryError, "module").decode("utf-8")
    except LibraryError as exc:  # a pipe, a device or a huge file: refused unread
        return None, [exc]
    except UnicodeDecodeError:
        return None, [LibraryError("module is not UTF-8 text", file=path)]
    return text_problems(text, path, sources, flags)


def parse_module_text(text: str, path: Path | str,
                      sources: Mapping[str, str] | None = None) -> Module:
    """Validate module *text* (front matter and Markdown); *path* names it in errors."""
    module, problems = text_problems(text, Path(path), sources)
    if problems:
        raise problems[0]
    return module  # type: ignore[return-value]


def text_problems(text: str, path: Path, sources: Mapping[str, str] | None = None,
                  flags: Mapping[str, str] | None = None
                  ) -> tuple[Module | None, list[LibraryError]]:
    """Validate module *text*; return the module (None if invalid) and every problem."""
    try:
        meta, body = split_front_matter(text, path)
    except LibraryError as exc:
        return None, [exc]
    problems: list[LibraryError] = []
    for key in ("body", "path"):
        if key in meta:
            problems.append(LibraryError("is not a front matter field", file=path, field=key))
            meta.pop(key)
    try:
        _blocks(body)
    except ValueError as exc:
        problems.append(LibraryError(str(exc), file=path, field="body"))
    kind = meta.get("kind")
    if kind in ALLOWED_PARTS:
        for name in sorted({k for k in meta if k in _PARTS} - ALLOWED_PARTS[kind]):
            problems.append(LibraryError(f"is not a part of a {kind}", file=path, field=name,
                                         choices=ALLOWED_PARTS[kind]))
            meta.pop(name)
    try:
        module = Module(**meta, body=body.strip(), path=path)
    except ValidationError as exc:
        return None, problems + _library_errors(exc, path)
    for part in REQUIRED_PARTS[module.kind]:
        if not getattr(module, part):
            problems.append(LibraryError(
                f"a {module.kind} needs this field, and it is empty or missing",
                file=path, field=part))
    if module.kind == "script" and module.openers and not 2 <= len(module.openers) <= 3:
        problems.append(LibraryError("a script needs 2 or 3 alternative openers",
                                     file=path, field="openers"))
    if module.kind == "matter" and module.id not in MATTER_IDS:
        problems.append(LibraryError(f"unknown matter id {module.id!r}", file=path,
                                     field="id", choices=MATTER_IDS))
    for name, known, what in (("sources", sources, "source"),
                              ("contraindications", flags, "flag")):
        if known is None:
            continue
        for key in getattr(module, name):
            if key not in known:
                problems.append(LibraryError(f"unknown {what} {key!r}", file=path,
                                             field=name, choices=known))
    return (None if problems else module), problems


_FRONT_FIELDS = [n for n in Module.model_fields if n not in ("body", "path")]


def _is_union_tag(part: str) -> bool:
    return part in ("constrained-str", "str") or "Variants" in part


def _library_errors(exc: ValidationError, path: Path) -> list[LibraryError]:
    """Turn pydantic's errors into one line per field; a text-or-mapping field gets one."""
    found: list[LibraryError] = []
    unions: dict[str, list[dict]] = {}
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        tag = next((i for i, p in enumerate(loc) if _is_union_tag(p)), None)
        if tag is None:
            found.append(_library_error(err, ".".join(loc), path))
        else:
            unions.setdefault(".".join(loc[:tag]), []).append(
                {**err, "rest": loc[tag + 1:], "mapping": "Variants" in loc[tag]})
    for where, errs in unions.items():
        # A mapping was given: report what is wrong inside it, not the string branch.
        inner = [e for e in errs if e["mapping"] and (e["rest"] or isinstance(
            e["input"], dict))]
        if inner:
            found += [_library_error(e, ".".join([where, *e["rest"]]), path) for e in inner]
        else:
            found.append(LibraryError(
                "must be text, or a mapping of wording by reader", file=path, field=where,
                choices=Variants.model_fields))
    return found


def _library_error(err: dict, loc: str, path: Path) -> LibraryError:
    kind = err["type"]
    top = str(err["loc"][0]) if err["loc"] else ""
    if kind == "missing":
        return LibraryError("required field is missing", file=path, field=loc)
    if kind == "extra_forbidden":
        choices = Variants.model_fields if any(_is_union_tag(str(p)) for p in err["loc"]) else (
            Extra.model_fields if top == "extras" else _FRONT_FIELDS)
        return LibraryError("is not a known field", file=path, field=loc, choices=choices)
    if kind == "literal_error":
        choices = {"kind": KINDS, "language": LANGUAGES}.get(top, AUDIENCES)
        return LibraryError(f"{err['input']!r} is not allowed", file=path, field=loc,
                            choices=choices)
    if kind == "string_pattern_mismatch":
        return LibraryError(f"{err['input']!r} must be a slug: lower-case letters, digits "
                            "and single hyphens", file=path, field=loc)
    return LibraryError(err["msg"], file=path, field=loc)


@dataclass(frozen=True)
class Library:
    """All modules available for one language, by id (read-only)."""

    language: str
    modules: Mapping[str, Module] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, Flag] = field(default_factory=dict)
    topics: Mapping[str, Topic] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("modules", "sources", "flags", "topics"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def get(self, module_id: str) -> Module:
        """Return the module *module_id* or raise with the valid ids."""
        try:
            return self.modules[module_id]
        except KeyError:
            raise LibraryError(f"no module {module_id!r}", field="id",
                               choices=self.modules) from None

    def ids(self, kind: str) -> list[str]:
        """Return the ids of every module of *kind*, sorted."""
        return sorted(m.id for m in self.modules.values() if m.kind == kind)

    def of_kind(self, kind: str) -> list[Module]:
        """Return every module of *kind*, sorted by id."""
        return [self.modules[i] for i in self.ids(kind)]

    def with_module(self, module: Module) -> Library:
        """Return a copy of this library with *module* added or replacing its id."""
        return Library(self.language, {**self.modules, module.id: module}, self.sources,
                       self.flags, self.topics)


def _read_mapping(path: Path) -> dict:
    """Read a YAML mapping from *path* ({} when the file does not exist)."""
    if not path.is_file():
        return {}
    try:
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise LibraryError(f"not valid YAML: {exc}", file=path) from None
    if not isinstance(data, dict):
        raise LibraryError("must be a mapping of key: value", file=path)
    return data


def _load_sources(path: Path) -> dict[str, str]:
    data = _read_mapping(path)
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise LibraryError("must map each source key to its citation text", file=path)
    return {k: " ".join(v.split()) for k, v in data.items()}


def _load_flags(path: Path) -> dict[str, Flag]:
    """Read flags.yaml: flag id -> its summary and routing rules."""
    data = _read_mapping(path)
    for key in data:
        if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", key):
            raise LibraryError(f"{key!r} must be a slug", file=path, field=str(key))
    return parse_flags(data, path)


def _with_flag_rules(modules: dict[str, Module], flags: Mapping[str, Flag]) -> None:
    """Give each module every flag under which a rule (or its own front matter) removes it."""
    for module_id, module in modules.items():
        if module.kind == "matter":
            continue
        out = {f.id for f in flags.values()
               if f.reason_out(module_id, module.tags, module.contraindications)}
        if out != set(module.contraindications):
            modules[module_id] = module.model_copy(
                update={"contraindications": tuple(sorted(out))})


def _load_topics(path: Path) -> dict[str, Topic]:
    """Read <language>/topics.yaml: topic id -> title, summary and recommended modules."""
    data = _read_mapping(path)
    topics = {}
    for key, value in data.items():
        try:
            topics[key] = Topic(id=key, **(value or {}))
        except (ValidationError, TypeError) as exc:
            raise LibraryError(f"invalid topic: {exc}".splitlines()[0], file=path,
                               field=str(key)) from None
    return topics


def _module_files(root: Path, language: str | None) -> list[Path]:
    base = root / language if language and (root / language).is_dir() else root
    return sorted(p for p in base.rglob("*.md") if not p.name.startswith(("_", ".")))


def languages_available(practice_library: str | Path | None = None) -> list[str]:
    """Return the languages that have at least one module."""
    roots = [library_dir()] + ([Path(practice_library).expanduser()] if practice_library
                                else [])
    found = set()
    for root in roots:
        for language in LANGUAGES:
            if (root / language).is_dir() and any((root / language).rglob("*.md")):
                found.add(language)
    return sorted(found)


def load_library(practice_library: str | Path | None = None, language: str = "en") -> Library:
    """Load the default library for *language*, then a practice folder over it by id.

    A long-lived process reuses the parsed library while no module file has changed;
    the library and its modules are read-only, so no caller can change another's.
    """
    if language not in LANGUAGES:
        raise LibraryError(f"unknown language {language!r}", field="language",
                           choices=LANGUAGES)
    roots = [library_dir()] + ([Path(practice_library).expanduser()] if practice_library
                                else [])
    stamp = tuple((str(p), p.stat().st_mtime_ns) for root in roots if root.is_dir()
                  for p in sorted(root.rglob("*")) if p.is_file())
    key = (str(practice_library or ""), language, stamp)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _load_library(practice_library, language)
    return _CACHE[key]


_CACHE: dict[tuple, Library] = {}


def _load_library(practice_library: str | Path | None, language: str) -> Library:
    roots = [library_dir()]
    if practice_library:
        extra = Path(practice_library).expanduser()
        if not extra.is_dir():
            raise LibraryError("practice library folder does not exist", file=extra,
                               field="practice_library")
        roots.append(extra)
    sources: dict[str, str] = {}
    flags: dict[str, Flag] = {}
    topics: dict[str, Topic] = {}
    for root in roots:
        sources.update(_load_sources(root / "sources.yaml"))
        sources.update(_load_sources(root / language / "sources.yaml"))  # editions in it
        flags.update(_load_flags(root / "flags.yaml"))
        topics.update(_load_topics(root / language / "topics.yaml"))
    modules: dict[str, Module] = {}
    for root in roots:
        seen: dict[str, Path] = {}
        for path in _module_files(root, language):
            module = parse_module(path, sources, flags)
            if module.language != language:
                continue
            if module.id in seen:
                raise LibraryError(f"id {module.id!r} is also used by {seen[module.id]}",
                                   file=path, field="id")
            seen[module.id] = path
            modules[module.id] = module  # a practice module overrides by id
    if not modules:
        raise LibraryError(f"the library has no modules in {language!r} yet",
                           field="language", choices=languages_available(practice_library))
    check_references(flags, modules, sources, roots[-1] / "flags.yaml")
    _with_flag_rules(modules, flags)
    for topic in topics.values():
        for name in ("modules", "rituals", "scripts"):
            for module_id in getattr(topic, name):
                if module_id not in modules:
                    raise LibraryError(f"topic {topic.id!r} names no module {module_id!r}",
                                       file=roots[0] / language / "topics.yaml",
                                       field=f"{topic.id}.{name}", choices=modules)
    return Library(language, modules, sources, flags, topics)


def check_library(practice_library: str | Path | None = None) -> list[LibraryError]:
    """Validate every module of every language; return all problems found."""
    problems: list[LibraryError] = []
    roots = [library_dir()] + ([Path(practice_library)] if practice_library else [])
    sources: dict[str, str] = {}
    flags: dict[str, Flag] = {}
    for root in roots:
        try:
            sources.update(_load_sources(root / "sources.yaml"))
            flags.update(_load_flags(root / "flags.yaml"))
        except LibraryError as exc:
            problems.append(exc)
    for root in roots:
        for path in _module_files(root, None):
            problems += module_problems(path, sources, flags)[1]
    if not problems:
        for language in languages_available(practice_library):
            try:
                lib = load_library(practice_library, language)
            except LibraryError as exc:
                problems.append(exc)
                continue
            missing = [m for m in MATTER_IDS if m not in lib.modules]
            if missing:
                problems.append(LibraryError(f"matter modules missing: {', '.join(missing)}",
                                             file=library_dir() / language, field="id"))
    return problems
