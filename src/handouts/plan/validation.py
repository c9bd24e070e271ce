"""Validate raw parameters into a Profile, with every problem named at once, one line each."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from handouts.content.crisis import check_practice_lines
from handouts.core.files import refuse_link
from handouts.core.untrusted import (
    shown_key,
    shown_value,
)
from handouts.errors import ProfileError
from handouts.plan.profile import _PATH_FIELDS, BOOL_FIELDS, PARAMETERS, STRING_FIELDS, Profile
from handouts.plan.reading import _coerce_bool, _keep_text, read_profile


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


def with_program(profile: Profile, program: str | None, week: int | None,
                 file: object | None = None) -> Profile:
    """Return *profile* following *program* at *week* (each overrides the profile's own)."""
    program = program if program is not None else profile.program
    week = week if week is not None else profile.week
    if bool(program) != bool(week):
        raise ProfileError("program and week go together: give both (week 1, 2, ...) or "
                           "neither", file=file, field="week" if program else "program")
    return profile.model_copy(update={"program": program, "week": week})
