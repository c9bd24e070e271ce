"""The workbooks' side of the pipeline: one session per run, own sections, the picker.

A workbook's second cell calls :func:`start`. It reads the parameters *as this run set
them* (the parameters cell and papermill's injected cell, from IPython's input history),
refuses names it does not know, inherits the practice file exactly as ``handouts build``
does, validates, and returns a :class:`Session`. Only the newest session can write a
PDF, and only while the parameters cell has not run again since: a PDF is always built
from the current run's parameters.
"""

from __future__ import annotations

import ast
import difflib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import yaml

from handouts.content.library import Library, load_library
from handouts.core.files import output_paths, real_client_folder
from handouts.core.resources import examples_dir, load_yaml
from handouts.errors import (
    PARAMETERS_MARK,
    QUOTES_HINT,
    BuildError,
    ProfileError,
    install_one_line_errors,
)
from handouts.plan.assemble import Handout, Packet, plan_edition, plan_report
from handouts.plan.guide import session_guide
from handouts.plan.profile import PARAMETERS, PRACTICE_FIELDS, Profile
from handouts.plan.reading import inherit_practice
from handouts.plan.validation import validate
from handouts.records.issue import write_guide, write_handout
from handouts.records.programs import confirm_week
from handouts.render.pdf import PASSWORD_ENV
from handouts.render.preview import in_front_end

_INJECTED_MARK = "# Parameters\n"  # papermill's injected cell starts so
WORKBOOK_NAMES = ("practice", "output_dir", "confirm_gate")
RUN_ALL = "run all cells (Run > Run All Cells)"


def add_section(sections: Any, title: str, text: str, after: str = "end"
                ) -> list[dict[str, str]]:
    """Return *sections* with your own section set, or unchanged when *text* is blank.

    A section with the same title is replaced, so running the cell twice adds it once.
    *text* is Markdown and always prints as text, never as HTML. *after* is the id of a
    chosen module, or ``"start"`` / ``"end"``.
    """
    result = [dict(s) if isinstance(s, Mapping) else s.model_dump() for s in sections or ()]
    result = [s for s in result if s.get("title") != title]
    if text and text.strip():
        result.append({"title": title, "text": text.strip(), "after": after})
    return result


@dataclass
class Session:
    """One run of a workbook: the validated profile, its library and where PDFs go."""

    profile: Profile
    library: Library
    output_dir: str
    workbook: str
    history_mark: int
    planned: dict[int, list[Packet]] = field(default_factory=dict)
    confirm_gate: bool = False

    def add_section(self, title: str, text: str, after: str = "end") -> None:
        """Add (or replace, by title) your own section; blank *text* removes it."""
        sections = add_section(self.profile.own_sections, title, text, after)
        self.profile = validate({**_raw(self.profile), "own_sections": sections},
                                file="own section")

    def assemble(self, **lists: list[str]) -> Handout:
        """Assemble the handout; *lists* (modules, rituals, scripts) override the choice."""
        if lists:
            self.profile = validate({**_raw(self.profile), **lists}, file="parameters")
        planned = plan_edition(self.profile, self.library, file="parameters")
        for line in plan_report(self.profile, planned):
            print(line)  # the therapist sees it here, and the record keeps it
        handout = planned[0].handout
        self.planned[id(handout)] = planned
        return handout

    def write(self, handout: Handout, template: str = "handout") -> Path:
        """Write *handout*'s PDF; refuse when it is not from this run's parameters.

        Where a flag gives each partner a packet of their own, every packet is written
        (each path is printed) and the first one's path is returned.
        """
        self.check_current()
        if id(handout) not in self.planned:
            raise BuildError(f"this handout was not assembled in this run; {RUN_ALL}",
                             field="handout")
        planned = self.planned[id(handout)]
        if self.confirm_gate and handout.week is not None:
            print(confirm_week(self.output_dir, self.profile))
        paths = []
        for packet in planned:
            pdf_path, _ = output_paths(self.output_dir, packet.profile, self.workbook)
            real_client_folder(self.output_dir, pdf_path)
            if packet.client:  # the therapist's guide, whatever the workbook's template
                paths.append(write_guide(session_guide(packet, self.library), pdf_path))
                continue
            # Someone editing the workbook builds again and again: keep unchanged parts'
            # layout.
            paths.append(write_handout(packet.handout, pdf_path, template=template,
                                       reuse_layout=in_front_end()))
        if len(paths) > 1:
            for path in paths:
                print(path)
        return paths[0]

    def check_current(self) -> None:
        """Raise unless this is the newest run and its parameters have not run again."""
        if _CURRENT.get("session") is not self:
            raise BuildError(f"these parameters are from an earlier run; {RUN_ALL}",
                             field="parameters")
        history = _history()
        if history is not None and _last_mark(history) > self.history_mark:
            raise BuildError(f"the parameters cell ran again after it was checked; {RUN_ALL}",
                             field="parameters")


