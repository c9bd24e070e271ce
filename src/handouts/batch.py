"""Build a caseload: a roster of clients, validated first, run in warm papermill workers.

Each client's workbook is still executed by papermill, with its parameters injected and
its executed notebook recorded. What is different from one ``papermill`` per client is
the kernel: a small pool of worker processes imports WeasyPrint and handouts once and
runs each notebook in-process (``handouts.engine.WarmEngine``), so a client costs about
what rendering its PDF costs. A client that fails, hangs or kills its worker fails alone.
"""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .errors import HandoutsError, ProfileError
from .profile import PARAMETERS, Profile, inherit_practice, read_profile, read_yaml

MANIFEST = "manifest.json"
MAX_ROWS = 5_000
ROSTER_COLUMNS = (*PARAMETERS, "profile", "practice")


class BatchError(HandoutsError):
    """The roster is invalid; the message lists every problem, one per line."""


@dataclass
class Row:
    """One roster row: its number (1-based, as a spreadsheet counts data rows) and fields."""

    number: int
    fields: dict[str, Any]
    base: Path


@dataclass
class Job:
    """A validated client ready to build."""

    row: int
    profile: Profile
    key: str
    digest: str
    pdf: Path
    notebook: Path


@dataclass
class Outcome:
    """What happened to one client."""

    row: int
    client_id: str
    status: str  # built | skipped | failed
    seconds: float = 0.0
    message: str = ""
    pdf: str = ""
    worker_rss_mb: float = 0.0


@dataclass
class BatchResult:
    """All outcomes of a batch run, with totals; notebooks display it as a table."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{o.row}</td><td>{html.escape(o.client_id)}</td><td>{o.status}</td>"
            f"<td style='text-align:right'>{o.seconds:.2f}</td>"
            f"<td>{html.escape(o.message)}</td></tr>" for o in self.outcomes)
        return (f"<p>{self.count('built')} built, {self.count('skipped')} up to date, "
                f"{self.count('failed')} failed in {self.seconds:.1f} s with "
                f"{self.workers} worker(s)</p><table><thead><tr><th>row</th><th>client</th>"
                f"<th>outcome</th><th>seconds</th><th>message</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")


# -- reading and validating the roster ------------------------------------------------

_PARTNER = re.compile(r"^\s*(?P<name>[^()]+?)\s*(?:\((?P<pronouns>[^()]*)\))?\s*$")


def _partners_from_text(text: str) -> list[dict[str, str]]:
    """Parse ``"Alex (they/them); Sam"`` into partner mappings."""
    partners = []
    for part in text.split(";"):
        if not part.strip():
            continue
        match = _PARTNER.match(part)
        if not match:
            raise ValueError(f"cannot read partner {part.strip()!r}; write 'Name (pronouns)'")
        entry = {"name": match["name"].strip()}
        if match["pronouns"]:
            entry["pronouns"] = match["pronouns"].strip()
        partners.append(entry)
    return partners


def read_roster(path: str | Path) -> list[Row]:
    """Read a CSV or YAML roster into rows (fields still unvalidated)."""
    path = Path(path)
    if not path.is_file():
        raise BatchError("roster file not found", file=path)
    base = path.parent.resolve()
    if path.suffix.lower() == ".csv":
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
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
        except (UnicodeDecodeError, csv.Error) as exc:
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
            raise BatchError("is not a roster field", file=path, field=sorted(extra)[0],
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


def _row_params(row: Row, roster: Path) -> dict[str, Any]:
    fields = dict(row.fields)
    unknown = [k for k in fields if k not in ROSTER_COLUMNS]
    if unknown:
        raise ProfileError("is not a known parameter", field=unknown[0], choices=ROSTER_COLUMNS)
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


def input_digest(profile: Profile, workbook: Path, record: bool,
                 tree: Callable[[Path], str]) -> str:
    """Hash everything a client's PDF depends on: inputs, workbook, templates, library."""
    from . import __version__
    from .resources import library_dir, templates_dir

    h = hashlib.sha256()
    inputs = profile.model_dump(mode="json")
    inputs["password"] = bool(inputs["password"])  # never a hash of the password itself
    h.update(json.dumps(inputs, sort_keys=True).encode())
    h.update(workbook.read_bytes())
    h.update(tree(templates_dir()).encode())
    h.update(tree(library_dir()).encode())
    for extra in (profile.practice_library, profile.practice_logo):
        if extra:
            h.update(tree(Path(extra)).encode())
    h.update(f"{__version__} record={record}".encode())
    return h.hexdigest()


