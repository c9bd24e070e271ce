"""Load the content library: Markdown modules with YAML front matter."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from .errors import LibraryError
from .resources import library_dir

KINDS = ("article", "worksheet", "script", "matter")
LANGUAGES = ("en", "es")
MATTER_IDS = ("how-to-use", "safety", "disclaimer", "rituals-closing")

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Extra(_Strict):
    """An extra list on a worksheet, such as question prompts or sentence stems."""

    title: Text
    intro: str = ""
    items: list[Text] = Field(min_length=1)


class Module(_Strict):
    """One content module: an article, worksheet, conversation script or matter page."""

    id: Slug
    kind: Literal["article", "worksheet", "script", "matter"]
    title: Text
    summary: Text
    minutes: int = Field(ge=1, le=60)
    tags: list[Slug] = Field(min_length=1)
    sources: list[Text]
    version: Text
    language: Literal["en", "es"]
    body: str = ""
    path: Path | None = None

    # worksheet parts
    steps: list[Text] = Field(default_factory=list)
    why: str = ""
    making_it_yours: list[Text] = Field(default_factory=list)
    tracker: str = ""
    extras: list[Extra] = Field(default_factory=list)
    prompts: list[Text] = Field(default_factory=list)

    # script parts
    when: str = ""
    openers: list[Text] = Field(default_factory=list)
    asking_for: str = ""
    listener: list[Text] = Field(default_factory=list)
    avoid: list[Text] = Field(default_factory=list)
    pause: str = ""

    def reader_text(self) -> list[str]:
        """Return every piece of text a reader sees, as Markdown strings, in order."""
        parts = [self.body, *self.steps, self.why, *self.making_it_yours, self.tracker]
        for extra in self.extras:
            parts += [extra.title, extra.intro, *extra.items]
        parts += [*self.prompts, self.when, *self.openers, self.asking_for,
                  *self.listener, *self.avoid, self.pause]
        return [p for p in parts if p]

    def plain_text(self) -> str:
        """Return the reader-facing text as plain sentences (list items end with a period)."""
        import html
        import re

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
        meta = yaml.safe_load("".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise LibraryError(f"front matter is not valid YAML{where}: {exc}",
                           file=path, field="front matter") from None
    if not isinstance(meta, dict):
        raise LibraryError("front matter must be a mapping of field: value",
                           file=path, field="front matter")
    return meta, "".join(lines[end + 1:])


def parse_module(path: Path, sources: dict[str, str] | None = None) -> Module:
    """Read and validate one module file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LibraryError(f"cannot read module: {exc}", file=path) from None
    return parse_module_text(text, path, sources)


def parse_module_text(text: str, path: Path | str,
                      sources: dict[str, str] | None = None) -> Module:
    """Validate module *text* (front matter and Markdown); *path* names it in errors."""
    path = Path(path)
    meta, body = split_front_matter(text, path)
    for key in ("body", "path"):
        if key in meta:
            raise LibraryError("is not a front matter field", file=path, field=key)
    try:
        module = Module(**meta, body=body.strip(), path=path)
    except ValidationError as exc:
        raise _library_error(exc, path) from None
    extra_parts = {k for k in meta if k in _PARTS} - ALLOWED_PARTS[module.kind]
    if extra_parts:
        name = sorted(extra_parts)[0]
        raise LibraryError(f"is not a part of a {module.kind}", file=path, field=name,
                           choices=ALLOWED_PARTS[module.kind])
    for part in REQUIRED_PARTS[module.kind]:
        if not getattr(module, part):
            raise LibraryError(f"a {module.kind} needs this field, and it is empty or missing",
                               file=path, field=part)
    if module.kind == "script" and not 2 <= len(module.openers) <= 3:
        raise LibraryError("a script needs 2 or 3 alternative openers",
                           file=path, field="openers")
    if module.kind == "matter" and module.id not in MATTER_IDS:
        raise LibraryError(f"unknown matter id {module.id!r}", file=path, field="id",
                           choices=MATTER_IDS)
    if sources is not None:
        for key in module.sources:
            if key not in sources:
                raise LibraryError(f"unknown source {key!r}", file=path, field="sources",
                                   choices=sources)
    return module


