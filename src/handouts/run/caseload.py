"""Plan a batch: validate every row first, then decide which clients are up to date.

The manifest in the output folder remembers, per client, a digest of everything its PDF
depends on. A password enters the digest only as an HMAC keyed with a secret kept in the
output folder (0600), never as a bare hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from handouts.core.files import atomic_write, output_paths, private_dir, write_hint
from handouts.core.resources import workbook_path
from handouts.core.untrusted import shown_key
from handouts.errors import BatchError, HandoutsError, ProfileError
from handouts.plan.assemble import plan_packets, plan_report
from handouts.plan.profile import Profile
from handouts.plan.renderkey import render_key
from handouts.plan.roster import ROSTER_COLUMNS, read_roster, row_params
from handouts.plan.validation import to_parameters, validate
from handouts.records.progress import since_last_time
from handouts.records.store import HISTORY, fingerprint
from handouts.run.fork import Task

SECRET = ".manifest-key"  # noqa: S105 - the file that holds the key


@dataclass
class Job:
    """A validated client ready to build."""

    row: int
    profile: Profile
    key: str
    digest: str
    pdf: Path
    notebook: Path
    notes: tuple[str, ...] = ()  # what the flags left out or brought in, for the summary
    history: str = ""  # SHA-256 of the history.jsonl a 'since last time' page is drawn from


def folder_key(output_dir: Path) -> bytes:
    """Return this output folder's secret for keying passwords (made on first use)."""
    path = output_dir / SECRET
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        private_dir(output_dir)
        atomic_write(path, secrets.token_hex(32).encode("ascii"))
        return bytes.fromhex(path.read_text(encoding="ascii").strip())


def input_digest(profile: Profile, workbook: Path, record: bool, key: bytes,
                 since: list | None = None) -> str:
    """Hash everything a client's PDF depends on: its render key (the whole profile, the
    practice, library, templates and versions, the "since last time" rows), the workbook
    and whether a record is kept; the password only as an HMAC keyed with *key*."""
    password = profile.password.get_secret_value()
    h = hashlib.sha256(render_key(profile, since=since).digest.encode())
    h.update(hmac.new(key, password.encode(), hashlib.sha256).hexdigest().encode()
             if password else b"")
    h.update(workbook.read_bytes())
    h.update(f"record={record}".encode())
    return h.hexdigest()


def plan(roster: str | Path, output_dir: str | Path = "output",
         workbook: str = "connection", record: bool = True, password: str = "") -> list[Job]:
    """Read and validate every row; raise one BatchError listing all problems."""
    roster = Path(roster)
    notebook = workbook_path(workbook)
    rows = read_roster(roster)
    if not rows:
        raise BatchError("the roster has no clients", file=roster)
    problems: list[str] = []
    if roster.suffix.lower() == ".csv":  # one line per unknown column, not one per row
        columns = {name for row in rows for name in row.fields}
        for name in sorted(columns - set(ROSTER_COLUMNS)):
            # A header that is no field name may be a line of another file: not repeated.
            column = f"column {shown_key(name)}" if shown_key(name) else "a column of line 1"
            problems.append(f"{roster}: {column} is not a parameter "
                            f"(valid: {', '.join(ROSTER_COLUMNS)})")
        if problems:
            raise BatchError(f"{len(problems)} problem(s) in the roster; nothing was built:\n"
                             + "\n".join(problems))
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    for row in rows:
        where = f"{roster}: row {row.number}"
        try:
            profile = validate(row_params(row, roster))
            if password:
                profile = profile.model_copy(update={"password": SecretStr(password)})
            planned = plan_packets(profile)
        except HandoutsError as exc:
            detail = str(exc)
            if isinstance(exc, ProfileError) and exc.file is None:
                detail = f"{exc.field}: {exc.message}" if exc.field else exc.message
                if exc.choices is not None:
                    detail += f" (valid: {', '.join(exc.choices)})"
            problems.append(f"{where}: {detail}")
            continue
        for packet in planned:
            edition = packet.profile
            pdf, record_path = output_paths(output_dir, edition, workbook)
            # A screen edition's key keeps its suffix: it never takes a PDF's place.
            key = f"{edition.client_id}/{pdf.stem if pdf.suffix == '.pdf' else pdf.name}"
            if key in seen:
                problems.append(f"{where}: client_id: {edition.client_id!r} on "
                                f"{edition.session_date} is also row {seen[key]}")
                continue
            seen[key] = row.number
            jobs.append(Job(row.number, edition, key, "", pdf, record_path))
        lines = tuple(plan_report(profile, planned))
        first = next((j for j in jobs if j.row == row.number), None)
        if lines and first is not None:
            first.notes = lines
    if problems:
        raise BatchError(f"{len(problems)} problem(s) in the roster; nothing was built:\n"
                         + "\n".join(problems))
    root = Path(output_dir).expanduser().resolve()
    try:
        secret = folder_key(root)
    except OSError as exc:
        raise BatchError(f"cannot write {root / SECRET}: {exc.strerror}; "
                         f"{write_hint(exc)}", file=roster) from None
    for job in jobs:
        since = (since_last_time(job.pdf.parent, job.profile.session_date.isoformat())
                 if job.profile.since_last_time else None)
        job.digest = input_digest(job.profile, notebook, record, secret, since)
        if job.profile.since_last_time:  # its pages are drawn from the client's history
            job.history = fingerprint(job.pdf.parent / HISTORY)
            job.digest = hashlib.sha256(f"{job.digest} {job.history}".encode()).hexdigest()
    return jobs


def task_for(job: Job, output_dir: Path, workbook: str, record: bool) -> Task:
    """Return the pool task that builds *job*: parameters without the password."""
    return Task(
        key=job.key, client_id=job.profile.client_id, workbook=workbook_path(workbook),
        parameters={**to_parameters(job.profile), "output_dir": str(output_dir)},
        pdf=job.pdf, notebook=job.notebook, record=record,
        password=job.profile.password.get_secret_value(),
    )
