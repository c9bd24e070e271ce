"""Read a filled PDF handed in by a client: size, memory, object, field and time bounds.

The file is parsed in a child process (:mod:`handouts.records.pdfchild`) that may use at most
``MEMORY`` bytes and ``SECONDS`` of CPU, is stopped after ``SECONDS`` of wall time, and
refuses a file whose streams decode to more than ``MAX_INFLATED`` bytes before parsing
it. Whatever goes wrong there, the harvest gets one line and goes on with other files.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from handouts.core.untrusted import check_size, read_bounded
from handouts.errors import HarvestError
from handouts.records import pdfchild

MAX_BYTES = 25 * 1024 * 1024
MAX_INFLATED = 64 * 1024 * 1024  # a filled handout's streams decode to well under 5 MB
MAX_OBJECTS = 100_000  # a handout has a few thousand
MAX_FIELDS = 3000
MAX_VALUE = 5000  # characters in one answer; a prompt space holds far less
MAX_DEPTH = 8
MEMORY = 768 * 1024 * 1024  # address space of the reading process
SECONDS = 20
NOT_OURS = "is not a handout this practice issued"
# Run pdfchild.py as a script, with neither the working folder nor its own folder on the
# path (its neighbours html.py and profile.py would shadow the standard library).
_BOOT = ("import runpy, sys; del sys.path[0]; "
         "runpy.run_path(sys.argv.pop(1), run_name='__main__')")


@dataclass(frozen=True)
class Form:
    """A filled PDF's keywords and its terminal fields' values (Name or String).

    ``fields`` raises the file's HarvestError when its form is malformed, so that a file
    without a handouts id says so first.
    """

    keywords: str
    found: dict[str, Any] | None
    problem: HarvestError | None = None

    @property
    def fields(self) -> dict[str, Any]:
        if self.problem is not None:
            raise self.problem
        return self.found or {}


def read_form(path: str | Path, password: str | None = None,
              data: bytes | None = None) -> Form:
    """Return the keywords and form fields of the PDF at *path* (or in *data*).

    Raise HarvestError with one line naming *path* when the file is too large, expands
    too far, takes too long, or its form is malformed.
    """
    path = Path(path)
    if data is None:
        data = read_bounded(path, MAX_BYTES, HarvestError, "PDF")
    check_size(path, len(data), MAX_BYTES, HarvestError, "PDF")
    limits = {"memory": MEMORY, "seconds": SECONDS, "bytes": MAX_BYTES,
              "inflated": MAX_INFLATED, "objects": MAX_OBJECTS, "fields": MAX_FIELDS,
              "depth": MAX_DEPTH, "value": MAX_VALUE}
    request = json.dumps({"password": password or ""}).encode() + b"\n"
    # The password goes on standard input, never the command line (process titles).
    argv = [sys.executable, "-c", _BOOT, pdfchild.__file__, json.dumps(limits)]
    try:
        done = subprocess.run(argv, input=request + data, capture_output=True,
                              timeout=SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise HarvestError(f"took more than {SECONDS} s to read, far longer than a "
                           f"handout takes; {NOT_OURS}", file=path) from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        answer = {"refused": _stopped(done)}
    if "refused" in answer:
        problem = _refusal(answer["refused"], answer.get("why", ""), path, password)
        if "keywords" not in answer:
            raise problem
        return Form(answer["keywords"], None, problem)
    fields = {name: pikepdf.Name(text) if kind == "name" else
              pikepdf.String(text) if kind == "string" else pikepdf.Dictionary()
              for name, kind, text in answer["fields"]}
    return Form(answer["keywords"], fields)


def _stopped(done: subprocess.CompletedProcess) -> str:
    """Say why the reader gave no answer: out of CPU time, out of memory, or broken."""
    if done.returncode == -signal.SIGXCPU:
        return "time"
    if done.returncode < 0 or b"MemoryError" in done.stderr or b"bad_alloc" in done.stderr:
        return "memory"
    return "broken"


def _refusal(kind: str, why: str, path: Path, password: str | None) -> HarvestError:
    if kind == "password":
        hint = ("the password given does not open it" if password else
                "it is password-protected: give the password with --password-env VAR "
                "or --ask-password")
        return HarvestError(hint, file=path, field="password")
    if kind == "unreadable":
        return HarvestError(f"is not a readable PDF ({why})", file=path)
    if kind == "fields":
        return HarvestError(f"has more than {MAX_FIELDS} form fields or fields nested "
                            f"deeper than {MAX_DEPTH}; a handout has far fewer", file=path)
    reasons = {
        "inflated": f"it expands to more than {MAX_INFLATED // 2**20} MB when read, far "
                    "more than a handout",
        "objects": f"it has more than {MAX_OBJECTS} objects, far more than a handout",
        "memory": "it needs more memory to read than a handout does",
        "time": f"it takes more than {SECONDS} s to read, far longer than a handout",
        "structure": why or "its form is malformed",
    }
    if kind not in reasons:  # the reader itself failed: not the file's fault
        return HarvestError("cannot be read: the PDF reader stopped; run the harvest "
                            "again, and report it if it stops again", file=path)
    return HarvestError(f"{NOT_OURS} ({reasons[kind]})", file=path)