def _library_error(exc: ValidationError, path: Path) -> LibraryError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    if kind == "missing":
        return LibraryError("required field is missing", file=path, field=loc)
    if kind == "extra_forbidden":
        return LibraryError("is not a module field", file=path, field=loc,
                            choices=[n for n in Module.model_fields if n not in ("body", "path")])
    if kind == "literal_error":
        choices = {"kind": KINDS, "language": LANGUAGES}.get(loc)
        return LibraryError(f"{err['input']!r} is not allowed", file=path, field=loc,
                            choices=choices)
    if kind == "string_pattern_mismatch":
        return LibraryError(f"{err['input']!r} must be a slug: lower-case letters, digits "
                            "and single hyphens", file=path, field=loc)
    return LibraryError(err["msg"], file=path, field=loc)


@dataclass
class Library:
    """All modules available for one language, by id."""

    language: str
    modules: dict[str, Module] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

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


def _load_sources(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise LibraryError(f"not valid YAML: {exc}", file=path) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise LibraryError("must map each source key to its citation text", file=path)
    return {k: " ".join(v.split()) for k, v in data.items()}


def _module_files(root: Path, language: str | None) -> list[Path]:
    base = root / language if language and (root / language).is_dir() else root
    return sorted(p for p in base.rglob("*.md") if not p.name.startswith(("_", ".")))


def load_library(practice_library: str | Path | None = None, language: str = "en") -> Library:
    """Load the default library for *language*, then a practice folder over it by id.

    A long-lived process (a batch worker) reuses the parsed library while no module file
    has changed; the copy it returns is its own.
    """
    roots = [library_dir()] + ([Path(practice_library).expanduser()] if practice_library
                                else [])
    stamp = tuple((str(p), p.stat().st_mtime_ns) for root in roots if root.is_dir()
                  for p in sorted(root.rglob("*")) if p.is_file())
    key = (str(practice_library or ""), language, stamp)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _load_library(practice_library, language)
    cached = _CACHE[key]
    return Library(cached.language, dict(cached.modules), dict(cached.sources))


_CACHE: dict[tuple, Library] = {}


def _load_library(practice_library: str | Path | None, language: str) -> Library:
    if language not in LANGUAGES:
        raise LibraryError(f"unknown language {language!r}", field="language", choices=LANGUAGES)
    roots = [library_dir()]
    if practice_library:
        extra = Path(practice_library).expanduser()
        if not extra.is_dir():
            raise LibraryError("practice library folder does not exist", file=extra,
                               field="practice_library")
        roots.append(extra)
    library = Library(language=language)
    for root in roots:
        library.sources.update(_load_sources(root / "sources.yaml"))
    for root in roots:
        seen: dict[str, Path] = {}
        for path in _module_files(root, language):
            module = parse_module(path, library.sources)
            if module.language != language:
                continue
            if module.id in seen:
                raise LibraryError(f"id {module.id!r} is also used by {seen[module.id]}",
                                   file=path, field="id")
            seen[module.id] = path
            library.modules[module.id] = module  # a practice module overrides by id
    return library


def check_library(practice_library: str | Path | None = None) -> list[LibraryError]:
    """Validate every module of every language; return all problems found."""
    problems: list[LibraryError] = []
    roots = [library_dir()] + ([Path(practice_library)] if practice_library else [])
    sources: dict[str, str] = {}
    for root in roots:
        try:
            sources.update(_load_sources(root / "sources.yaml"))
        except LibraryError as exc:
            problems.append(exc)
    for root in roots:
        for path in _module_files(root, None):
            try:
                parse_module(path, sources)
            except LibraryError as exc:
                problems.append(exc)
    if not problems:
        for language in LANGUAGES:
            try:
                lib = load_library(practice_library, language)
            except LibraryError as exc:
                problems.append(exc)
                continue
            if not lib.modules:
                continue
            missing = [m for m in MATTER_IDS if m not in lib.modules]
            if missing:
                problems.append(LibraryError(f"matter modules missing: {', '.join(missing)}",
                                             file=library_dir() / language, field="id"))
    return problems
