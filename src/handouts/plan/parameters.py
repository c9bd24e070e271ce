"""The parameters, written out from the one schema (:class:`handouts.plan.profile.Profile`).

The workbooks' parameters cells, the docs' parameter page and ``handouts
parameters`` all come from here, so they cannot drift from what is validated.
"""

from __future__ import annotations

import json
from typing import Any

from handouts.core.resources import examples_dir
from handouts.errors import PARAMETERS_MARK
from handouts.plan.profile import PRACTICE_FIELDS, Profile
from handouts.plan.reading import read_yaml

# Every parameter but the password, which is never a notebook value. Practice settings
# default to None: the practice file's value.
CELL_FIELDS = tuple(name for name in Profile.model_fields if name != "password")
WORKBOOK_FIELDS = {
    "practice": ("str", "", "Practice settings file (YAML). Empty: practice.yaml in this "
                            "folder, else the bundled fictional example."),
    "output_dir": ("str", "output", "Where PDFs go: <output_dir>/<client_id>/."),
    "confirm_gate": ("bool", False, "True: record in the client's records that you "
                                    "confirmed the gate that opens this program week "
                                    "(as handouts program advance does), then build."),
}
_TYPES = {"str": "str", "bool": "bool", "list": "list", "dict": "dict"}


def _type_name(name: str) -> str:
    if name == "note":  # text, or a mapping of language to text
        return "str"
    annotation = str(Profile.model_fields[name].annotation)
    if annotation.startswith("tuple"):
        return "list"
    if name in ("crisis_lines", "participants"):
        return "dict"
    if "int" in annotation:
        return "int"
    return "bool" if "bool" in annotation else "str"


def describe(name: str) -> str:
    """Return the help text of parameter *name*."""
    if name in WORKBOOK_FIELDS:
        return WORKBOOK_FIELDS[name][2]
    text = Profile.model_fields[name].description or ""
    if name in PRACTICE_FIELDS and name not in ("cards",):
        text += " None: the practice file's setting."
    return text


def sample_values(workbook: str) -> dict[str, Any]:
    """Return the fictional client a workbook's defaults describe."""
    data = read_yaml(examples_dir() / "clients" / "sample-couple.yaml")
    data.pop("practice", None)
    values: dict[str, Any] = {}
    for name in CELL_FIELDS:
        if name in PRACTICE_FIELDS and name != "cards":
            values[name] = None  # the practice file decides unless the therapist does
        elif name in data:
            value = data[name]
            if name in ("large_print", "fillable", "ink_saver", "cards", "discreet"):
                value = str(value).lower() in ("true", "yes", "on", "1")
            values[name] = value
        else:
            default = Profile.model_fields[name].get_default(call_default_factory=True)
            values[name] = list(default) if isinstance(default, tuple) else default
    if workbook == "quick":
        values.update(modules=[], scripts=[], rituals=values["rituals"][:1], note="",
                      own_sections=[], cards=False)
    return values


def _literal(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def parameters_cell(workbook: str) -> str:
    """Return the parameters cell of a client workbook (``connection`` or ``quick``)."""
    lines = [f"{PARAMETERS_MARK}: papermill, `handouts build` and `handouts batch` "
             "replace these values."]
    values = sample_values(workbook)
    for name in CELL_FIELDS:
        lines.append(f"{name}: {_type_name(name)} = {_literal(values[name])}  "
                     f"# {describe(name)}")
    for name, (kind, default, _) in WORKBOOK_FIELDS.items():
        lines.append(f"{name}: {kind} = {_literal(default)}  # {describe(name)}")
    return "\n".join(lines) + "\n"


def table() -> str:
    """Return the Markdown table of every parameter (for docs/parameters.md)."""
    rows = ["| parameter | type | help |", "|---|---|---|"]
    for name in (*Profile.model_fields, *WORKBOOK_FIELDS):
        kind = WORKBOOK_FIELDS[name][0] if name in WORKBOOK_FIELDS else _type_name(name)
        rows.append(f"| `{name}` | {kind} | {describe(name)} |")
    return "\n".join(rows) + "\n"
