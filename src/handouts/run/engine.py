"""A papermill engine that runs a workbook inside the current (warm) Python process.

Papermill still reads the notebook, injects the parameters, records every cell's outputs
and writes the executed notebook. Only the kernel is different: the code cells run in
this process, through IPython's own shell, so ``display()``, a trailing ``;``, magics
and ``from __future__`` behave as in a Jupyter kernel. ``handouts build`` and
``handouts batch`` fork a fresh child of a warmed-up worker for every client (see
:mod:`handouts.run.pool`), so nothing one workbook does reaches the next.
``papermill --engine handouts`` uses this engine too.
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import sys
import threading
from typing import Any

import click

from handouts.errors import ProfileError, install_one_line_errors
from handouts.render.pdf import (
    PASSWORD_ENV,  # the PDF stage's imports: only when refusing
)


def _shell_class():
    # lazy: IPython is there only inside a notebook or the warm engine
    from IPython.core.displayhook import DisplayHook

    # lazy: IPython is there only inside a notebook or the warm engine
    from IPython.core.displaypub import DisplayPublisher

    # lazy: IPython is there only inside a notebook or the warm engine
    from IPython.core.interactiveshell import InteractiveShell

    # lazy: the notebook stack takes seconds to load; only a run needs it
    from traitlets import Type

    class Publisher(DisplayPublisher):
        """Collect ``display()`` calls as display_data outputs of the running cell."""

        def publish(self, data, metadata=None, source=None, *, transient=None,
                    update=False, **kwargs):
            self.shell.cell_outputs.append(
                ("display_data", {"data": data, "metadata": metadata or {}}))

        def clear_output(self, wait=False):
            self.shell.cell_outputs.clear()

    class ResultHook(DisplayHook):
        """Collect the value of a cell's last expression as its execute_result."""

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            self.shell.cell_outputs.append(
                ("execute_result", {"data": format_dict, "metadata": md_dict or {}}))

    class CellShell(InteractiveShell):
        """An InteractiveShell whose outputs become notebook outputs, as a kernel's do."""

        cell_outputs: list

        displayhook_class = Type(ResultHook)
        display_pub_class = Type(Publisher)

        def _showtraceback(self, etype, evalue, stb):
            self.cell_outputs.append(("error", {
                "ename": etype.__name__ if etype else "Error", "evalue": str(evalue),
                "traceback": list(stb)}))

    return CellShell


_SHELL = None


def shell():
    """Return this process's cell shell, created on first use (a worker makes it warm)."""
    global _SHELL
    if _SHELL is None:
        # lazy: the notebook stack takes seconds to load; only a run needs it
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False  # no history thread, no sqlite file
        config.InteractiveShell.colors = "nocolor"
        config.InteractiveShell.xmode = "Plain"
        _SHELL = _shell_class().instance(config=config)
        _SHELL.cell_outputs = []
        _SHELL.first_flags = _SHELL.compile.flags

        install_one_line_errors(_SHELL)
    return _SHELL


def run_cell(source: str, count: int) -> list[dict[str, Any]]:
    """Execute *source* in the shell like a kernel would; return nbformat outputs."""
    # lazy: the notebook stack takes seconds to load; only a run needs it
    from nbformat.v4 import new_output

    sh = shell()
    sh.cell_outputs = []
    stdout, stderr = io.StringIO(), io.StringIO()
    sh.execution_count = count
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        sh.run_cell(source, store_history=True, silent=False)
    outputs = []
    for name, stream in (("stdout", stdout), ("stderr", stderr)):
        if stream.getvalue():
            outputs.append(new_output("stream", name=name, text=stream.getvalue()))
    for kind, content in sh.cell_outputs:
        if kind == "execute_result":
            content = {**content, "execution_count": count}
        outputs.append(new_output(kind, **content))
    return outputs


