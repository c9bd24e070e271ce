"""Client profiles and practice settings: read, merge and validate the parameters."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from handouts.content.crisis import CrisisLine, check_practice_lines, default_lines
from handouts.core.files import refuse_link
from handouts.core.untrusted import (
    MAX_LOGO_BYTES,
    check_file,
    read_bounded,
    shown_key,
    shown_value,
    unquoted,
)
from handouts.errors import ProfileError

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
Pronouns = Annotated[str, StringConstraints(max_length=40)]


class Partner(BaseModel):
    """A partner as named on the cover: a display name or initials, optional pronouns."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Name
    pronouns: Pronouns | dict[Literal["en", "es"], Pronouns] = ""  # or one per language

    def pronouns_in(self, language: str) -> str:
        """Return the pronouns to print on a cover in *language* (a plain string on all)."""
        if isinstance(self.pronouns, str):
            return self.pronouns
        return self.pronouns.get(language, "")


class OwnSection(BaseModel):
    """A section the therapist writes: Markdown shown as text, placed after a module."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    text: ClientMarkdown
    after: Annotated[str, StringConstraints(max_length=64)] = "end"


Audience = Literal["auto", "couple", "individual", "group"]


def _described(description: str, **kwargs: Any) -> Any:
    return Field(description=description, **kwargs)


class Profile(BaseModel):
    """The validated parameters of one handout.

    Each field's description is its help text: the workbooks' parameters cells, the
    docs' parameter page and the CLI help are generated from it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: ClientId = _described(
        "Pseudonymous slug used for paths; never a client's name.")
    partners: tuple[Partner, ...] = _described(
        "Display names or initials, pronouns optional; one name for an individual client.",
        min_length=1, max_length=8)
    therapist: Annotated[str, StringConstraints(max_length=120)] = _described(
        "Your name and credentials.", default="")
    session_date: dt.date = _described("Session date (YYYY-MM-DD); names the output file.")
    modules: tuple[str, ...] = _described("Article ids, in reading order.",
                                    default_factory=tuple)
    rituals: tuple[str, ...] = _described("Worksheet (ritual) ids, in order.",
                                    default_factory=tuple)
    scripts: tuple[str, ...] = _described("Conversation script ids, in order.",
                                    default_factory=tuple)
    topics: tuple[str, ...] = _described(
        "Topic ids; each adds its recommended modules, rituals and scripts, in order, "
        "before those you list (`handouts library` shows the topics).", default_factory=tuple)
    flags: tuple[str, ...] = _described(
        "Concerns you have noted (e.g. coercion-concern); a module that must not be used "
        "with one of them stops the build.", default_factory=tuple)
    discreet: bool = _described(
        "Neutral cover, running header, file name and PDF metadata, and the practice's "
        "discreet_name (or none) instead of its name; on by default under violence-or-fear "
        "and coercion-concern.", default=False)
    partner_copy: int = _described(
        "Which partner's own packet this is (1, 2, ...), set by the build when a flag or "
        "copies gives each partner a packet of their own; 0 for a packet everyone shares.",
        default=0, ge=0, le=8)
    copies: Literal["shared", "per-partner"] = _described(
        "shared: one packet for everyone; per-partner: one PDF per partner, with their "
        "name on the cover and each worksheet and the private pages only in their own "
        "copy.", default="shared")
    participants: dict[str, tuple[Name, ...]] = _described(
        "For a group: who takes part in a practice, by ritual id (e.g. six-second-kiss: "
        "[Ana, Bo]); its page addresses only them.", default_factory=dict)
    note: ClientMarkdown | dict[Literal["en", "es"], ClientMarkdown] = _described(
        "Personal note in Markdown; shown as text, never as HTML. One per language with "
        "{en: ..., es: ...}: each edition prints its own.", default="")
    own_sections: tuple[OwnSection, ...] = _described(
        "Your own sections: title, text (Markdown) and after (a chosen id, start or end).",
        default_factory=tuple, max_length=20)
    audience: Audience = _described(
        "Who reads it: couple, individual (partner not reading), group (more than two "
        "partners), or auto (from the number of partners).", default="auto")
    language: Literal["en", "es"] = _described("Handout language: en or es.", default="en")
    languages: tuple[Literal["en", "es"], ...] = _described(
        "Several editions in one go, e.g. [es, en]: one PDF per language, each file name "
        "ending in its language; empty for just `language`.", default_factory=tuple)
    paper: Literal["letter", "a4"] = _described("Paper size: letter or a4.",
                                                default="letter")
    large_print: bool = _described("Body text at 16 pt for easier reading.", default=False)
    fillable: bool = _described("Add form fields so the PDF can be filled in on a tablet.",
                                default=False)
    ink_saver: bool = _described("Drop large colour fills when printing.", default=False)
    cards: bool = _described("Add a page of cut-out cards for rituals and openers.",
                             default=False)
    since_last_time: bool = _described(
        "Add a short 'Since last time' page: practice days per ritual from the client's "
        "harvested workbooks (handouts harvest).", default=False)
    quote: Annotated[str, StringConstraints(max_length=300)] = _described(
        "One line you choose to quote on the 'Since last time' page; nothing a partner "
        "wrote is quoted unless you put it here.", default="")
    password: SecretStr = _described(
        "Password to open the PDF (AES-256). Never recorded: give it with "
        "--password-env or --ask-password, or in a profile file.",
        default=SecretStr(""))
    practice_name: Annotated[str, StringConstraints(max_length=120)] = _described(
        "Practice name for the cover and page header.", default="Your therapy practice")
    practice_contact: Annotated[str, StringConstraints(max_length=200)] = _described(
        "Contact line for the cover and back page.", default="")
    practice_logo: str = _described("Path to an SVG, PNG or JPEG logo; empty for the "
                                    "default mark.", default="")
    accent_color: Colour = _described("Accent colour as a hex code (rrggbb, # optional).",
                                      default="#2f6f6a")
    crisis_lines: dict[Literal["en", "es"], tuple[CrisisLine, ...]] = _described(
        "Crisis and support lines for the safety note, per language; US lines by default.",
        default_factory=dict)
    practice_library: str = _described(
        "Folder of your practice's own modules (adds or overrides by id).", default="")
    discreet_name: Annotated[str, StringConstraints(max_length=120)] = _described(
        "A neutral name printed instead of the practice name in discreet packets; empty "
        "leaves the name off.", default="")
    immigration_note: bool = _described(
        "Add one line to the safety and how-to-use pages: this practice does not ask about "
        "immigration status (set it only if that is true of your practice).", default=False)

    @model_validator(mode="after")
    def _one_reader_per_copy(self) -> Profile:
        if self.partner_copy and len(self.partners) != 1 and self.copies != "per-partner":
            raise ValueError("a partner's own packet (partner_copy) names exactly one partner")
        if self.partner_copy > len(self.partners) > 1:
            raise ValueError(f"partner_copy must be a partner's number (1 to "
                             f"{len(self.partners)})")
        names = {p.name for p in self.partners}
        for ritual, who in self.participants.items():
            unknown = [n for n in who if n not in names]
            if unknown or not who:
                raise ValueError(f"participants of {ritual!r} must be partners named in "
                                 f"partners ({', '.join(sorted(names))})")
        return self

    @property
    def names(self) -> list[str]:
        """Return the partners' display names."""
        return [p.name for p in self.partners]

    @property
    def reader(self) -> str:
        """Return who reads the handout: couple, individual or group."""
        if self.audience != "auto":
            return self.audience
        return {1: "individual", 2: "couple"}.get(len(self.partners), "group")

    def editions(self) -> list[Profile]:
        """Return one profile per language edition asked for (just this one by default)."""
        if not self.languages:
            return [self]
        return [self.model_copy(update={"language": language})
                for language in dict.fromkeys(self.languages)]

    @property
    def note_text(self) -> str:
        """Return the note this edition prints: the plain note, or its language's."""
        return self.note if isinstance(self.note, str) else self.note.get(self.language, "")

    @property
    def crisis(self) -> tuple[CrisisLine, ...]:
        """Return the crisis lines for the handout's language."""
        return self.crisis_lines.get(self.language) or default_lines(self.language)


