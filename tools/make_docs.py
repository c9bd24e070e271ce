"""Write the generated docs pages from the one schema and the library data.

`docs/parameters.md` comes from `handouts.Profile` (the table `handouts parameters`
prints) and `docs/flags.md` from `flags.yaml` and the library (`handouts flags`). Run
`python tools/make_docs.py` after changing either; `--check` only reports drift (CI and
a test use it).
"""
import sys
from pathlib import Path

from handouts.content.library import load_library
from handouts.plan.parameters import table
from handouts.plan.routing import flag_table

DOCS = Path(__file__).resolve().parents[1] / "docs"

PARAMETERS_HEAD = """\
# Parameters

Generated from the one schema (`handouts.Profile`); `handouts parameters` prints it, and
a test fails when this table, a workbook's parameters cell or the schema drift apart
(regenerate with `python tools/make_docs.py`). Every door takes the same parameters: a
profile file, a roster row, a workbook's parameters cell, papermill's `-p`/`-y`/`-f` and
the form app. How to write them is in [Writing a client profile](profiles.md).

"""


def pages() -> dict[str, str]:
    """Return each generated page's file name and text."""
    return {"parameters.md": PARAMETERS_HEAD + table(),
            "flags.md": flag_table(load_library()) + "\n"}  # as `handouts flags` prints it


def main(argv: list[str]) -> int:
    stale = []
    for name, text in pages().items():
        path = DOCS / name
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        if "--check" in argv:
            stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(path)
    for name in stale:
        print(f"docs/{name} drifted from the schema or the library: "
              "run python tools/make_docs.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
