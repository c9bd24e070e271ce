"""A papermill engine that runs a workbook inside the current (warm) Python process.

Papermill still reads the notebook, injects the parameters, records every cell's outputs
and writes the executed notebook. Only the kernel is different: instead of starting a
new Jupyter kernel (and importing WeasyPrint again) for every client, the code cells
run here, each notebook in a fresh namespace. ``handouts batch`` uses it in a pool of
worker processes; ``papermill --engine handouts`` uses it too.
"""

from __future__ import annotations

import ast
import contextlib
import io
import sys
import traceback
from typing import Any

from papermill.engines import Engine


def _format(value: Any) -> dict[str, Any]:
    """Return the MIME bundle Jupyter would show for *value*."""
    data: dict[str, Any] = {"text/plain": repr(value)}
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        rendered = html()
        if rendered is not None:
            data["text/html"] = rendered
    return data


def run_cell(source: str, namespace: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """Execute *source* in *namespace* like a kernel would; return nbformat outputs."""
    from nbformat.v4 import new_output

    stdout, stderr = io.StringIO(), io.StringIO()
    outputs: list[dict[str, Any]] = []
    result = None
    try:
        tree = ast.parse(source, filename=f"<cell {count}>")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            exec(compile(tree, f"<cell {count}>", "exec"), namespace)  # noqa: S102 - the workbook's own code
            if last is not None:
                expression = ast.Expression(last.value)
                result = eval(compile(expression, f"<cell {count}>", "eval"), namespace)  # noqa: S307
        error = None
    except BaseException as exc:  # noqa: BLE001 - a cell error becomes an error output
        if isinstance(exc, KeyboardInterrupt):
            raise
        error = exc
    for name, stream in (("stdout", stdout), ("stderr", stderr)):
        if stream.getvalue():
            outputs.append(new_output("stream", name=name, text=stream.getvalue()))
    if error is not None:
        tb = traceback.format_exception(type(error), error, error.__traceback__)
        outputs.append(new_output("error", ename=type(error).__name__, evalue=str(error),
                                  traceback=tb))
    elif result is not None:
        outputs.append(new_output("execute_result", data=_format(result),
                                  execution_count=count))
    return outputs


class WarmEngine(Engine):
    """Execute each code cell in this process, in a namespace of its own per notebook."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        namespace: dict[str, Any] = {"__name__": "__main__"}
        # Papermill rewrites the output notebook at every cell start and end, which lets
        # you watch a long kernel run; here a whole workbook takes about a second, so the
        # notebook is written once, when papermill completes it.
        output_path, nb_man.output_path = nb_man.output_path, None
        try:
            cls._run_cells(nb_man, namespace)
        finally:
            nb_man.output_path = output_path

    @staticmethod
    def _run_cells(nb_man, namespace: dict[str, Any]) -> None:
        count = 0
        for index, cell in enumerate(nb_man.nb.cells):
            if cell.cell_type != "code":
                continue
            nb_man.cell_start(cell, index)
            count += 1
            cell.execution_count = count
            cell.outputs = run_cell(cell.source, namespace, count)
            if any(o["output_type"] == "error" for o in cell.outputs):
                nb_man.cell_exception(cell, index)
                nb_man.cell_complete(cell, index)
                break  # like papermill: stop at the first failing cell
            nb_man.cell_complete(cell, index)
        sys.stdout.flush()


def register() -> None:
    """Make the engine available to papermill as ``handouts``."""
    from papermill.engines import papermill_engines

    papermill_engines.register("handouts", WarmEngine)