_CURRENT: dict[str, Session] = {}


def _raw(profile: Profile) -> dict[str, Any]:
    data = profile.model_dump(exclude={"password"})
    data["password"] = profile.password.get_secret_value()
    return data


def _history() -> list[str] | None:
    try:
        # lazy: IPython is there only inside a notebook or the warm engine
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None:
        return None
    return shell.user_ns.get("In")


def _last_mark(history: list[str]) -> int:
    return max((i for i, s in enumerate(history) if s.lstrip().startswith(PARAMETERS_MARK)),
               default=-1)


def _assignments(source: str) -> dict[str, Any]:
    """Return the `name = value` pairs of a parameters cell, as plain values."""
    try:
        tree = ast.parse(source, filename="<parameters>")
    except SyntaxError as exc:
        raise ProfileError(f"line {exc.lineno}: {exc.msg}; {QUOTES_HINT}",
                           file="parameters cell") from None
    values: dict[str, Any] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None):
            raise ProfileError(f"line {node.lineno}: only `name = value` lines belong here",
                               file="parameters cell")
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            shown = ast.get_source_segment(source, node.value) or "the value"
            raise ProfileError(f"line {node.lineno}: {shown} is not a plain value; put "
                               f"text in quotes, like \"{shown}\"",
                               file="parameters cell") from None
        for target in targets:
            if not isinstance(target, ast.Name):
                raise ProfileError(f"line {node.lineno}: assign to plain names only",
                                   file="parameters cell")
            values[target.id] = value
    return values


def _run_parameters(history: list[str], start: int) -> dict[str, Any]:
    """Read this run's parameters cell and papermill's injected cell, afresh.

    The values come from the cells as they ran, not from whatever an earlier run left in
    the notebook, and a broken cell is one plain sentence. When papermill passes any
    client field, the client is the one papermill describes: the cell's fictional sample
    values are dropped, so a profile gives the same PDF through every door.
    """
    cell = _assignments(history[start])
    injected: dict[str, Any] = {}
    for source in history[start + 1:]:
        if source.startswith(_INJECTED_MARK):
            injected.update(_assignments(source))
    if any(name in PARAMETERS for name in injected):
        cell = {k: v for k, v in cell.items() if k in WORKBOOK_NAMES or
                (k in PRACTICE_FIELDS and v is None)}
    return {**cell, **injected}


def example_practice() -> Path:
    """Return the bundled fictional practice file."""
    return examples_dir() / "practice.yaml"


