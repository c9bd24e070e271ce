"""Run workbooks in warm workers, every client in a fresh fork: fast, and as if alone.

A worker process imports papermill, WeasyPrint and handouts once and renders a warm-up
handout. For each client it forks a child, which runs the workbook with papermill and
the in-process engine and then exits. The child starts with everything warm but shares
nothing with the clients before or after it: module state, working directory,
environment, monkeypatches, leaked memory and ``sys.exit`` all end with the child. A
client that runs past its time limit is killed by pid; its worker carries on.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from handouts.content.library import load_library
from handouts.core.files import private_dir, remove_stale_temps, write_hint
from handouts.core.resources import workbook_path
from handouts.plan.validation import to_parameters, validate
from handouts.render.weasy import import_weasyprint
from handouts.run.engine import register, shell
from handouts.run.fork import MEMORY_LIMIT_MB, Task, one_line, papermill_run, run_forked, undo

__all__ = ["MEMORY_LIMIT_MB", "Done", "Task", "one_line", "papermill_run", "run_tasks",
           "undo"]

# Variables a client's workbook must not see: a batch started from JupyterLab must not
# behave like a front end (pickers, full-size previews) for every client.
_FRONT_END_VARS = ("JPY_SESSION_NAME", "JPY_PARENT_PID", "HANDOUTS_FRONT_END",
                   "VSCODE_PID")


@dataclass
class Done:
    """What a task came to."""

    task: Task
    ok: bool
    seconds: float
    message: str = ""
    rss_mb: float = 0.0


# -- inside a worker ------------------------------------------------------------------

def _worker(conn: Connection, warm: bool, settings: dict[str, Any] | None = None) -> None:
    """Warm up once (with the practice *settings*), then run each task sent over *conn*
    in a forked child."""

    gc.disable()  # imports keep what they make; one collection after the warm-up suffices
    for name in _FRONT_END_VARS:
        os.environ.pop(name, None)
    # jsonschema (via nbformat) builds an IRI grammar at import when rfc3987-syntax is
    # installed (JupyterLab brings it): 0.7 s per worker for a check notebooks never use.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import papermill  # noqa: F401 - imported once here, inherited by every child

    register()
    shell()
    # papermill warns about parameters a cell does not list; the workbook checks them.

    logging.getLogger("papermill").setLevel(logging.ERROR)

    import_weasyprint()
    # Move what the imports made out of the collector's sight before the warm-up: the
    # full collection IPython runs at each notebook's reset, and the one below, then walk
    # only the warm-up's objects (measured: 0.15 s less per worker; the imports' few
    # cycles, about 2 MB, stay). A forked child's collections neither walk frozen
    # objects nor copy their memory pages.
    gc.freeze()
    if warm:
        _warm_up(settings or {})
    gc.collect()
    gc.freeze()
    gc.enable()
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        conn.send(run_forked(task))


# Practice-wide settings a worker warms up with: they shape the stylesheet, the logo and
# the library every child then finds ready. Never a client's names, notes or choices.
PRACTICE_SETTINGS = ("language", "paper", "accent_color", "ink_saver", "practice_name",
                     "practice_contact", "practice_logo", "crisis_lines", "practice_library")


def practice_settings(parameters: dict[str, Any]) -> dict[str, Any]:
    """Return the practice-wide settings among a task's *parameters*."""
    return {k: parameters[k] for k in PRACTICE_SETTINGS if k in parameters}


def _warm_up(settings: dict[str, Any]) -> None:
    """Run the bundled workbook once for a fictional client, as a child runs a client's.

    Everything a child then does is warm: papermill's reading, checking and writing of
    the notebook, IPython, the templates, WeasyPrint and the fonts, the preview. With the
    practice's *settings*, the parsed stylesheet, the logo and the practice library are
    ready too; settings that fail fall back to the defaults. One short script is enough
    (measured: a whole article, ritual, script and cards cost 0.4 s more per worker and
    made the next handout no faster). Never the batch's own workbook: what its cells
    leave behind in this process (a changed folder or table) would reach every client.
    """
    for tried in (settings, {}):
        try:
            _run_warm_up(tried)
            return
        except Exception:  # noqa: BLE001, S112 - a warm-up only saves time; clients report errors
            continue


