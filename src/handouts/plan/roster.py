"""Read a caseload roster (CSV or YAML) into rows of raw client parameters."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handouts.core.untrusted import check_file, read_bounded, shown_key
from handouts.errors import BatchError, ProfileError
from handouts.plan.profile import PARAMETERS
from handouts.plan.reading import inherit_practice, read_profile, read_yaml

MAX_ROWS = 5_000
MAX_BYTES = 10_000_000  # 5,000 rows of a few hundred characters each
ROSTER_COLUMNS = (*PARAMETERS, "profile", "practice")


@dataclass
class Row:
    """One roster row: its number (1-based, as a spreadsheet counts data rows) and fields."""

    number: int
    fields: dict[str, Any]
    base: Path


_PARTNER = re.compile(r"^\s*(?P<name>[^()]+?)\s*(?:\((?P<pronouns>[^()]*)\))?\s*$")


def _partners_from_text(text: str) -> list[dict[str, str]]:
    """Parse ``"Alex (they/them); Sam"`` into partner mappings."""
    partners = []
    for part in text.split(";"):
        if not part.strip():
            continue
        match = _PARTNER.match(part)
        if not match:  # the cell is not repeated: it holds a client's name
            raise ValueError(f"cannot read partner {len(partners) + 1}; write "
                             "'Name (pronouns)'")
        entry = {"name": match["name"].strip()}
        if match["pronouns"]:
            entry["pronouns"] = match["pronouns"].strip()
        partners.append(entry)
    return partners


def read_roster(path: str | Path) -> list[Row]:
    """Read a CSV or YAML roster into rows (fields still unvalidated)."""
    path = Path(path)
    check_file(path, MAX_BYTES, BatchError, "roster file")
    base = path.parent.resolve()
    if path.suffix.lower() == ".csv":
        try:
            text = read_bounded(path, MAX_BYTES, BatchError, "roster file").decode("utf-8-sig")
            with io.StringIO(text, newline="") as handle:
                reader = csv.DictReader(handle)
                rows = []
                for number, record in enumerate(reader, start=1):
                    if number > MAX_ROWS:
                        raise BatchError(f"more than {MAX_ROWS} rows; split the roster",
                                         file=path)
                    if None in record:
                        raise BatchError("has more cells than the header has columns",
                                         file=path, field=f"row {number}")
                    fields = {k.strip(): v for k, v in record.items()
                              if k is not None and v is not None and v.strip() != ""}
                    rows.append(Row(number, fields, base))
        except UnicodeDecodeError:
            raise BatchError("is not UTF-8 text", file=path) from None
        except csv.Error as exc:
            raise BatchError(f"cannot read CSV: {exc}", file=path) from None
        return rows
    if path.suffix.lower() in (".yaml", ".yml"):
        data = read_yaml(path)
        clients = data.get("clients") if isinstance(data, dict) else None
        if not isinstance(clients, list):
            raise BatchError("a YAML roster is a mapping with a 'clients' list "
                             "(and optionally 'practice')", file=path, field="clients")
        if len(clients) > MAX_ROWS:
            raise BatchError(f"more than {MAX_ROWS} clients; split the roster", file=path)
        extra = set(data) - {"clients", "practice"}
        if extra:
            named = shown_key(sorted(map(str, extra))[0])
            raise BatchError("is not a roster field" if named else
                             "has a field that is not a roster field", file=path,
                             field=named and sorted(map(str, extra))[0],
                             choices=("clients", "practice"))
        rows = []
        for number, entry in enumerate(clients, start=1):
            if isinstance(entry, str):
                entry = {"profile": entry}
            if not isinstance(entry, dict):
                raise BatchError("each client is a profile path or a mapping of fields",
                                 file=path, field=f"clients[{number - 1}]")
            if "practice" in data and "practice" not in entry and "profile" not in entry:
                entry = {**entry, "practice": data["practice"]}
            rows.append(Row(number, dict(entry), base))
        return rows
    raise BatchError("roster must be a .csv or .yaml file", file=path,
                     choices=(".csv", ".yaml", ".yml"))


def row_params(row: Row, roster: Path) -> dict[str, Any]:
    fields = dict(row.fields)
    unknown = [k for k in fields if k not in ROSTER_COLUMNS]
    if unknown:
        named = shown_key(unknown[0]) and str(unknown[0])
        raise ProfileError("is not a known parameter" if named else
                           "has a field that is not a parameter", field=named,
                           choices=ROSTER_COLUMNS)
    if isinstance(fields.get("partners"), str):
        try:
            fields["partners"] = _partners_from_text(fields["partners"])
        except ValueError as exc:
            raise ProfileError(str(exc), field="partners") from None
    if isinstance(fields.get("own_sections"), str):
        raise ProfileError("own sections need a YAML roster or a profile file, not a CSV cell",
                           field="own_sections")
    profile_ref = fields.pop("profile", None)
    if profile_ref:
        profile_path = Path(profile_ref).expanduser()
        if not profile_path.is_absolute():
            profile_path = row.base / profile_path
        base = read_profile(profile_path)
        fields.pop("practice", None)
        overrides = inherit_practice(fields, row.base, roster) if fields else {}
        overrides = {k: v for k, v in overrides.items() if k in fields}
        return {**base, **overrides}
    return inherit_practice(fields, row.base, roster)


