"""Load the content library: Markdown modules with YAML front matter.

A module may word its text differently for each reader (a couple, one person whose
partner is not reading, more than two partners) and for printed or fillable copies.
The library keeps modules as written; :meth:`Module.for_reader` returns the one reader's
edition, plain strings only, which is what a handout holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml
from pydantic import (
    ValidationError,
)

from handouts.content.flags import Flag, check_references, parse_flags
from handouts.content.module import LANGUAGES, LIST_OF_KIND, MATTER_IDS, Module, Topic
from handouts.content.parse import module_problems, parse_module
from handouts.content.programs import Program, check_program_ids, load_programs
from handouts.core.resources import library_dir, load_yaml
from handouts.errors import LibraryError


@dataclass(frozen=True)
class Library:
    """All modules available for one language, by id (read-only)."""

    language: str
    modules: Mapping[str, Module] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, Flag] = field(default_factory=dict)
    topics: Mapping[str, Topic] = field(default_factory=dict)
    programs: Mapping[str, Program] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("modules", "sources", "flags", "topics", "programs"):
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
                       self.flags, self.topics, self.programs)


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
    programs = load_programs(roots)
    ids = {name: sorted(i for i, m in modules.items() if m.kind == kind)
           for kind, name in LIST_OF_KIND.items()}
    for program, path in programs.values():
        check_program_ids(program, ids, sorted(topics), path)
    return Library(language, modules, sources, flags, topics,
                   {key: program for key, (program, _) in programs.items()})


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