# Settings a practice file may hold; a profile inherits them and may override each one.
PRACTICE_FIELDS = (
    "practice_name", "practice_contact", "practice_logo", "accent_color", "crisis_lines",
    "practice_library", "therapist", "language", "paper", "large_print", "fillable",
    "ink_saver", "cards", "discreet_name", "immigration_note",
)
PARAMETERS = tuple(Profile.model_fields)
_PATH_FIELDS = ("practice_logo", "practice_library")
# Fields that are text: a number or true/false arriving here was converted on the way
# (papermill's -p, unquoted YAML) and may have lost its meaning (00123 -> 123).
STRING_FIELDS = ("client_id", "therapist", "note", "audience", "language", "paper",
                 "practice_name", "practice_contact", "practice_logo", "accent_color",
                 "practice_library", "discreet_name")
BOOL_FIELDS = ("large_print", "fillable", "ink_saver", "cards", "discreet",
               "immigration_note")


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
        text = read_bounded(path, MAX_FILE_BYTES, ProfileError).decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileError("is not UTF-8 text", file=path) from None
    try:
        data = yaml.load(text, Loader=_StringLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "YAML"
        problem = unquoted(getattr(exc, "problem", None) or "cannot be parsed")
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
    raise ProfileError(f"{shown_value(value) or 'the value'} is not true or false",
                       file=file, field=field,
                       choices=("true", "false"))


def _keep_text(value: Any, field: str, file: object) -> None:
    """Refuse a number or true/false where text belongs: it was converted on the way."""
    if isinstance(value, bool | int | float) and not isinstance(value, str):
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        raise ProfileError(
            f"must be text, but arrived as {type(value).__name__} {shown}, which may have "
            "changed it (00123 becomes 123, No becomes false); quote it in YAML "
            f"(\"{shown}\"), or pass it to papermill with -r {field.split('.')[0]} VALUE",
            file=file, field=field)


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for key in _PATH_FIELDS:
        value = data.get(key)
        if isinstance(value, str) and value:
            path = Path(value).expanduser()  # absolute, links kept: validate refuses them
            data[key] = str(path if path.is_absolute() else os.path.abspath(base / path))
    logo = data.get("practice_logo")
    if isinstance(logo, str) and logo and Path(logo).exists():  # missing: the renderer says
        check_file(logo, MAX_LOGO_BYTES, ProfileError, "logo file", field="practice_logo")


def read_practice(path: Path) -> dict[str, Any]:
    """Read a practice settings file; return its fields with paths made absolute."""
    data = read_yaml(refuse_link(path, "practice", error=ProfileError))
    for key in data:
        if key not in PRACTICE_FIELDS:
            named = shown_key(key)
            raise ProfileError("is not a practice setting" if named else
                               "has a field that is not a practice setting", file=path,
                               field=named and str(key), choices=PRACTICE_FIELDS)
    if "crisis_lines" in data:
        check_practice_lines(data["crisis_lines"], path)
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
    unknown = [unknown_parameter(str(key), PARAMETERS, file) for key in data
               if key not in PARAMETERS]
    if unknown:
        unknown[0].problems = unknown
        raise unknown[0]
    early: dict[str, ProfileError] = {}  # reported with pydantic's, not instead of them
    for key in BOOL_FIELDS:
        if key in data:
            try:
                data[key] = _coerce_bool(data[key], key, file)
            except ProfileError as exc:
                early[key] = exc
    for key in STRING_FIELDS:
        _keep_text(data.get(key), key, file)
    if isinstance(data.get("note"), dict):
        for language, text in data["note"].items():
            _keep_text(text, f"note.{language}", file)
    for key in _PATH_FIELDS:  # a link could bring any file on the machine into a handout
        if isinstance(data.get(key), str) and data[key]:
            refuse_link(Path(data[key]).expanduser(), key, file, ProfileError)
    if isinstance(data.get("partners"), (list, tuple)):
        data["partners"] = [
            {"name": p} if isinstance(p, str) else p for p in data["partners"]
        ]
        for index, partner in enumerate(data["partners"]):
            if isinstance(partner, dict):
                for key in ("name", "pronouns"):
                    _keep_text(partner.get(key), f"partners[{index}].{key}", file)
                if isinstance(partner.get("pronouns"), dict):
                    for language, text in partner["pronouns"].items():
                        _keep_text(text, f"partners[{index}].pronouns.{language}", file)
    if isinstance(data.get("session_date"), str):
        try:
            data["session_date"] = dt.date.fromisoformat(data["session_date"].strip())
        except ValueError:
            shown = shown_value(data["session_date"]) or "the value"
            early["session_date"] = ProfileError(f"{shown} is not a date like 2026-11-24",
                                                 file=file, field="session_date")
    for key in ("modules", "rituals", "scripts", "topics", "flags", "languages"):
        if isinstance(data.get(key), str):
            data[key] = [s.strip() for s in data[key].split(",") if s.strip()]
    if "crisis_lines" in data:
        check_practice_lines(data["crisis_lines"], file)
    try:
        profile = Profile(**{k: v for k, v in data.items() if k not in early})
        problems = []
    except ValidationError as exc:
        problems = [_profile_error(err, file) for err in _one_per_union(exc.errors())
                    if not err["loc"] or err["loc"][0] not in early]
    problems = [*early.values(), *problems]
    if problems:
        problems[0].problems = problems
        raise problems[0] from None
    return profile


def unknown_parameter(name: str, valid: Iterable[str], file: object | None = None
                      ) -> ProfileError:
    """Return the error for an unknown parameter, with the closest valid name."""
    valid = list(valid)
    if shown_key(name) is None:  # not a field name: perhaps a line of some other file
        return ProfileError("has a field that is not a parameter", file=file,
                            choices=valid)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    if close:
        return ProfileError(f"unknown parameter {name!r} (did you mean {close[0]!r}?)",
                            file=file)
    return ProfileError(f"unknown parameter {name!r}", file=file, choices=valid)


# pydantic names the member of a union (text or one per language) in an error's location.
_UNION_TAG = re.compile(r"function-[a-z]+\[.*\]|constrained-str|str|dict\[.*\]")


def _one_per_union(errors: list[dict]) -> list[dict]:
    """Keep, for a field that is text or one text per language, the member that was given."""
    kept = []
    for err in errors:
        tags = [p for p in err["loc"] if isinstance(p, str) and _UNION_TAG.fullmatch(p)]
        if tags and (err["type"] == "dict_type" or (err["type"] == "string_type"
                                                    and isinstance(err["input"], dict))):
            continue  # the other member's complaint: the value was not meant as that
        loc = tuple(p for p in err["loc"] if p not in tags and p != "[key]")
        kept.append({**err, "loc": loc})
    return kept


def _profile_error(err: dict, file: object | None) -> ProfileError:
    loc = ".".join(str(p) for p in err["loc"])
    kind = err["type"]
    top = str(err["loc"][0]) if err["loc"] else ""
    if kind == "missing":
        return ProfileError("required field is missing", file=file, field=loc)
    if kind == "extra_forbidden":
        allowed = {"partners": ("name", "pronouns"),
                   "own_sections": ("title", "text", "after")}.get(top, PARAMETERS)
        if shown_key(err["loc"][-1]) is None:
            loc = ".".join(str(p) for p in err["loc"][:-1])
            return ProfileError("has a field that is not known", file=file, field=loc,
                                choices=allowed)
        return ProfileError("is not a known field", file=file, field=loc, choices=allowed)
    if kind == "literal_error":
        # pydantic lists the allowed values as "'en' or 'es'" (one Literal per field or key)
        choices = re.findall(r"'([^']*)'", err.get("ctx", {}).get("expected", ""))
        return ProfileError(f"{shown_value(err['input']) or 'the value'} is not allowed",
                            file=file, field=loc,
                            choices=choices)
    if kind == "string_pattern_mismatch":
        if top == "client_id":
            # The value is not repeated: a mistyped id may be a client's real name.
            return ProfileError(
                "must be a pseudonymous slug of at most 64 characters: lower-case letters, "
                "digits, single '-' or '_' (never a client's name)", file=file, field=loc)
        if top == "accent_color":
            return ProfileError(f"{shown_value(err['input']) or 'it'} must be a colour "
                                "like #2f6f6a",
                                file=file, field=loc)
    if top == "partners" and kind in ("list_type", "too_short", "dict_type", "model_type"):
        return ProfileError("must list one or more partners, each with a name",
                            file=file, field=loc)
    return ProfileError(err["msg"], file=file, field=loc)


def load_profile(path: str | Path) -> Profile:
    """Read, merge and validate a client profile file."""
    return validate(read_profile(path), file=path)


def to_parameters(profile: Profile) -> dict[str, Any]:
    """Return the profile as plain workbook parameters (JSON-safe, never the password)."""
    return profile.model_dump(mode="json", exclude={"password"})