def _engine_class():
    # lazy: the notebook stack takes seconds to load; only a run needs it
    from papermill.engines import Engine

    _refuse_password_parameters()

    class WarmEngine(Engine):
        """Execute each code cell in this process's IPython shell, fresh per notebook."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            sh = shell()
            sh.reset(new_session=True)
            sh.compile.flags = sh.first_flags  # no `from __future__` from a notebook before
            # Papermill rewrites the output notebook at every cell start and end, which
            # lets you watch a long kernel run; a workbook here takes about a second, so
            # the notebook is written once, when papermill completes it.
            output_path, nb_man.output_path = nb_man.output_path, None
            try:
                _run_cells(nb_man, kwargs.get("execution_timeout"))
            finally:
                nb_man.output_path = output_path

    return WarmEngine


class CellTimeout(Exception):
    """A cell ran past papermill's ``--execution-timeout``."""


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """Raise CellTimeout in the running cell after *seconds* (POSIX main thread only).

    A kernel is interrupted from outside; here the cell runs in this very process, so a
    timer signal stops it where it is, and IPython records the error as the cell's output.
    """
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def stop(signum, frame):
        raise CellTimeout(f"the cell ran past --execution-timeout ({seconds:g} s)")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_cells(nb_man, timeout: float | None = None) -> None:
    count = 0
    for index, cell in enumerate(nb_man.nb.cells):
        if cell.cell_type != "code":
            continue
        nb_man.cell_start(cell, index)
        count += 1
        cell.execution_count = count
        with _time_limit(timeout):
            cell.outputs = run_cell(cell.source, count)
        if any(o["output_type"] == "error" for o in cell.outputs):
            nb_man.cell_exception(cell, index)
            nb_man.cell_complete(cell, index)
            break  # like papermill: stop at the first failing cell
        nb_man.cell_complete(cell, index)
    sys.stdout.flush()


_REFUSAL = (
    "papermill writes its parameters into the output notebook, so the PDF "
    "password is never one; set it in the environment instead "
    "({env}=... papermill ...), or run `handouts build FILE --password-env VAR`")


def _refuse_password_parameters() -> None:
    """Make papermill refuse a ``password`` parameter for a handouts workbook.

    Papermill writes the parameters (its injected cell, the notebook's metadata) into the
    output notebook before the first cell runs, so the workbook cannot refuse it in time.
    Papermill loads this module from its entry point in every papermill process, before
    ``papermill.execute`` takes ``parameterize_notebook``; that is the one place to stop
    it. Any other notebook, and a workbook without a password, is parameterized as before.
    """
    # lazy: the notebook stack takes seconds to load; only a run needs it
    import papermill.parameterize as parameterize

    original = parameterize.parameterize_notebook
    if getattr(original, "handouts_guard", False):
        return

    def parameterize_notebook(nb, parameters, *args, **kwargs):
        if (parameters or {}).get("password") and _is_workbook(nb):

            message = _REFUSAL.format(env=PASSWORD_ENV)
            if click.get_current_context(silent=True) is not None:  # papermill's CLI
                raise click.ClickException(f"parameter password: {message}")
            raise ProfileError(message, file="papermill parameters", field="password")
        return original(nb, parameters, *args, **kwargs)

    parameterize_notebook.handouts_guard = True
    parameterize.parameterize_notebook = parameterize_notebook
    execute = sys.modules.get("papermill.execute")
    if execute is not None and hasattr(execute, "parameterize_notebook"):
        execute.parameterize_notebook = parameterize_notebook  # imported before us


def _is_workbook(nb) -> bool:
    """Whether *nb* is a handouts workbook (a code cell imports handouts)."""
    return any(cell.get("cell_type") == "code" and _IMPORTS.search(_source(cell))
               for cell in nb.get("cells", []))


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


_IMPORTS = re.compile(r"(?m)^\s*(?:import handouts\b|from handouts\b)")


def __getattr__(name: str):
    # Built on first use: papermill loads this module from its entry point while
    # papermill.engines is still importing, so nothing here imports papermill eagerly.
    if name == "WarmEngine":
        globals()["WarmEngine"] = cls = _engine_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register() -> None:
    """Make the engine available to papermill as ``handouts``."""
    # lazy: the notebook stack takes seconds to load; only a run needs it
    from papermill.engines import papermill_engines

    papermill_engines.register("handouts", __getattr__("WarmEngine"))
