"""Client profiles and practice settings: read, merge and validate the parameters."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from .errors import ProfileError

ClientId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+([-_][a-z0-9]+)*$", max_length=64)
]
Colour = Annotated[
    str,
    StringConstraints(pattern=r"^#?[0-9a-fA-F]{6}$"),
    AfterValidator(lambda v: "#" + v.lstrip("#").lower()),
]
_DEEP_QUOTE = re.compile(r"^\s*(?:>\s*){11,}")


def _shallow(text: str) -> str:
    """Refuse Markdown quoted more than 10 levels deep: it would print as nothing useful."""
    for number, line in enumerate(text.splitlines(), start=1):
        if _DEEP_QUOTE.match(line):
            raise ValueError(f"line {number} is quoted more than 10 levels deep")
    return text


ClientMarkdown = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_shallow)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]

DEFAULT_CRISIS_LINE = (
    "In the US, call or text 988 (Suicide & Crisis Lifeline) any time. "
    "In an emergency, call 911."
)


class Partner(BaseModel):
    """A partner as named on the cover: a display name or initials, optional pronouns."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Name
    pronouns: Annotated[str, StringConstraints(max_length=40)] = ""


class OwnSection(BaseModel):
    """A section the therapist writes: Markdown shown as text, placed after a module."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    text: ClientMarkdown
    after: Annotated[str, StringConstraints(max_length=64)] = "end"


class Profile(BaseModel):
    """The validated parameters of one handout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: ClientId
    partners: list[Partner] = Field(min_length=1, max_length=8)
    therapist: Annotated[str, StringConstraints(max_length=120)] = ""
    session_date: dt.date
    modules: list[str] = Field(default_factory=list)
    rituals: list[str] = Field(default_factory=list)
    scripts: list[str] = Field(default_factory=list)
    note: ClientMarkdown = ""
    own_sections: list[OwnSection] = Field(default_factory=list, max_length=20)
    language: Literal["en", "es"] = "en"
    paper: Literal["letter", "a4"] = "letter"
    large_print: bool = False
    fillable: bool = False
    ink_saver: bool = False
    cards: bool = False
    password: Annotated[str, StringConstraints(max_length=127)] = ""
    practice_name: Annotated[str, StringConstraints(max_length=120)] = "Your therapy practice"
    practice_contact: Annotated[str, StringConstraints(max_length=200)] = ""
    practice_logo: str = ""
    accent_color: Colour = "#2f6f6a"
    crisis_line: Annotated[str, StringConstraints(max_length=400)] = DEFAULT_CRISIS_LINE
    practice_library: str = ""

    @property
    def names(self) -> list[str]:
        """Return the partners' display names."""
        return [p.name for p in self.partners]


# Settings a practice file may hold; a profile inherits them and may override each one.
PRACTICE_FIELDS = (
    "practice_name", "practice_contact", "practice_logo", "accent_color", "crisis_line",
    "practice_library", "therapist", "language", "paper", "large_print", "fillable",
    "ink_saver", "cards",
)
PARAMETERS = tuple(Profile.model_fields)
_PATH_FIELDS = ("practice_logo", "practice_library")
_STRING_FIELDS = {
    name for name, f in Profile.model_fields.items() if f.annotation in (str, ClientId)
} | {"therapist", "note", "practice_name", "practice_contact", "crisis_line"}


MAX_FILE_BYTES = 1_000_000  # a profile, practice file or YAML roster is far smaller


class _StringLoader(yaml.SafeLoader):
    """Load YAML keeping every plain scalar as text; fields decide their own types.

    Aliases are refused: a few lines of nested aliases can expand to billions of values.
    """

    def compose_node(self, parent, index):  # noqa: D102
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed here", event.start_mark)
        return super().compose_node(parent, index)


