"""Build one client in a forked child of a warm worker, under the client's build lock.

The worker holds the lock, forks, waits for the child with a time limit, and undoes
what a failed build wrote. The child runs the workbook and reports in one line.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import resource
import select
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handouts.core.files import Keep, private_dir, remove_stale_temps, temp_path, write_hint
from handouts.errors import BuildError, HandoutsError
from handouts.records.store import build_lock, issued_ids, unissue
from handouts.render.pdf import PASSWORD_ENV

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends
MEMORY_LIMIT_MB = 2048  # address space per client; a client that needs more fails alone


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


def one_line(exc: BaseException) -> str:
    """Describe a failed run in one line: the cell's error, or the exception."""
    ename = getattr(exc, "ename", None)
    if ename == "MemoryError" or isinstance(exc, MemoryError):
        return f"ran out of memory (limit {MEMORY_LIMIT_MB} MB per client); check the inputs"
    evalue = getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:300]


def run_forked(task: Task) -> dict[str, Any]:
    """Run *task* in a child of this worker; kill it by pid when its time is up."""
    start = time.monotonic()
    folder = task.pdf.parent
    try:
        private_dir(folder)
        # One build of a client at a time, from its PDF to its record notebook: the two
        # beside each other are always one build's. The child never takes this lock.
        with build_lock(folder, BuildError, task.timeout):
            reply, usage = _build_locked(task, folder)
    except OSError as exc:
        reply = {"ok": False, "message": write_failed(exc, folder)}
        usage = resource.getrusage(resource.RUSAGE_SELF)
    except HandoutsError as exc:
        reply = {"ok": False, "message": str(exc)}
        usage = resource.getrusage(resource.RUSAGE_SELF)
    seconds = time.monotonic() - start
    reply["seconds"] = seconds
    reply["rss_mb"] = usage.ru_maxrss / 1024
    reply["worker_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return reply


def _build_locked(task: Task, folder: Path):
    """Fork the child that builds *task*, wait for it, undo what a failed build wrote."""
    start = time.monotonic()
    before = issued_ids(folder)
    with Keep(task.pdf) as kept:
        read_end, write_end = os.pipe()
        worker = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: one client, then exit
            os.close(read_end)
            _die_with(worker)
            _child(task, write_end)
        os.close(write_end)
        reply, timed_out = _await_child(read_end, task.timeout)
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        os.close(read_end)
        remove_stale_temps(folder, pid)
        if timed_out:
            reply = {"ok": False, "message": f"timed out after "
                     f"{time.monotonic() - start:.0f} s; the client was stopped"}
        elif reply is None:
            code = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                    else f"exit code {os.waitstatus_to_exitcode(status)}")
            reply = {"ok": False, "message": f"the workbook process stopped ({code}); "
                                             "check memory and the workbook"}
        elif reply["ok"] and not kept.changed():
            reply = {"ok": False, "message": "the workbook ran but wrote no PDF"}
        if not reply["ok"]:
            undo(kept, folder, task.pdf, before)
    return reply, usage


def undo(kept: Keep, folder: Path, pdf: Path, before: set[str]) -> None:
    """Undo a failed build: no new PDF, and no issued record of one."""
    kept.restore()
    unissue(folder, pdf.name, before)


def _die_with(worker: int) -> None:
    """End this child when its worker ends: a killed worker leaves no build running.

    Its PDF would land after the batch reported the client failed, holding the
    client's build lock meanwhile.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != worker:  # the worker ended before the line above
        os._exit(1)


def write_failed(exc: OSError, folder: Path) -> str:
    """Describe a failed write in a client's folder in one line."""
    return f"cannot write {exc.filename or folder}: {exc.strerror}; {write_hint(exc)}"


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

        gc.disable()
        limit = MEMORY_LIMIT_MB * 1024 * 1024
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):  # a lower hard limit is already set: keep it
            pass
        reply = _execute(task)
    except OSError as exc:  # a read-only folder, a full disk: say where and what to do
        reply = {"ok": False, "message": write_failed(exc, task.pdf.parent)}
    except BaseException as exc:  # noqa: BLE001 - reported for this client alone
        reply = {"ok": False, "message": one_line(exc)}
    try:
        os.write(fd, json.dumps(reply).encode()[:60000])
    except BaseException:  # noqa: BLE001 - nothing left to tell
        code = 1
    os._exit(code)


def papermill_run(workbook: Path, output: Path, parameters: dict[str, Any]) -> None:
    """Run *workbook* with *parameters* in this process (the ``handouts`` engine)."""
    import papermill  # lazy: the notebook stack takes seconds to load; only a run needs it

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
