"""Plan a batch: validate every row first, then decide which clients are up to date.

The manifest in the output folder remembers, per client, a digest of everything its PDF
depends on. A password enters the digest only as an HMAC keyed with a secret kept in the
output folder (0600), never as a bare hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from .assemble import assemble
from .content import load_library
from .errors import BatchError, HandoutsError, ProfileError
from .files import atomic_write, output_paths, private_dir, write_hint
from .pool import Task
from .profile import Profile, to_parameters, validate
from .records import HISTORY, fingerprint
from .resources import library_dir, templates_dir, workbook_path
from .roster import ROSTER_COLUMNS, read_roster, row_params

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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("handouts")
    except PackageNotFoundError:
        return "0.0.0"


def input_digest(profile: Profile, workbook: Path, record: bool,
                 tree: Callable[[Path], str], key: bytes) -> str:
    """Hash everything a client's PDF depends on: inputs, workbook, templates, library."""
    h = hashlib.sha256()
    inputs = profile.model_dump(mode="json", exclude={"password"})
    password = profile.password.get_secret_value()
    inputs["password"] = (hmac.new(key, password.encode(), hashlib.sha256).hexdigest()
                          if password else "")
    h.update(json.dumps(inputs, sort_keys=True).encode())
    h.update(workbook.read_bytes())
    h.update(tree(templates_dir()).encode())
    h.update(tree(library_dir()).encode())
    for extra in (profile.practice_library, profile.practice_logo):
        if extra:
            h.update(tree(Path(extra)).encode())
    h.update(f"{_version()} record={record}".encode())
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
            problems.append(f"{roster}: column {name!r} is not a parameter "
                            f"(valid: {', '.join(ROSTER_COLUMNS)})")
        if problems:
            raise BatchError(f"{len(problems)} problem(s) in the roster; nothing was built:\n"
                             + "\n".join(problems))
    jobs: list[Job] = []
    seen: dict[str, int] = {}
    libraries: dict[tuple[str, str], Any] = {}
    for row in rows:
        where = f"{roster}: row {row.number}"
        try:
            profile = validate(row_params(row, roster))
            if password:
                profile = profile.model_copy(update={"password": SecretStr(password)})
            for edition in profile.editions():
                lib_key = (edition.practice_library, edition.language)
                if lib_key not in libraries:
                    libraries[lib_key] = load_library(edition.practice_library or None,
                                                      edition.language)
                assemble(edition, libraries[lib_key])
        except HandoutsError as exc:
            detail = str(exc)
            if isinstance(exc, ProfileError) and exc.file is None:
                detail = f"{exc.field}: {exc.message}" if exc.field else exc.message
                if exc.choices is not None:
                    detail += f" (valid: {', '.join(exc.choices)})"
            problems.append(f"{where}: {detail}")
            continue
        for edition in profile.editions():
            pdf, record_path = output_paths(output_dir, edition, workbook)
            key = f"{edition.client_id}/{pdf.stem}"
            if key in seen:
                problems.append(f"{where}: client_id: {edition.client_id!r} on "
                                f"{edition.session_date} is also row {seen[key]}")
                continue
            seen[key] = row.number
            jobs.append(Job(row.number, edition, key, "", pdf, record_path))
    if problems:
        raise BatchError(f"{len(problems)} problem(s) in the roster; nothing was built:\n"
                         + "\n".join(problems))
    tree = _tree_hasher()
    root = Path(output_dir).expanduser().resolve()
    try:
        secret = folder_key(root)
    except OSError as exc:
        raise BatchError(f"cannot write {root / SECRET}: {exc.strerror}; "
                         f"{write_hint(exc)}", file=roster) from None
    for job in jobs:
        job.digest = input_digest(job.profile, notebook, record, tree, secret)
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