# Drop implicit typing (bool, int, float, null, timestamp): `00123`, `No`, `on`, `null`
# and `1e3` stay the strings they are. Booleans and dates are parsed per field below.
_StringLoader.yaml_implicit_resolvers = {}


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping with every scalar kept as a string."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ProfileError(f"file is larger than {MAX_FILE_BYTES // 1000} kB", file=path)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError("file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read file: {exc}", file=path) from None
    try:
        data = yaml.load(text, Loader=_StringLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError(f"malformed YAML: {problem}", file=path, field=where) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProfileError("must be a mapping of field: value", file=path)
    return data


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


def _coerce_bool(value: Any, field: str, file: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ProfileError(f"{value!r} is not true or false", file=file, field=field,
                       choices=("true", "false"))


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for key in _PATH_FIELDS:
        value = data.get(key)
        if isinstance(value, str) and value:
            path = Path(value).expanduser()
            data[key] = str(path if path.is_absolute() else (base / path).resolve())


def read_practice(path: Path) -> dict[str, Any]:
    """Read a practice settings file; return its fields with paths made absolute."""
    data = read_yaml(path)
    for key in data:
        if key not in PRACTICE_FIELDS:
            raise ProfileError("is not a practice setting", file=path, field=str(key),
                               choices=PRACTICE_FIELDS)
    _resolve_paths(data, path.parent)
    return data


def read_profile(path: str | Path) -> dict[str, Any]:
    """Read a client profile and the practice file it inherits; return merged raw fields.

    The practice file is the profile's ``practice`` field (relative to the profile), or
    ``practice.yaml`` beside it when that exists.
    """
    path = Path(path)
    return inherit_practice(read_yaml(path), path.parent, path)


def inherit_practice(data: dict[str, Any], base: Path, source: object) -> dict[str, Any]:
    """Merge *data* over the practice file it names (or ``practice.yaml`` in *base*).

    Relative paths in *data* are taken from *base*; *source* names it in errors.
    """
    data = dict(data)
    practice_ref = data.pop("practice", None)
    if practice_ref is not None and not isinstance(practice_ref, str):
        raise ProfileError("must be the path of a practice settings file", file=source,
                           field="practice")
    practice_path = (base / practice_ref) if practice_ref else base / "practice.yaml"
    merged: dict[str, Any] = {}
    if practice_ref or practice_path.is_file():
        merged.update(read_practice(practice_path))
    _resolve_paths(data, base)
    merged.update(data)
    return merged


def validate(params: dict[str, Any], file: object | None = None) -> Profile:
    """Validate raw parameters (from YAML, a roster row or a notebook) into a Profile."""
    if not isinstance(params, dict):
        raise ProfileError("parameters must be a mapping of field: value", file=file)
    data = dict(params)
    for key in data:
        if key not in PARAMETERS:
            raise ProfileError("is not a known parameter", file=file, field=str(key),
                               choices=PARAMETERS)
    for key in ("large_print", "fillable", "ink_saver", "cards"):
        if key in data:
            data[key] = _coerce_bool(data[key], key, file)
    if isinstance(data.get("partners"), list):
        data["partners"] = [
            {"name": p} if isinstance(p, str) else p for p in data["partners"]
        ]
    if isinstance(data.get("session_date"), str):
        try:
            data["session_date"] = dt.date.fromisoformat(data["session_date"].strip())
        except ValueError:
            raise ProfileError(f"{data['session_date']!r} is not a date like 2026-11-24",
                               file=file, field="session_date") from None
    for key in ("modules", "rituals", "scripts"):
        if isinstance(data.get(key), str):
            data[key] = [s.strip() for s in data[key].split(",") if s.strip()]
    try:
        return Profile(**data)
    except ValidationError as exc:
        raise _profile_error(exc, file) from None


def _profile_error(exc: ValidationError, file: object | None) -> ProfileError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    top = str(err["loc"][0]) if err["loc"] else ""
    if kind == "missing":
        return ProfileError("required field is missing", file=file, field=loc)
    if kind == "extra_forbidden":
        allowed = {"partners": ("name", "pronouns"),
                   "own_sections": ("title", "text", "after")}.get(top, PARAMETERS)
        return ProfileError("is not a known field", file=file, field=loc, choices=allowed)
    if kind == "literal_error":
        choices = Profile.model_fields[top].annotation.__args__
        return ProfileError(f"{err['input']!r} is not allowed", file=file, field=loc,
                            choices=choices)
    if kind == "string_pattern_mismatch":
        if top == "client_id":
            # The value is not repeated: a mistyped id may be a client's real name.
            return ProfileError(
                "must be a pseudonymous slug of at most 64 characters: lower-case letters, "
                "digits, single '-' or '_' (never a client's name)", file=file, field=loc)
        if top == "accent_color":
            return ProfileError(f"{err['input']!r} must be a colour like #2f6f6a",
                                file=file, field=loc)
    if top == "partners" and kind in ("list_type", "too_short", "dict_type", "model_type"):
        return ProfileError("must list one or more partners, each with a name",
                            file=file, field=loc)
    return ProfileError(err["msg"], file=file, field=loc)


def load_profile(path: str | Path) -> Profile:
    """Read, merge and validate a client profile file."""
    return validate(read_profile(path), file=path)


def to_parameters(profile: Profile) -> dict[str, Any]:
    """Return the profile as plain workbook parameters (JSON-safe values)."""
    return profile.model_dump(mode="json")
