"""Read profiles and practice files: bounded, strings kept as strings, practice settings
inherited."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from handouts.content.crisis import check_practice_lines
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
from handouts.plan.profile import _PATH_FIELDS, MAX_FILE_BYTES, PRACTICE_FIELDS


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
