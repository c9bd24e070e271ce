"""Parse a module file: its front matter and body, and every problem in it, one line each."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import (
    ValidationError,
)

from handouts.content.module import (
    _PARTS,
    ALLOWED_PARTS,
    AUDIENCES,
    KINDS,
    LANGUAGES,
    MATTER_IDS,
    REQUIRED_PARTS,
    Extra,
    Facilitation,
    Module,
    Variants,
    _blocks,
)
from handouts.core.resources import load_yaml
from handouts.core.untrusted import MAX_MODULE_BYTES, read_bounded
from handouts.errors import LibraryError


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
    if module.kind == "matter" and module.facilitation is not None:
        problems.append(LibraryError("a matter page has no facilitation notes (the "
                                     "therapist's guide covers chosen modules only)",
                                     file=path, field="facilitation"))
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
            Extra.model_fields if top == "extras" else
            Facilitation.model_fields if top == "facilitation" and len(err["loc"]) > 1
            else _FRONT_FIELDS)
        return LibraryError("is not a known field", file=path, field=loc, choices=choices)
    if kind == "literal_error":
        choices = {"kind": KINDS, "language": LANGUAGES}.get(top, AUDIENCES)
        return LibraryError(f"{err['input']!r} is not allowed", file=path, field=loc,
                            choices=choices)
    if kind == "string_pattern_mismatch":
        return LibraryError(f"{err['input']!r} must be a slug: lower-case letters, digits "
                            "and single hyphens", file=path, field=loc)
    return LibraryError(err["msg"], file=path, field=loc)