def warm_up_parameters(settings: dict[str, Any]) -> dict[str, Any]:
    """Return the workbook parameters of the fictional warm-up client with *settings*."""

    profile = validate({"client_id": "warm-up", "partners": [{"name": "A"}, {"name": "B"}],
                        "session_date": "2026-01-01", **settings,
                        "modules": [], "rituals": [], "cards": False,
                        "scripts": load_library().ids("script")[:1]})
    return to_parameters(profile)


def _run_warm_up(settings: dict[str, Any]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="handouts-warm-up-"))  # private (0700)
    cwd, environ = os.getcwd(), dict(os.environ)
    try:
        papermill_run(workbook_path("connection"), folder / "warm-up.ipynb",
                      {**warm_up_parameters(settings), "output_dir": str(folder)})
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)
        shutil.rmtree(folder, ignore_errors=True)


# -- in the parent --------------------------------------------------------------------

class _Worker:
    def __init__(self, context, warm: bool, settings: dict[str, Any]) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, warm, settings),
                                       daemon=True)
        self.process.start()
        child.close()
        self.task: Task | None = None
        self.started = 0.0

    def send(self, task: Task) -> None:
        self.task, self.started = task, time.monotonic()
        self.conn.send(task)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def run_tasks(tasks: list[Task], on_done: Callable[[Done], None], *, workers: int = 2,
              timeout: float = 120.0, warm: bool = True) -> None:
    """Run *tasks* in *workers* warm workers, a fresh fork per task; report each."""
    # Forking a single-threaded parent (the command line) saves a new interpreter and its
    # imports. A parent with threads (a Jupyter kernel, a progress bar), or one that has
    # loaded Pango and GLib (whose own threads Python cannot see), must spawn.
    safe = threading.active_count() == 1 and "weasyprint" not in sys.modules
    context = multiprocessing.get_context("fork" if safe else "spawn")
    settings = practice_settings(tasks[0].parameters) if tasks else {}
    pool = [_Worker(context, warm, settings)
            for _ in range(min(max(workers, 1), len(tasks)))]
    queue = list(tasks)
    # The worker stops a client at *timeout*; this backstop catches a stuck worker.
    backstop = timeout + 60.0
    try:
        while queue or any(w.task for w in pool):
            for worker in pool:
                while worker.task is None and queue:
                    task = queue.pop(0)
                    try:
                        private_dir(task.pdf.parent)
                        remove_stale_temps(task.pdf.parent)  # only dead processes' files
                    except OSError as exc:
                        on_done(Done(task, False, 0.0, f"cannot write {task.pdf.parent}: "
                                     f"{exc.strerror}; {write_hint(exc)}"))
                        continue
                    task.timeout = timeout
                    worker.send(task)
            ready = wait([w.conn for w in pool if w.task], timeout=1.0)
            now = time.monotonic()
            for index, worker in enumerate(pool):
                if worker.task is None:
                    continue
                if worker.conn in ready:
                    try:
                        reply = worker.conn.recv()
                    except (EOFError, OSError):
                        worker.process.join(timeout=5)
                        task, code = worker.task, worker.process.exitcode
                        worker.stop(kill=True)
                        pool[index] = _Worker(context, warm, settings)
                        on_done(Done(task, False, now - worker.started,
                                     f"the worker stopped (exit code {code})"))
                        continue
                    task, worker.task = worker.task, None
                    on_done(Done(task, reply["ok"], reply["seconds"], reply["message"],
                                 max(reply["rss_mb"], reply["worker_rss_mb"])))
                elif now - worker.started > backstop:
                    task = worker.task
                    worker.stop(kill=True)
                    pool[index] = _Worker(context, warm, settings)
                    on_done(Done(task, False, now - worker.started,
                                 f"timed out after {timeout:.0f} s; the worker was stopped"))
    finally:
        for worker in pool:
            worker.stop(kill=worker.task is not None)
        for folder in {task.pdf.parent for task in tasks}:  # what killed runs left behind
            if folder.is_dir():
                remove_stale_temps(folder)