def _tree_hasher() -> Callable[[Path], str]:
    cache: dict[Path, str] = {}

    def tree(path: Path) -> str:
        path = path.resolve()
        if path not in cache:
            h = hashlib.sha256()
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*")
                                                         if p.is_file())
            for file in files:
                if "__pycache__" in file.parts:
                    continue
                h.update(str(file.relative_to(path.parent)).encode())
                h.update(file.read_bytes())
            cache[path] = h.hexdigest()
        return cache[path]

    return tree


def plan(roster: str | Path, output_dir: str | Path = "output",
         workbook: str = "connection", record: bool = True) -> list[Job]:
    """Read and validate every row; raise one BatchError listing all problems."""
    from .assemble import assemble
    from .build import output_paths
    from .content import load_library
    from .profile import validate
    from .resources import workbook_path

    roster = Path(roster)
    notebook = workbook_path(workbook)
    rows = read_roster(roster)
    if not rows:
        raise BatchError("the roster has no clients", file=roster)
    problems: list[str] = []
    if roster.suffix.lower() == ".csv":  # one line per unknown column, not one per row
        columns = {name for row in rows for name in row.fields}
        for name in sorted(columns - set(ROSTER_COLUMNS)):
            problems.append(f"{roster}: column {name!r} is not a parameter "
                            f"(valid: {', '.join(ROSTER_COLUMNS)})")
        if problems:
            raise BatchError(f"{len(problems)} problem(s) in the roster; nothing was built:\n"
                             + "\n".join(problems))
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    libraries: dict[tuple[str, str], Any] = {}
    tree = _tree_hasher()
    for row in rows:
        where = f"{roster}: row {row.number}"
        try:
            profile = validate(_row_params(row, roster))
            lib_key = (profile.practice_library, profile.language)
            if lib_key not in libraries:
                libraries[lib_key] = load_library(profile.practice_library or None,
                                                  profile.language)
            assemble(profile, libraries[lib_key])
        except HandoutsError as exc:
            detail = str(exc)
            if isinstance(exc, ProfileError) and exc.file is None:
                detail = f"{exc.field}: {exc.message}" if exc.field else exc.message
                if exc.choices is not None:
                    detail += f" (valid: {', '.join(exc.choices)})"
            problems.append(f"{where}: {detail}")
            continue
        pdf, record_path = output_paths(output_dir, profile, workbook)
        key = f"{profile.client_id}/{pdf.stem}"
        if key in seen:
            problems.append(f"{where}: client_id: {profile.client_id!r} on "
                            f"{profile.session_date} is also row {seen[key]}")
            continue
        seen[key] = row.number
        jobs.append(Job(row.number, profile, key,
                        input_digest(profile, notebook, record, tree), pdf, record_path))
    if problems:
        raise BatchError(f"{len(problems)} problem(s) in the roster; nothing was built:\n"
                         + "\n".join(problems))
    return jobs


# -- the manifest ---------------------------------------------------------------------

