"""Crisis and support lines: the model, and the bundled lines by country and language."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError

from handouts.core.resources import library_dir, load_yaml
from handouts.core.untrusted import shown_key, shown_value
from handouts.errors import HandoutsError, LibraryError, ProfileError

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Language = Literal["en", "es"]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
BUNDLED_COUNTRY = "US"  # the lines printed when a practice lists none of its own


class CrisisLine(BaseModel):
    """One crisis or support line printed in the safety note, in one language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=120)]  # its name in that language
    number: Short = ""  # the number to call
    text: Short = ""  # how to reach it by text message
    chat: Short = ""  # where to chat online
    hours: Short = ""  # when it answers, and in which language

    def details(self) -> str:
        """Return how to text, chat and when it answers, as one line of text."""
        return " ".join(part for part in (self.text, self.chat, self.hours) if part)


LINE_FIELDS = tuple(CrisisLine.model_fields)
PracticeLines = dict[Language, tuple[CrisisLine, ...]]
_PRACTICE = TypeAdapter(PracticeLines)
_BUNDLED = TypeAdapter(dict[Country, PracticeLines])


def _error(err: dict, file: object, top: str, kind: type[HandoutsError]) -> HandoutsError:
    """Return one line naming the file, the field and what is valid."""
    loc = ".".join([top, *(str(p) for p in err["loc"])]) if top else \
        ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        named = shown_key(err["loc"][-1]) is not None
        return kind("is not a crisis-line field" if named else "has a field that is not "
                    "a crisis-line field", file=file, field=loc if named else
                    loc.rsplit(".", 1)[0], choices=LINE_FIELDS)
    if err["type"] == "literal_error":
        return kind(f"{shown_value(err['input']) or 'the value'} is not a language here",
                    file=file, field=loc, choices=("en", "es"))
    if err["type"] == "missing":
        return kind("required field is missing (each line needs a label)", file=file,
                    field=loc, choices=LINE_FIELDS)
    if err["type"] in ("list_type", "tuple_type", "dict_type", "model_type"):
        return kind("must be lines per language, each with label, number, text, chat or "
                    "hours", file=file, field=loc, choices=LINE_FIELDS)
    return kind(err["msg"], file=file, field=loc)


def check_practice_lines(value: Any, file: object) -> PracticeLines:
    """Validate a practice's ``crisis_lines`` (lines per language); errors name *file*."""
    try:
        return _PRACTICE.validate_python(value)
    except ValidationError as exc:
        raise _error(exc.errors()[0], file, "crisis_lines", ProfileError) from None


@cache
def bundled_lines(path: Path | None = None) -> dict[str, PracticeLines]:
    """Return the bundled lines by country and language (``library/crisis-lines.yaml``)."""
    path = path or library_dir() / "crisis-lines.yaml"
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
        return _BUNDLED.validate_python(data)
    except ValidationError as exc:
        raise _error(exc.errors()[0], path, "", LibraryError) from None
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise LibraryError(f"cannot be read ({type(exc).__name__})", file=path) from None


def default_lines(language: str, country: str = BUNDLED_COUNTRY) -> tuple[CrisisLine, ...]:
    """Return the bundled lines of *country* in *language*."""
    return bundled_lines()[country][language]