def start(namespace: Mapping[str, Any], workbook: str = "connection",
          extra: tuple[str, ...] = ()) -> Session:
    """Check and validate this run's parameters; return the session that builds the PDF.

    *extra* names parameters of this workbook beyond the profile's. Unknown names fail
    with the closest valid one; the practice file (``practice``, relative to the papermill
    ``-f`` profile that set it, else to the working folder; else ``practice.yaml`` in the
    working folder; else the bundled fictional example) is inherited as ``handouts build``
    inherits it.
    """
    install_one_line_errors()
    known = (*PARAMETERS, *WORKBOOK_NAMES, *extra)
    history = _history()
    mark = _last_mark(history) if history else -1
    if mark >= 0:
        values = _run_parameters(history, mark)
        for name in values:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ProfileError(f"unknown parameter {name!r}{hint}", file="parameters")
    else:  # no IPython history (plain Python): take the names from the namespace
        values = {name: namespace[name] for name in known if name in namespace}
    values = {k: v for k, v in values.items() if k not in extra}
    if values.get("password"):  # a cell's text is saved and recorded with the notebook
        raise ProfileError(f"a notebook never holds the PDF password; set {PASSWORD_ENV} in "
                           "the environment JupyterLab or papermill starts from, or run "
                           "`handouts build FILE --password-env VAR`",
                           file="parameters", field="password")
    output_dir = values.pop("output_dir", "output")
    confirm_gate = values.pop("confirm_gate", False)
    if not isinstance(confirm_gate, bool):
        raise ProfileError("must be True or False", file="parameters", field="confirm_gate",
                           choices=("True", "False"))
    practice = values.pop("practice", "") or ""
    for name in PRACTICE_FIELDS:  # None: take the practice file's setting
        if values.get(name, "") is None:
            values.pop(name)
    base = Path.cwd()
    if not practice and not (base / "practice.yaml").is_file():
        practice = str(example_practice())
        print(f"Practice: the bundled fictional example ({practice}); set `practice` "
              "to your practice.yaml.")
    # papermill -f passes a profile's values, not where it lives: a relative practice path
    # that came from a profile is taken from the profile's folder, as `handouts build` does.
    home = next((f.parent for f in reversed(_parameters_files()) if practice
                 and _names_practice(f, practice) and (f.parent / practice).is_file()), None)
    if home is not None:
        base = home
    elif practice and not (base / practice).is_file():
        raise ProfileError(
            f"no file {practice!r} in {base}, nor beside a papermill -f file (relative "
            "paths are taken from the profile's folder, else from the folder the notebook "
            "runs in); pass -p practice /full/path/practice.yaml",
            file="parameters", field="practice")
    raw = inherit_practice({**values, "practice": practice} if practice else values, base,
                           "parameters")
    profile = validate(raw, file="parameters")
    library = load_library(profile.practice_library or None, profile.language)
    session = Session(profile, library, str(output_dir), workbook, mark,
                      confirm_gate=confirm_gate)
    _CURRENT["session"] = session
    return session


def _names_practice(path: Path, practice: str) -> bool:
    """Whether the parameters file at *path* is the one that set *practice*."""

    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and data.get("practice") == practice


def _parameters_files() -> list[Path]:
    """Return the files papermill's ``-f`` gave this run, in order, found on its command line.

    The command is this process's (papermill with ``--engine handouts``) or its parent's
    (a kernel papermill started); a relative path is taken from that process's folder.
    """

    commands: list[tuple[list[str], list[Path]]] = [
        (sys.argv, [Path.cwd(), Path(os.environ.get("PWD") or ".")])]
    parent = Path(f"/proc/{os.getppid()}")
    try:
        argv = [os.fsdecode(a) for a in (parent / "cmdline").read_bytes().split(b"\0") if a]
        commands.append((argv, [Path(os.readlink(parent / "cwd"))]))
    except OSError:
        pass  # no /proc (macOS, Windows): only this process's command line
    found: list[Path] = []
    for argv, folders in commands:
        at = next((i for i, arg in enumerate(argv[:2]) if Path(arg).name.startswith("papermill")),
                  None)
        if at is None:
            continue
        for value in _papermill_files(argv[at + 1:]):
            found += [(folder / value).resolve() for folder in folders
                      if (folder / value).is_file()][:1]
    return found


def _papermill_files(args: list[str]) -> tuple[str, ...]:
    """Return the ``-f`` files in papermill arguments *args*, parsed by papermill's own CLI."""
    from papermill.cli import papermill  # loaded only where papermill runs the notebook

    try:
        context = papermill.make_context("papermill", list(args), resilient_parsing=True)
    except click.ClickException:
        return ()
    return tuple(context.params.get("parameters_file") or ())