def read_manifest(output_dir: Path) -> dict[str, Any]:
    """Return the manifest of earlier runs (empty when there is none or it is unreadable)."""
    try:
        data = json.loads((output_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    clients = data.get("clients") if isinstance(data, dict) else None
    return clients if isinstance(clients, dict) else {}


def write_manifest(output_dir: Path, clients: dict[str, Any]) -> None:
    """Write the manifest atomically."""
    from .pdf import atomic_write

    body = json.dumps({"version": 1, "clients": clients}, indent=1, sort_keys=True)
    atomic_write(output_dir / MANIFEST, body.encode("utf-8"))


# -- the worker pool ------------------------------------------------------------------

MEMORY_LIMIT_MB = 2048  # address space per worker; a client that needs more fails alone


def _worker(conn: Connection, warm: bool = True) -> None:
    """Run in a worker process: warm up once, then build clients sent over *conn*."""
    import resource

    limit = MEMORY_LIMIT_MB * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # a lower hard limit is already set: keep it
        pass

    # jsonschema (via nbformat) builds an IRI grammar at import when rfc3987-syntax is
    # installed (JupyterLab brings it): 0.7 s per worker for a check notebooks never use.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import papermill

    from .engine import register
    from .pdf import render_pdf

    register()
    if warm:  # load WeasyPrint, the fonts and the library once, not per client
        _warm_up(render_pdf)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        start = time.perf_counter()
        result: dict[str, Any] = {"ok": True, "message": ""}
        tmp = Path(job["notebook"]).with_name(f".tmp-{os.getpid()}-{job['stem']}.ipynb")
        try:
            papermill.execute_notebook(
                job["workbook"], str(tmp), parameters=job["parameters"],
                engine_name="handouts", progress_bar=False, log_output=False,
            )
            if job["record"]:
                os.chmod(tmp, 0o600)
                os.replace(tmp, job["notebook"])
        except Exception as exc:  # noqa: BLE001 - reported for this client alone
            result = {"ok": False, "message": one_line(exc)}
        finally:
            tmp.unlink(missing_ok=True)
        if result["ok"] and not Path(job["pdf"]).is_file():
            result = {"ok": False, "message": "the workbook ran but wrote no PDF"}
        result["seconds"] = time.perf_counter() - start
        _release_memory()
        result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(result)


def _release_memory() -> None:
    """Return freed memory to the system between clients, so a worker stays small."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def _warm_up(render_pdf) -> None:
    from .assemble import assemble
    from .content import load_library
    from .html import render_html
    from .profile import validate

    profile = validate({"client_id": "warm-up", "partners": [{"name": "A"}],
                        "session_date": "2026-01-01", "modules": ["barometer"],
                        "rituals": ["six-second-kiss"], "scripts": ["missing-closeness"],
                        "cards": True})
    render_pdf(render_html(assemble(profile, load_library())))


def one_line(exc: BaseException) -> str:
    """Describe a failed run in one line: the cell's error, or the exception."""
    ename = getattr(exc, "ename", None)
    if ename == "MemoryError" or isinstance(exc, MemoryError):
        return f"ran out of memory (limit {MEMORY_LIMIT_MB} MB per client); check the inputs"
    evalue = getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:300]


class _Worker:
    def __init__(self, context, warm: bool = True) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, warm), daemon=True)
        self.process.start()
        child.close()
        self.job: Job | None = None
        self.started = 0.0
        self.jobs_done = 0

    def send(self, job: Job, payload: dict[str, Any]) -> None:
        self.job, self.started = job, time.monotonic()
        self.conn.send(payload)

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
            if self.job is not None:  # a killed worker leaves its temp files: remove them
                for leftover in self.job.pdf.parent.glob(".tmp-*"):
                    leftover.unlink(missing_ok=True)
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


def run(
    roster: str | Path,
    output_dir: str | Path = "output",
    jobs: int = 2,
    force: bool = False,
    workbook: str = "connection",
    record: bool = True,
    timeout: float = 120.0,
    max_jobs_per_worker: int = 200,
    progress: Callable[[Outcome, BatchResult, int], None] | None = None,
) -> BatchResult:
    """Validate the whole roster, then build every client that is not up to date."""
    from .pdf import private_dir

    started = time.perf_counter()
    output_dir = Path(output_dir).expanduser().resolve()
    planned = plan(roster, output_dir, workbook, record)
    try:
        private_dir(output_dir)
    except OSError as exc:
        from .pdf import write_hint

        raise BatchError(f"cannot create the output folder: {exc.strerror}; "
                         f"{write_hint(exc)}", file=output_dir) from None
    manifest = read_manifest(output_dir)
    result = BatchResult(workers=jobs)
    todo: list[Job] = []
    for job in planned:
        entry = manifest.get(job.key, {})
        if not force and entry.get("digest") == job.digest and job.pdf.is_file():
            outcome = Outcome(job.row, job.profile.client_id, "skipped", 0.0,
                              "up to date", str(job.pdf))
            result.outcomes.append(outcome)
            if progress:
                progress(outcome, result, len(planned))
        else:
            todo.append(job)

    def done(job: Job, outcome: Outcome) -> None:
        result.outcomes.append(outcome)
        if outcome.status == "built":
            manifest[job.key] = {"digest": job.digest, "seconds": outcome.seconds,
                                 "pdf": str(job.pdf.relative_to(output_dir))}
        else:
            manifest.pop(job.key, None)
        write_manifest(output_dir, manifest)  # after every client: a rerun resumes here
        if progress:
            progress(outcome, result, len(planned))

    execute(todo, output_dir, workbook, workers=jobs, record=record, timeout=timeout,
            max_jobs_per_worker=max_jobs_per_worker, on_done=done)
    result.outcomes.sort(key=lambda o: o.row)
    result.seconds = time.perf_counter() - started
    return result


