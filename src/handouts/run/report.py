"""Report a batch: each client's outcome, a live progress bar and the summary table."""

from __future__ import annotations

import html
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from handouts.core.untrusted import plain, rich_text


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
    # What the clients' flags left out or brought in ("row 3 (c-1042): left out: …").
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{o.row}</td><td>{html.escape(plain(o.client_id))}</td>"
            f"<td>{o.status}</td><td style='text-align:right'>{o.seconds:.2f}</td>"
            f"<td>{html.escape(plain(o.message))}</td></tr>" for o in self.outcomes)
        return (f"<p>{self.count('built')} built, {self.count('skipped')} up to date, "
                f"{self.count('failed')} failed in {self.seconds:.1f} s with "
                f"{self.workers} worker(s)</p><table><thead><tr><th>row</th><th>client</th>"
                f"<th>outcome</th><th>seconds</th><th>message</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")


def print_summary(result: BatchResult, stream=None) -> None:
    """Print the summary table: each client's outcome and time, then the totals."""

    console = Console(file=stream or sys.stdout, soft_wrap=False)
    table = Table(title=None, show_lines=False)
    for name, justify in (("row", "right"), ("client", "left"), ("outcome", "left"),
                          ("seconds", "right"), ("message", "left")):
        table.add_column(name, justify=justify)
    styles = {"built": "green", "skipped": "dim", "failed": "bold red"}
    for o in result.outcomes:
        table.add_row(str(o.row), rich_text(o.client_id), f"[{styles[o.status]}]{o.status}[/]",
                      f"{o.seconds:.2f}", rich_text(o.message))
    console.print(table)
    for line in result.notes:
        console.print(line, markup=False, highlight=False)
    console.print(f"{result.count('built')} built, {result.count('skipped')} up to date, "
                  f"{result.count('failed')} failed in {result.seconds:.1f} s "
                  f"with {result.workers} worker(s)")


def with_progress(run: Callable[..., BatchResult], roster: str | Path,
                  **kwargs: Any) -> BatchResult:
    """Call *run* (a batch) with a live progress bar on a terminal (quiet otherwise)."""

    console = Console(file=sys.stderr)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[counts]}"), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn()]
    # Redrawn at each client, not by rich's refresh thread: with no thread running, the
    # batch can fork its warm workers instead of starting new interpreters.
    with Progress(*columns, console=console, disable=not console.is_terminal,
                  transient=False, auto_refresh=False) as bar:
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
            bar.refresh()

        return run(roster, progress=update, **kwargs)


