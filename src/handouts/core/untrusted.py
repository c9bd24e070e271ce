"""Read what a user or client hands in with bounds, and show what they wrote as data.

Files (profiles, practice files, rosters, logos) are read only when they are regular
files, and never past their size limit: a FIFO or ``/dev/zero`` fails at once. Text a
client wrote is stripped of control and escape characters before it reaches a terminal,
a notebook or the app. Filled PDFs are read in :mod:`handouts.records.filled`.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from rich.text import Text

from handouts.errors import HandoutsError

# ANSI escape sequences (CSI, OSC, and two-byte ESC forms), then C0/C1 controls except
# tab and newline, and the bidi overrides and isolates that reorder what follows them.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
                      r"|\x1b[ -/]*[0-~]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TOKEN = re.compile(r"[A-Za-z0-9_.#+-]{1,40}")
_KEY = re.compile(r"[a-z][a-z0-9_]{1,39}")
MAX_LOGO_BYTES = 5_000_000  # a logo prints a few centimetres wide
MAX_MODULE_BYTES = 1_000_000  # a content module is a few pages of Markdown


def plain(text: object) -> str:
    """Return *text* without escape sequences, control characters or bidi overrides."""
    return _CONTROLS.sub("", _ESCAPES.sub("", str(text)))


def rich_text(text: object):
    """Return *text* as a rich Text: printed as it is, never read as markup."""

    return Text(plain(text))


def shown_value(value: object) -> str | None:
    """Return ``repr(value)`` when it is a short token safe to repeat in an error, else None.

    An error names the file, line and field; it repeats a value only when it cannot be a
    line of some other file (a password-file line, a sentence of a private note).
    """
    text = str(value)
    return repr(text) if _TOKEN.fullmatch(text) else None


def shown_key(key: object) -> str | None:
    """Return ``repr(key)`` when it looks like a field name (lower-case snake), else None."""
    text = str(key)
    return repr(text) if _KEY.fullmatch(text) else None


def unquoted(message: str) -> str:
    """Drop quoted fragments (a parser's excerpt of the file) from a parser's message."""
    return re.sub(r"\s+(['\"]).*?\1", "", message)


def read_bounded(path: str | Path, limit: int, error: type[HandoutsError] = HandoutsError,
                 what: str = "file") -> bytes:
    """Return the bytes of the regular file *path*, refusing anything else or > *limit*.

    Opened without blocking and checked on the open descriptor, so a FIFO, a device or a
    file swapped in between check and read fails at once instead of hanging.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{what} not found", file=path) from None
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", file=path) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"is not a regular {what} (a folder, device or pipe); give a "
                        "file", file=path)
        check_size(path, info.st_size, limit, error, what)
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise error(f"cannot read {what}: {exc.strerror or exc}", file=path) from None
    check_size(path, len(data), limit, error, what)
    return data


def check_file(path: str | Path, limit: int, error: type[HandoutsError] = HandoutsError,
               what: str = "file", field: str | None = None) -> None:
    """Refuse *path* unless it is a regular file of at most *limit* bytes (not opened)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error(f"{what} not found", file=path, field=field) from None
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", file=path,
                    field=field) from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"is not a regular {what} (a folder, device or pipe); give a file",
                    file=path, field=field)
    check_size(path, info.st_size, limit, error, what, field)


def check_size(path: object, size: int, limit: int, error: type[HandoutsError],
               what: str = "file", field: str | None = None) -> None:
    """Refuse a *size* over *limit*, saying both in kB or MB."""
    if size > limit:
        unit, scale = ("MB", 1_000_000) if limit >= 10_000_000 else ("kB", 1000)
        raise error(f"{what} is larger than {limit // scale} {unit}; it is not read",
                    file=path, field=field)