def execute(
    todo: list[Job],
    output_dir: Path,
    workbook: str,
    *,
    workers: int = 2,
    record: bool = True,
    timeout: float = 120.0,
    warm: bool = True,
    max_jobs_per_worker: int = 200,
    on_done: Callable[[Job, Outcome], None],
) -> None:
    """Run *todo* through papermill in worker processes; report each job to *on_done*."""
    from .pdf import private_dir
    from .resources import workbook_path

    notebook = str(workbook_path(workbook))
    context = multiprocessing.get_context("spawn")
    pool = [_Worker(context, warm) for _ in range(min(max(workers, 1), len(todo)))]
    queue = list(todo)

    def finish(job: Job, status: str, seconds: float, message: str, rss: float) -> None:
        on_done(job, Outcome(job.row, job.profile.client_id, status, round(seconds, 3),
                             message, str(job.pdf) if status == "built" else "",
                             round(rss, 1)))

    try:
        while queue or any(w.job for w in pool):
            for index, worker in enumerate(pool):
                if worker.job is None and queue:
                    if worker.jobs_done >= max_jobs_per_worker:  # keep memory flat
                        worker.stop()
                        worker = pool[index] = _Worker(context, warm)
                    job = queue.pop(0)
                    try:
                        private_dir(job.pdf.parent)
                        for stale in job.pdf.parent.glob(".tmp-*"):  # an interrupted run's
                            stale.unlink(missing_ok=True)
                    except OSError as exc:
                        from .pdf import write_hint

                        finish(job, "failed", 0.0, f"cannot write {job.pdf.parent}: "
                               f"{exc.strerror}; {write_hint(exc)}", 0.0)
                        continue
                    worker.send(job, {
                        "workbook": notebook, "record": record, "stem": job.pdf.stem,
                        "pdf": str(job.pdf), "notebook": str(job.notebook),
                        "parameters": {**job.profile.model_dump(mode="json"),
                                       "output_dir": str(output_dir)},
                    })
            ready = wait([w.conn for w in pool if w.job], timeout=1.0)
            now = time.monotonic()
            for index, worker in enumerate(pool):
                if worker.job is None:
                    continue
                if worker.conn in ready:
                    try:
                        reply = worker.conn.recv()
                    except (EOFError, OSError):
                        worker.process.join(timeout=5)  # reap it to read its exit code
                        job, code = worker.job, worker.process.exitcode
                        worker.stop(kill=True)
                        pool[index] = _Worker(context, warm)
                        finish(job, "failed", now - worker.started,
                               f"the worker stopped (exit code {code}); check memory and "
                               "the workbook", 0.0)
                        continue
                    job, worker.job = worker.job, None
                    worker.jobs_done += 1
                    finish(job, "built" if reply["ok"] else "failed", reply["seconds"],
                           reply["message"], reply["rss_mb"])
                elif now - worker.started > timeout:
                    job = worker.job
                    worker.stop(kill=True)
                    pool[index] = _Worker(context, warm)
                    finish(job, "failed", now - worker.started,
                           f"timed out after {timeout:.0f} s; the worker was stopped", 0.0)
    finally:
        for worker in pool:
            worker.stop(kill=worker.job is not None)


def print_summary(result: BatchResult, stream=None) -> None:
    """Print the summary table: each client's outcome and time, then the totals."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream or sys.stdout, soft_wrap=False)
    table = Table(title=None, show_lines=False)
    for name, justify in (("row", "right"), ("client", "left"), ("outcome", "left"),
                          ("seconds", "right"), ("message", "left")):
        table.add_column(name, justify=justify)
    styles = {"built": "green", "skipped": "dim", "failed": "bold red"}
    for o in result.outcomes:
        table.add_row(str(o.row), o.client_id, f"[{styles[o.status]}]{o.status}[/]",
                      f"{o.seconds:.2f}", o.message)
    console.print(table)
    console.print(f"{result.count('built')} built, {result.count('skipped')} up to date, "
                  f"{result.count('failed')} failed in {result.seconds:.1f} s "
                  f"with {result.workers} worker(s)")


def run_with_progress(roster: str | Path, **kwargs: Any) -> BatchResult:
    """Run a batch with a live progress bar on a terminal (quiet otherwise)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=sys.stderr)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[counts]}"), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn()]
    with Progress(*columns, console=console, disable=not console.is_terminal,
                  transient=False) as bar:
        task = bar.add_task("handouts", total=None, counts="", rate="")
        begun = time.monotonic()

        def update(outcome: Outcome, result: BatchResult, total: int) -> None:
            done = len(result.outcomes)
            elapsed = max(time.monotonic() - begun, 1e-6)
            built = result.count("built")
            bar.update(task, total=total, completed=done,
                       counts=f"{built} built · {result.count('skipped')} skipped · "
                              f"{result.count('failed')} failed",
                       rate=f"{built / elapsed:.1f}/s")

        return run(roster, progress=update, **kwargs)


def examples_roster() -> Path:
    """Return the bundled fictional roster."""
    from .resources import examples_dir

    return examples_dir() / "roster.csv"
