"""Records that never lose a line: read-modify-write under a lock, then an atomic write.

Every record (a client's ``history.jsonl`` and ``.issued.jsonl``, the batch manifest) is
changed only while its lock file (``<record>.lock`` beside it, 0600) is held, and written
through :func:`files.atomic_write`, so concurrent processes never drop each other's rows
and a reader always sees a whole file. A client's builds also hold the client's build
lock from writing the PDF to writing its record notebook, so both are one build's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from handouts.core.files import atomic_write, write_hint
from handouts.errors import BatchError, HandoutsError

LOCK_SECONDS = 120.0  # a record is held for milliseconds; this long means a stuck process
BUILD_LOCK = ".build.lock"
MANIFEST = "manifest.json"  # per output folder: what each client's PDF was built from
ISSUED = ".issued.jsonl"  # per client: what each handout holds, by its form id
HISTORY = "history.jsonl"  # per client: the answers read back from filled handouts


@contextmanager
def locked(path: Path, error: type[HandoutsError] = HandoutsError,
           timeout: float = LOCK_SECONDS, lock_file: Path | None = None) -> Iterator[None]:
    """Hold the lock of the record at *path* (``<path>.lock``, private) while inside."""
    lock_path = lock_file or path.with_name(path.name + ".lock")
    if lock_path.is_symlink():  # opening it would write wherever the link points
        raise error("is a symbolic link; remove it and try again", file=lock_path)
    try:
        with FileLock(lock_path, timeout=timeout, mode=0o600):
            yield
    except Timeout:
        raise error(f"another handouts process has held this for {timeout:.0f} s; "
                    "wait for it to finish and try again", file=path) from None


def read_jsonl(path: Path, error: type[HandoutsError] = HandoutsError) -> list[dict[str, Any]]:
    """Return the records of a JSON Lines file ([] when it does not exist)."""
    if not path.is_file():
        return []
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "it is not JSON Lines"
        raise error(f"cannot read: {why}", file=path) from None


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write *rows* as JSON Lines, atomically and private (0600)."""
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    atomic_write(path, text.encode("utf-8"))


def append_once(path: Path, row: dict[str, Any], same: Callable[[dict[str, Any]], bool],
                error: type[HandoutsError] = HandoutsError) -> bool:
    """Append *row* unless a record already matches *same*; return whether it was added."""
    with locked(path, error):
        rows = read_jsonl(path, error)
        if any(same(r) for r in rows):
            return False
        write_jsonl(path, [*rows, row])
        return True


def remove_rows(path: Path, drop: Callable[[dict[str, Any]], bool],
                error: type[HandoutsError] = HandoutsError) -> int:
    """Remove the records matching *drop* (the file, if none is left); return how many
    were removed."""
    if not path.is_file():
        return 0
    with locked(path, error):
        rows = read_jsonl(path, error)
        kept = [r for r in rows if not drop(r)]
        if not kept:  # no record left: as before the first one
            path.unlink()
        elif len(kept) != len(rows):
            write_jsonl(path, kept)
        return len(rows) - len(kept)


def fingerprint(path: Path) -> str:
    """Return the SHA-256 of a record's bytes ('' when there is none)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""
    except OSError as exc:  # the build that reads it says so; never match a digest
        return f"unreadable {exc.errno}"


def build_lock(folder: Path, error: type[HandoutsError], timeout: float):
    """Return the context that holds a client's build lock (one build at a time)."""
    return locked(folder, error, timeout, lock_file=folder / BUILD_LOCK)


def update_failed(path: Path, exc: OSError, who: str,
                  error: type[HandoutsError] = HandoutsError) -> HandoutsError:
    """Return the one-line error for a record that could not be written."""
    hint = write_hint(exc).replace("choose an output folder you can write to (-o)",
                                   f"make {path.parent} writable")
    return error(f"cannot update: {exc.strerror or exc}; {hint}", file=path, field=who)


def read_manifest(output_dir: Path) -> dict[str, Any]:
    """Return the manifest of earlier runs (empty when there is none or it is unreadable)."""
    try:
        data = json.loads((output_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    clients = data.get("clients") if isinstance(data, dict) else None
    return clients if isinstance(clients, dict) else {}


def write_manifest(output_dir: Path, clients: dict[str, Any]) -> None:
    """Write the manifest atomically (hold its lock: see :func:`update_manifest`)."""
    body = json.dumps({"version": 1, "clients": clients}, indent=1, sort_keys=True)
    atomic_write(output_dir / MANIFEST, body.encode("utf-8"))


def update_manifest(output_dir: Path, change: Callable[[dict[str, Any]], Any]) -> Any:
    """Apply *change* to the manifest's clients under its lock; return what it returns.

    Another batch or ``forget`` may change the manifest meanwhile: each one re-reads it
    under the lock and changes only its own entries.
    """
    with locked(output_dir / MANIFEST, BatchError):
        clients = read_manifest(output_dir)
        before = json.dumps(clients, sort_keys=True)
        result = change(clients)
        if json.dumps(clients, sort_keys=True) != before:
            write_manifest(output_dir, clients)
    return result


def issued_ids(folder: Path) -> set[str]:
    """Return the form ids of the handouts issued to the client in *folder*."""
    return {r.get("handout") for r in read_jsonl(folder / ISSUED)}


def unissue(folder: Path, pdf_name: str, before: set[str]) -> int:
    """Remove the issued records a failed build of *pdf_name* added (not in *before*)."""
    return remove_rows(folder / ISSUED, lambda r: r.get("file") == pdf_name
                       and r.get("handout") not in before)
