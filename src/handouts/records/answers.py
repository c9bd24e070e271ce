"""Read an answers file saved from a screen edition, as a filled PDF's form is read.

The web page's "Save my answers" button writes one small JSON file::

    {"format": "handouts-answers", "version": 1, "form_schema": "2",
     "handout": "<the packet's handout id>", "fields": {"<field id>": true | "text", ...}}

with the same field ids as the fillable PDF. It is read with the same bounds as a PDF's
form (size, number of fields, length of an answer) and turned into the same
:class:`~handouts.records.filled.Form`, so :mod:`handouts.records.harvest` checks it
exactly as it checks a PDF: unknown fields refused, ticks only in tick boxes. An error
is one line and never quotes the file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from handouts.core.untrusted import check_size, read_bounded
from handouts.errors import HarvestError
from handouts.records.filled import MAX_FIELDS, MAX_VALUE, NOT_OURS, Form

FORMAT = "handouts-answers"
VERSIONS = (1,)
MAX_BYTES = 2_000_000  # a worksheet's answers are a few kB
_KEYS = ("format", "version", "form_schema", "handout", "fields")
_FIELD_ID = re.compile(r"[a-z0-9][a-z0-9.-]{0,199}")
_HANDOUT_ID = re.compile(r"[0-9a-f]{20}")
_SCHEMA = re.compile(r"[0-9]{1,3}")


def looks_like_answers(path: str | Path, data: bytes | None = None) -> bool:
    """Return whether *path* (or *data*) is an answers file rather than a PDF."""
    if data is not None:
        return data.lstrip()[:1] == b"{"
    return Path(path).suffix.lower() == ".json"


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key is given twice")
    return dict(pairs)


def read_answers(path: str | Path, data: bytes | None = None) -> Form:
    """Return the handout id and fields of the answers file at *path* (or in *data*).

    Raise HarvestError with one line naming *path* when the file is too large, is not
    JSON, is not an answers file or holds something other than ticks and text.
    """
    path = Path(path)
    if data is None:
        data = read_bounded(path, MAX_BYTES, HarvestError, "answers file")
    check_size(path, len(data), MAX_BYTES, HarvestError, "answers file")
    try:
        found = json.loads(data.decode("utf-8"), object_pairs_hook=_unique)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, a key twice, too deep
        raise HarvestError(f"is not a readable answers file (not JSON); {NOT_OURS}",
                           file=path) from None
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        raise HarvestError(f"is not an answers file saved from a handout (no "
                           f"\"format\": \"{FORMAT}\"); {NOT_OURS}", file=path)
    unknown = [key for key in found if key not in _KEYS]
    if unknown:
        raise HarvestError("has entries an answers file never has", file=path,
                           choices=_KEYS)
    version = found.get("version")
    if isinstance(version, bool) or version not in VERSIONS:
        raise HarvestError("uses an answers format this version cannot read",
                           file=path, field="version", choices=VERSIONS)
    schema, handout = found.get("form_schema"), found.get("handout")
    if not isinstance(schema, str) or not _SCHEMA.fullmatch(schema):
        raise HarvestError("has no usable form schema", file=path, field="form_schema")
    if not isinstance(handout, str) or not _HANDOUT_ID.fullmatch(handout):
        raise HarvestError(f"has no usable handout id; {NOT_OURS}", file=path,
                           field="handout")
    return Form(f"handouts-form-schema-{schema} handouts-id-{handout}",
                _fields(found.get("fields"), path))


def _fields(fields: object, path: Path) -> dict[str, Any]:
    """Return the answers as the PDF reader gives them: ticks as names, text as strings."""
    import pikepdf  # lazy: only encrypting or reading a filled PDF needs pikepdf

    if not isinstance(fields, dict):
        raise HarvestError("has no list of fields", file=path, field="fields")
    if len(fields) > MAX_FIELDS:
        raise HarvestError(f"has more than {MAX_FIELDS} fields; a handout has far fewer",
                           file=path, field="fields")
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if not _FIELD_ID.fullmatch(name):
            raise HarvestError("has a form field this handout never had", file=path,
                               field="fields")
        if isinstance(value, bool):
            out[name] = pikepdf.Name("/on" if value else "/Off")
        elif isinstance(value, str):
            if len(value) > MAX_VALUE:
                raise HarvestError(f"an answer is {len(value)} characters long (at most "
                                   f"{MAX_VALUE})", file=path, field=name)
            # Lone surrogates cannot be written as UTF-8: shown as '?', as a PDF's are.
            out[name] = pikepdf.String(value.encode("utf-8", "replace").decode("utf-8"))
        else:
            raise HarvestError("a field holds something other than a tick or text",
                               file=path, field=name)
    return out
