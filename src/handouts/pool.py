"""Run workbooks in warm workers, every client in a fresh fork: fast, and as if alone.

A worker process imports papermill, WeasyPrint and handouts once and renders a warm-up
handout. For each client it forks a child, which runs the workbook with papermill and
the in-process engine and then exits. The child starts with everything warm but shares
nothing with the clients before or after it: module state, working directory,
environment, monkeypatches, leaked memory and ``sys.exit`` all end with the child. A
client that runs past its time limit is killed by pid; its worker carries on.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .files import Keep, private_dir, remove_stale_temps, temp_path, write_hint
from .harvest import ISSUED
from .pdf import PASSWORD_ENV

MEMORY_LIMIT_MB = 2048  # address space per client; a client that needs more fails alone
# Variables a client's workbook must not see: a batch started from JupyterLab must not
# behave like a front end (pickers, full-size previews) for every client.
_FRONT_END_VARS = ("JPY_SESSION_NAME", "JPY_PARENT_PID", "HANDOUTS_FRONT_END",
                   "VSCODE_PID")


@dataclass
class Task:
    """One client's workbook run, as the pool sees it."""

    key: str
    client_id: str
    workbook: Path
    parameters: dict[str, Any]
    pdf: Path
    notebook: Path
    record: bool = True
    password: str = ""
    timeout: float = 120.0


@dataclass
class Done:
    """What a task came to."""

    task: Task
    ok: bool
    seconds: float
    message: str = ""
    rss_mb: float = 0.0


def one_line(exc: BaseException) -> str:
    """Describe a failed run in one line: the cell's error, or the exception."""
    ename = getattr(exc, "ename", None)
    if ename == "MemoryError" or isinstance(exc, MemoryError):
        return f"ran out of memory (limit {MEMORY_LIMIT_MB} MB per client); check the inputs"
    evalue = getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:300]


# -- inside a worker ------------------------------------------------------------------

def _worker(conn: Connection, warm: bool, settings: dict[str, Any] | None = None) -> None:
    """Warm up once (with the practice *settings*), then run each task sent over *conn*
    in a forked child."""
    import gc

    gc.disable()  # imports keep what they make; one collection after the warm-up suffices
    for name in _FRONT_END_VARS:
        os.environ.pop(name, None)
    # jsonschema (via nbformat) builds an IRI grammar at import when rfc3987-syntax is
    # installed (JupyterLab brings it): 0.7 s per worker for a check notebooks never use.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import papermill  # noqa: F401 - imported once here, inherited by every child

    from .engine import register, shell

    register()
    shell()
    # papermill warns about parameters a cell does not list; the workbook checks them.
    import logging

    logging.getLogger("papermill").setLevel(logging.ERROR)
    from .weasy import import_weasyprint

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
        conn.send(_run_forked(task))


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
    from .content import load_library
    from .profile import to_parameters, validate

    profile = validate({"client_id": "warm-up", "partners": [{"name": "A"}, {"name": "B"}],
                        "session_date": "2026-01-01", **settings,
                        "modules": [], "rituals": [], "cards": False,
                        "scripts": load_library().ids("script")[:1]})
    return to_parameters(profile)


def _run_warm_up(settings: dict[str, Any]) -> None:
    import shutil
    import tempfile

    from .resources import workbook_path

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


def _run_forked(task: Task) -> dict[str, Any]:
    """Run *task* in a child of this worker; kill it by pid when its time is up."""
    import resource

    start = time.monotonic()
    folder = task.pdf.parent
    private_dir(folder)
    with Keep(task.pdf, task.pdf.parent / ISSUED) as kept:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: one client, then exit
            os.close(read_end)
            _child(task, write_end)
        os.close(write_end)
        reply, timed_out = _await_child(read_end, task.timeout)
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        os.close(read_end)
        remove_stale_temps(folder, pid)
        seconds = time.monotonic() - start
        if timed_out:
            reply = {"ok": False, "message": f"timed out after {seconds:.0f} s; the client "
                                             "was stopped"}
        elif reply is None:
            code = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                    else f"exit code {os.waitstatus_to_exitcode(status)}")
            reply = {"ok": False, "message": f"the workbook process stopped ({code}); "
                                             "check memory and the workbook"}
        elif reply["ok"] and not kept.changed():
            reply = {"ok": False, "message": "the workbook ran but wrote no PDF"}
        if not reply["ok"]:
            kept.restore()  # a failed build leaves no new PDF
    reply["seconds"] = seconds
    reply["rss_mb"] = usage.ru_maxrss / 1024
    reply["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return reply


def _await_child(fd: int, timeout: float) -> tuple[dict[str, Any] | None, bool]:
    """Read the child's reply until it closes the pipe or *timeout* seconds pass."""
    deadline = time.monotonic() + timeout
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, True
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks)), False
    except ValueError:
        return None, False


def _child(task: Task, fd: int) -> None:
    """Run one client's workbook and report on *fd*; never returns."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # One client, then exit: cycles left for the collector cost memory only until
        # then, and collecting them cost a tenth of a render (the address-space limit
        # below still bounds a runaway workbook).
        import gc

        gc.disable()
        import resource

        limit = MEMORY_LIMIT_MB * 1024 * 1024
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):  # a lower hard limit is already set: keep it
            pass
        reply = _execute(task)
    except BaseException as exc:  # noqa: BLE001 - reported for this client alone
        reply = {"ok": False, "message": one_line(exc)}
    try:
        os.write(fd, json.dumps(reply).encode()[:60000])
    except BaseException:  # noqa: BLE001 - nothing left to tell
        code = 1
    os._exit(code)


def papermill_run(workbook: Path, output: Path, parameters: dict[str, Any]) -> None:
    """Run *workbook* with *parameters* in this process (the ``handouts`` engine)."""
    import papermill

    papermill.execute_notebook(str(workbook), str(output), parameters=parameters,
                               engine_name="handouts", progress_bar=False,
                               log_output=False)


def _execute(task: Task) -> dict[str, Any]:
    os.environ.pop(PASSWORD_ENV, None)
    if task.password:
        os.environ[PASSWORD_ENV] = task.password  # this child only
    tmp = temp_path(task.notebook.parent, ".ipynb")
    try:
        papermill_run(task.workbook, tmp, task.parameters)
        if task.record:
            os.replace(tmp, task.notebook)
    finally:
        tmp.unlink(missing_ok=True)
    return {"ok": True, "message": ""}


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
