"""Build a caseload: a roster of clients, validated first, each client as if alone.

Each client's workbook is executed by papermill, with its parameters injected and its
executed notebook recorded. What differs from one ``papermill`` per client is the
kernel: warm workers fork a fresh child per client (:mod:`handouts.run.pool`), so a client
costs about what rendering its PDF costs, and shares nothing with any other client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from handouts.core.files import private_dir, real_client_folder, remove_stale_temps, write_hint
from handouts.core.resources import examples_dir
from handouts.errors import BatchError, BuildError, HandoutsError
from handouts.records.store import MANIFEST, read_manifest, update_manifest
from handouts.run.caseload import Job, plan, task_for
from handouts.run.fork import Task
from handouts.run.pool import Done, run_tasks
from handouts.run.report import BatchResult, Outcome, print_summary, with_progress

__all__ = ["BatchResult", "Outcome", "examples_roster", "print_summary", "run",
           "run_with_progress", "task_for"]


def run(
    roster: str | Path,
    output_dir: str | Path = "output",
    jobs: int = 2,
    force: bool = False,
    workbook: str = "connection",
    record: bool = True,
    timeout: float = 120.0,
    password: str = "",
    progress: Callable[[Outcome, BatchResult, int], None] | None = None,
) -> BatchResult:
    """Validate the whole roster, then build every client that is not up to date.

    *password*, when given, protects every client's PDF (a profile's own wins otherwise).
    """
    started = time.perf_counter()
    output_dir = Path(output_dir).expanduser().resolve()
    planned = plan(roster, output_dir, workbook, record, password)
    try:
        private_dir(output_dir)
    except OSError as exc:
        raise BatchError(f"cannot create the output folder: {exc.strerror}; "
                         f"{write_hint(exc)}", file=output_dir) from None
    remove_stale_temps(output_dir)  # a killed run's manifest temp file
    manifest = read_manifest(output_dir)
    result = BatchResult(workers=jobs)
    result.notes = [f"row {job.row} ({job.profile.client_id}): {line}"
                    for job in planned for line in job.notes]
    by_key: dict[str, Job] = {}
    todo: list[Task] = []

    def report(outcome: Outcome) -> None:
        result.outcomes.append(outcome)
        if progress:
            progress(outcome, result, len(planned))

    for job in planned:
        entry = manifest.get(job.key, {})
        try:  # a client whose folder is a link fails alone; the others are built
            real_client_folder(output_dir, job.pdf, f"client {job.profile.client_id}")
        except BuildError as exc:
            report(Outcome(job.row, job.profile.client_id, "failed", 0.0, str(exc)))
            continue
        if not force and entry.get("digest") == job.digest and job.pdf.is_file():
            report(Outcome(job.row, job.profile.client_id, "skipped", 0.0, "up to date",
                           str(job.pdf)))
        else:
            by_key[job.key] = job
            todo.append(task_for(job, output_dir, workbook, record))

    def done(finished: Done) -> None:
        job = by_key[finished.task.key]
        status = "built" if finished.ok else "failed"
        outcome = Outcome(job.row, job.profile.client_id, status, round(finished.seconds, 3),
                          finished.message, str(job.pdf) if finished.ok else "",
                          round(finished.rss_mb, 1))
        entry = {"digest": job.digest, "seconds": outcome.seconds, "history": job.history,
                 "pdf": str(job.pdf.relative_to(output_dir))}

        def change(clients: dict) -> None:
            if finished.ok:
                clients[job.key] = entry
            else:
                clients.pop(job.key, None)

        try:  # after every client, only its own entry: a rerun resumes here
            update_manifest(output_dir, change)
        except OSError as exc:  # a full disk: this client is rebuilt next time
            outcome.status, outcome.pdf = "failed", ""
            outcome.message = (f"{output_dir / MANIFEST}: cannot update: {exc.strerror}; "
                               f"{write_hint(exc)}")
        except HandoutsError as exc:
            outcome.status, outcome.pdf, outcome.message = "failed", "", str(exc)
        report(outcome)

    run_tasks(todo, done, workers=jobs, timeout=timeout)
    result.outcomes.sort(key=lambda o: o.row)
    result.seconds = time.perf_counter() - started
    return result


def run_with_progress(roster: str | Path, **kwargs: Any) -> BatchResult:
    """Run a batch with a live progress bar on a terminal (quiet otherwise)."""
    return with_progress(run, roster, **kwargs)


def examples_roster() -> Path:
    """Return the bundled fictional roster."""
    return examples_dir() / "roster.csv"
