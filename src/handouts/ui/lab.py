"""The practice folder and the private JupyterLab / Voilà path.

``handouts init FOLDER`` copies the client workbooks, an example practice file and an
empty ``clients/`` folder into a new practice folder. ``handouts lab`` and
``handouts app`` start JupyterLab or Voilà on it, on 127.0.0.1 with a token and a umask of
0077, with :func:`strip_for_save` as the contents manager's pre-save hook: a saved
workbook (and so its checkpoint, which is a copy of the saved file) carries no outputs,
no widget state and the bundled parameters instead of a client's.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from handouts.core.resources import examples_dir, workbook_path
from handouts.errors import HandoutsError

WORKBOOKS = ("connection", "quick", "own-module", "caseload", "form", "progress")
GITIGNORE = """\
# Client data never belongs in version control.
output/
clients/
.ipynb_checkpoints/
"""
CLIENTS_README = """\
Client profiles (one YAML file per client, named by the pseudonymous client id) go here.
`handouts app` writes them; `handouts build clients/<client-id>.yaml` builds one.
"""
PRACTICE_HEADER = """\
# EDIT ME: this is the bundled FICTIONAL example practice. Replace the name, contact line,
# logo, crisis lines and defaults with your own before giving a handout to a client.
"""
_START = re.compile(r"""handouts\.(?:start|form)\(\s*(?:globals\(\)\s*,\s*)?["']([\w-]+)["']""")


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def _private_copy(source: Path, target: Path, text: str | None = None) -> None:
    data = source.read_bytes() if text is None else text.encode("utf-8")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def init_folder(folder: str | Path) -> list[Path]:
    """Create a practice folder; refuse (one line) if any file it would write exists."""
    folder = Path(folder)
    example = examples_dir()
    practice_text = (example / "practice.yaml").read_text(encoding="utf-8")
    files: dict[Path, tuple[Path | None, str | None]] = {}
    for name in WORKBOOKS:
        files[folder / f"{name}.ipynb"] = (workbook_path(name), None)
    files[folder / "practice.yaml"] = (None, PRACTICE_HEADER + practice_text)
    logo = re.search(r"^practice_logo:\s*['\"]?([^'\"\n#]+?)['\"]?\s*(#.*)?$", practice_text,
                     re.MULTILINE)
    if logo and (example / logo.group(1)).is_file() and "/" not in logo.group(1):
        files[folder / logo.group(1)] = (example / logo.group(1), None)
    files[folder / ".gitignore"] = (None, GITIGNORE)
    files[folder / "clients" / "README.txt"] = (None, CLIENTS_README)
    existing = sorted(str(p) for p in files if p.exists() or p.is_symlink())
    if existing:
        raise HandoutsError(f"{folder}: already there, not overwritten: {', '.join(existing)}")
    _private_dir(folder)
    _private_dir(folder / "clients")
    _private_dir(folder / "output")
    for target, (source, text) in files.items():
        _private_copy(source or Path(), target, text)
    return sorted(files)


def is_practice_folder(folder: Path) -> bool:
    return (folder / "practice.yaml").is_file() and (folder / "connection.ipynb").is_file()


def _bundled_cells(name: str) -> tuple[str | None, str | None]:
    """Return the bundled workbook's parameters cell and own-words cell (None if absent)."""
    try:
        import nbformat  # lazy: the notebook stack takes seconds to load; only a run needs it

        nb = nbformat.read(workbook_path(name), as_version=4)
    except (HandoutsError, OSError, ValueError):
        return None, None
    parameters = next((c.source for c in nb.cells
                       if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    own = next((c.source for c in nb.cells if c.cell_type == "code" and _OWN.search(c.source)),
               None)
    return parameters, own


# The cell where the therapist writes a section for this client (session.add_section).
_OWN = re.compile(r"\badd_section\s*\(")


def strip_for_save(model: dict[str, Any], **kwargs: Any) -> None:
    """Jupyter pre-save hook: no outputs, no widget state, bundled parameters.

    Works on the model in place, as Jupyter Server expects. A notebook that calls
    ``handouts.start(globals(), "<workbook>")`` (or ``handouts.ui.form``) gets that bundled
    workbook's parameters and own-words (``session.add_section``) cells back; every
    notebook loses its outputs, execution counts and saved widget state (which would
    hold the form's values).
    """
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    nb = model["content"]
    sources = "\n".join(_text(c.get("source", "")) for c in nb.get("cells", []))
    match = _START.search(sources)
    bundled, own = _bundled_cells(match.group(1)) if match else (None, None)
    metadata = nb.get("metadata", {})
    metadata.pop("widgets", None)
    for cell in nb.get("cells", []):
        meta = cell.setdefault("metadata", {})
        meta.pop("execution", None)
        meta.pop("scrolled", None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            if "parameters" in meta.get("tags", []) and match:
                cell["source"] = bundled if bundled is not None else (
                    "# parameters: cleared on save (client data stays out of workbooks)\n")
            elif match and _OWN.search(_text(cell.get("source", ""))):
                cell["source"] = own if own is not None else (
                    "# your own words: cleared on save (client text stays out of workbooks)\n")
            if "injected-parameters" in meta.get("tags", []):
                cell["source"] = "# injected parameters: cleared on save\n"


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _server_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    env["JUPYTER_TOKEN"] = env.get("HANDOUTS_TOKEN") or secrets.token_urlsafe(24)
    env.pop("HANDOUTS_TOKEN", None)
    return env


HOOK = "handouts.ui.lab.strip_for_save"


def lab_command(folder: Path, port: int = 0, browser: bool = True) -> list[str]:
    """The command line for JupyterLab on *folder* (127.0.0.1, the save hook)."""
    return [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port or 8888}",
            "--ServerApp.allow_remote_access=False", "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--ContentsManager.pre_save_hook={HOOK}",
            *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            *([] if browser else ["--no-browser"])]


def app_command(folder: Path, port: int = 0, browser: bool = True) -> list[str]:
    """The command line for Voilà serving *folder*/form.ipynb (127.0.0.1).

    The server (:mod:`handouts.ui.appserver`) takes its token from JUPYTER_TOKEN, so the
    token is never on a command line, and needs it on every route.
    """
    return [sys.executable, "-m", "handouts.ui.appserver", str(folder / "form.ipynb"),
            "--Voila.ip=127.0.0.1", f"--port={port or 8866}",
            f"--Voila.root_dir={folder}", "--VoilaConfiguration.show_tracebacks=False",
            *([] if browser else ["--no-browser"])]


def serve(folder: str | Path, command: str, port: int = 0, browser: bool = True,
          env: dict[str, str] | None = None) -> subprocess.Popen:
    """Create the practice folder on first use and start Lab or Voilà on it (umask 0077)."""
    needed = "jupyterlab" if command == "lab" else "voila"
    if find_spec(needed) is None:
        raise HandoutsError(f"handouts {command} needs {needed}, which is not installed: "
                            "pip install 'handouts[lab]'")
    folder = Path(folder).resolve()
    if not is_practice_folder(folder):
        for path in init_folder(folder):
            print(f"created {path}")
    elif not (folder / "form.ipynb").exists() and command == "app":
        _private_copy(workbook_path("form"), folder / "form.ipynb")
    env = _server_env(env)
    if command == "lab":
        argv = lab_command(folder, port, browser)
    else:
        argv = app_command(folder, port, browser)
    old = os.umask(0o077)
    try:
        return subprocess.Popen(argv, cwd=folder, env=env)
    finally:
        os.umask(old)
