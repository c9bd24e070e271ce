"""Run a workbook for a client: validate first, execute with papermill, write atomically."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .assemble import assemble
from .content import load_library
from .errors import BuildError, HandoutsError
from .pdf import private_dir, write_handout, write_hint
from .profile import Profile, load_profile, to_parameters, validate
from .resources import workbook_path

DEFAULT_WORKBOOK = "connection"


def _ipc_kernel_manager():
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class IPCKernelManager(AsyncKernelManager):
        """A kernel manager talking over private Unix sockets, not localhost TCP.

        Client names and notes travel between papermill and the kernel; IPC sockets live
        in the user's private runtime folder instead of an unencrypted TCP port.
        """

        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    return IPCKernelManager


def output_paths(output_dir: str | Path, profile: Profile,
                 workbook: str | Path) -> tuple[Path, Path]:
    """Return ``<output>/<client-id>/<date>-<workbook>`` .pdf and .ipynb paths."""
    root = Path(output_dir).expanduser().resolve()
    folder = root / profile.client_id
    if folder.parent != root:  # client_id is a validated slug; this is a second lock
        raise BuildError("client id would write outside the output folder",
                         field="client_id")
    stem = f"{profile.session_date.isoformat()}-{Path(str(workbook)).stem}"
    return folder / f"{stem}.pdf", folder / f"{stem}.ipynb"


def build_handout(
    params: Mapping[str, Any],
    output_dir: str | Path = "output",
    workbook: str = DEFAULT_WORKBOOK,
) -> Path:
    """Validate *params*, assemble, render and write the PDF; return its path.

    This is the whole pipeline in one call, for a notebook cell or a script.
    """
    profile = validate(dict(params))
    library = load_library(profile.practice_library or None, profile.language)
    pdf_path, _ = output_paths(output_dir, profile, workbook)
    return write_handout(assemble(profile, library), pdf_path)


def build(
    profile_path: str | Path,
    output_dir: str | Path = "output",
    workbook: str = DEFAULT_WORKBOOK,
    *,
    record: bool = True,
    timeout: int = 300,
    kernel: bool = False,
) -> Path:
    """Execute *workbook* with papermill for one client profile; return the PDF path.

    The profile is validated and its choices checked before anything runs. By default
    papermill runs the workbook in a fresh worker process with the in-process engine
    (no Jupyter kernel to start); *kernel* uses a real Jupyter kernel instead. Either
    way a run longer than *timeout* seconds is stopped. The executed notebook is written
    beside the PDF (the record) unless *record* is false.
    """
    profile = load_profile(profile_path)
    library = load_library(profile.practice_library or None, profile.language)
    assemble(profile, library, file=profile_path)  # fail fast on unknown ids
    notebook = workbook_path(workbook)
    output_dir = Path(output_dir).expanduser().resolve()
    pdf_path, record_path = output_paths(output_dir, profile, workbook)
    where = f"client {profile.client_id}"
    try:
        private_dir(pdf_path.parent)
    except OSError as exc:
        raise BuildError(f"cannot create {pdf_path.parent}: {exc.strerror}; "
                         f"{write_hint(exc)}", file=where, field="output") from None
    if kernel:
        _build_in_kernel(notebook, profile, output_dir, pdf_path, record_path, record,
                         timeout, where, workbook)
    else:
        from .batch import Job, execute

        outcomes = []
        job = Job(0, profile, profile.client_id, "", pdf_path, record_path)
        execute([job], output_dir, workbook, workers=1, record=record, timeout=timeout,
                warm=False, on_done=lambda _job, outcome: outcomes.append(outcome))
        if outcomes[0].status != "built":
            raise BuildError(f"the workbook failed: {outcomes[0].message}", file=where,
                             field=f"{workbook}.ipynb")
    if not pdf_path.is_file():
        raise BuildError("the workbook ran but wrote no PDF", file=where,
                         field=f"{workbook}.ipynb")
    return pdf_path


def _build_in_kernel(notebook: Path, profile: Profile, output_dir: Path, pdf_path: Path,
                     record_path: Path, record: bool, timeout: int, where: str,
                     workbook: str) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    private_dir(pdf_path.parent)
    parameters = {**to_parameters(profile), "output_dir": str(output_dir)}
    fd, tmp = tempfile.mkstemp(dir=pdf_path.parent, prefix=".tmp-", suffix=".ipynb")
    os.close(fd)
    logging.getLogger("papermill").setLevel(logging.WARNING)
    try:
        papermill.execute_notebook(
            str(notebook), tmp, parameters=parameters, progress_bar=False,
            log_output=False, execution_timeout=timeout, report_mode=False,
            kernel_manager_class=_ipc_kernel_manager(),
        )
        if record:
            os.chmod(tmp, 0o600)
            os.replace(tmp, record_path)
    except PapermillExecutionError as exc:
        from .batch import one_line

        raise BuildError(f"the workbook failed: {one_line(exc)}", file=where,
                         field=f"{workbook}.ipynb") from None
    except HandoutsError:
        raise
    except Exception as exc:  # noqa: BLE001 - kernel death, timeouts, I/O: one clear line
        raise BuildError(f"the workbook could not run: {type(exc).__name__}: {exc}",
                         file=where, field=f"{workbook}.ipynb") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
