"""Programs: multi-week plans as data (``library/programs/*.yaml``, and a practice's own).

A program is a sequence of weeks; each week names its modules, rituals, scripts and
topics, which a profile's ``program`` and ``week`` add as topics are added (the flags still
route them). A week may carry a gate: something the therapist confirms before the week
(``before: true``) or after it, before the next one (``before: false``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from handouts.core.resources import load_yaml
from handouts.errors import LibraryError

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]
MAX_PROGRAM_BYTES = 200_000
MAX_WEEKS = 26


class Words(BaseModel):
    """A text in English and, optionally, Spanish (English stands in where it is missing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: Text
    es: Text | None = None

    def get(self, language: str) -> str:
        """Return the text for *language*."""
        return (self.es if language == "es" else None) or self.en


class Gate(BaseModel):
    """What the therapist confirms before a week (or after it, before the next)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    before: bool = True
    text: Words


class Week(BaseModel):
    """One week of a program: its title, what it hands out, and an optional gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    week: int = Field(ge=1, le=MAX_WEEKS)
    title: Words
    focus: Words | None = None  # one or two sentences printed at the top of the packet
    modules: tuple[Slug, ...] = ()
    rituals: tuple[Slug, ...] = ()
    scripts: tuple[Slug, ...] = ()
    topics: tuple[Slug, ...] = ()
    gate: Gate | None = None


class Program(BaseModel):
    """A multi-week plan: id, title, summary and its weeks, numbered 1, 2, ... in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    title: Words
    summary: Words
    weeks: tuple[Week, ...] = Field(min_length=1, max_length=MAX_WEEKS)

    def get_week(self, number: int) -> Week:
        """Return week *number*, or raise with the valid weeks."""
        for week in self.weeks:
            if week.week == number:
                return week
        raise LibraryError(f"program {self.id!r} has no week {number}", field="week",
                           choices=[str(w.week) for w in self.weeks])

    def gates(self) -> dict[int, Gate]:
        """Return each gate by the week it opens (a gate after week N opens week N+1)."""
        opens = {}
        for week in self.weeks:
            if week.gate is not None:
                target = week.week if week.gate.before else week.week + 1
                if target <= len(self.weeks):
                    opens[target] = week.gate
        return opens


def _field(loc: tuple) -> str:
    """Return a pydantic error location as a dotted path with [index]es."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(loc: tuple) -> type[BaseModel]:
    """Return the model whose keys the location *loc* (without its last part) names."""
    model: type[BaseModel] = Program
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        for candidate in (Week, Gate, Words):
            if candidate is annotation or candidate in getattr(annotation, "__args__", ()):
                model = candidate
                break
    return model


def parse_program(path: Path) -> Program:
    """Read and validate one program file; raise LibraryError naming the file and field."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LibraryError(f"cannot read: {exc.strerror}", file=path) from None
    if len(raw) > MAX_PROGRAM_BYTES:
        raise LibraryError(f"is larger than {MAX_PROGRAM_BYTES // 1000} kB; a program is "
                           "far smaller", file=path)
    try:
        data = load_yaml(raw.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise LibraryError("is not valid YAML (UTF-8)", file=path) from None
    if not isinstance(data, dict):
        raise LibraryError("must be a mapping with id, title, summary and weeks", file=path)
    try:
        program = Program.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc, message, choices = error["loc"], error["msg"].replace("\n", " "), None
        if error["type"] == "extra_forbidden":  # name the key, never quote its value
            message = f"unknown key {str(loc[-1])[:40]!r}"
            loc, choices = loc[:-1], list(_model_at(loc[:-1]).model_fields)
        elif error["type"] == "missing":
            message = "is missing"
        raise LibraryError(message, file=path, field=_field(loc) or "top level",
                           choices=choices) from None
    numbers = [w.week for w in program.weeks]
    if numbers != list(range(1, len(numbers) + 1)):
        raise LibraryError("weeks must be numbered 1, 2, 3, ... in order", file=path,
                           field="weeks", choices=[str(n) for n in range(1, len(numbers) + 1)])
    for index, week in enumerate(program.weeks):
        if not (week.modules or week.rituals or week.scripts or week.topics):
            raise LibraryError("a week names at least one module, ritual, script or topic",
                               file=path, field=f"weeks[{index}]")
    if program.id != path.stem:
        raise LibraryError(f"id {program.id!r} must match the file name", file=path,
                           field="id", choices=[path.stem])
    return program


def load_programs(roots: list[Path]) -> dict[str, tuple[Program, Path]]:
    """Return each program of every root's ``programs/`` folder, with its file; a later
    root overrides by id."""
    found: dict[str, tuple[Program, Path]] = {}
    for root in roots:
        folder = root / "programs"
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            if not path.name.startswith(("_", ".")):
                program = parse_program(path)
                found[program.id] = (program, path)
    return found


def check_program_ids(program: Program, ids: Mapping[str, list[str]], topics: list[str],
                      file: Path) -> None:
    """Raise if a week names an id the library lacks in that list (articles, ...)."""
    for index, week in enumerate(program.weeks):
        for name, valid in [*ids.items(), ("topics", topics)]:
            for position, module_id in enumerate(getattr(week, name)):
                if module_id not in valid:
                    raise LibraryError(f"program {program.id!r} names no {name[:-1]} "
                                       f"{module_id!r}", file=file,
                                       field=f"weeks[{index}].{name}[{position}]",
                                       choices=valid)

