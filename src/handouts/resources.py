"""Find the package's bundled resources: library, templates, workbooks, fonts."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_SRC_ROOT = Path(__file__).resolve().parent


def _resource_dir(name: str) -> Path:
    """Return the folder *name* shipped inside the package.

    A wheel carries ``templates/`` and ``workbooks/`` inside the package. A source
    checkout keeps them at the project root, two levels above ``src/handouts``.
    """
    packaged = Path(str(files("handouts") / name))
    if packaged.is_dir():
        return packaged
    checkout = _SRC_ROOT.parents[1] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"handouts: bundled folder {name!r} is missing from the install")


def library_dir() -> Path:
    """Return the default content library folder."""
    return _resource_dir("library")


def templates_dir() -> Path:
    """Return the default templates folder."""
    return _resource_dir("templates")


def workbooks_dir() -> Path:
    """Return the folder of bundled workbooks."""
    return _resource_dir("workbooks")


def examples_dir() -> Path:
    """Return the folder of bundled fictional examples (practice file and profiles)."""
    return _resource_dir("examples")


def workbook_path(name: str | Path) -> Path:
    """Return the bundled workbook *name* (without ``.ipynb``), or a notebook file path."""
    from .errors import BuildError

    if str(name).endswith(".ipynb"):
        path = Path(name).expanduser().resolve()
        if not path.is_file():
            raise BuildError("notebook not found", file=path, field="workbook")
    else:
        path = workbooks_dir() / f"{name}.ipynb"
        if not path.is_file():
            choices = [p.stem for p in workbooks_dir().glob("*.ipynb")]
            raise BuildError(f"no workbook named {name!r}", field="workbook", choices=choices)
    _check_parameters_cell(path)
    return path


def _check_parameters_cell(path: Path) -> None:
    """Refuse a notebook without exactly one cell tagged ``parameters``.

    Without one, papermill would put the client's values at the top and the notebook's
    own defaults, run later, would silently win.
    """
    import json

    from .errors import BuildError

    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BuildError(f"not a readable notebook: {exc}", file=path, field="workbook") from None
    tagged = sum(1 for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    if tagged != 1:
        raise BuildError(f"needs exactly one cell tagged 'parameters' (found {tagged})",
                         file=path, field="workbook")


def font_files() -> dict[str, list[tuple[Path, str, str]]]:
    """Return the bundled font files by family: (path, weight, style) each."""
    import fontpkg

    result: dict[str, list[tuple[Path, str, str]]] = {}
    for family in ("Literata", "Atkinson Hyperlegible"):
        fam = fontpkg.family(family)
        result[family] = [(Path(f.path), f.weight, f.style) for f in fam.files]
    return result
