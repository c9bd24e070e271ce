"""Build one client's handout: validate first, run the workbook, keep the PDF private."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import get_args

from pydantic import SecretStr

from handouts.core.files import (
    Keep,
    cannot_write,
    output_paths,
    private_dir,
    real_client_folder,
    temp_path,
)
from handouts.core.resources import workbook_path
from handouts.errors import BuildError, HandoutsError
from handouts.plan.assemble import Packet, plan_packets, plan_report
from handouts.plan.profile import Profile
from handouts.plan.validation import load_profile, to_parameters, with_program
from handouts.records.programs import check_gate
from handouts.records.store import build_lock, issued_ids
from handouts.render.glyphs import fallbacks_needed
from handouts.render.pdf import PASSWORD_ENV
from handouts.run.caseload import Job, task_for
from handouts.run.pool import Done, one_line, run_tasks, undo

DEFAULT_WORKBOOK = "connection"
FORMATS = get_args(Profile.model_fields["format"].annotation)  # the profile says which


def build(
    profile_path: str | Path,
    output_dir: str | Path = "output",
    workbook: str = DEFAULT_WORKBOOK,
    *,
    record: bool = True,
    timeout: int = 300,
    kernel: bool = False,
    password: str = "",
) -> Path:
    """Execute *workbook* with papermill for one client profile; return the PDF path.

    A profile with ``languages`` gets one PDF per language, and one under a flag that
    gives each partner a packet of their own; the first one's path is returned
    (:func:`build_packets` returns them all).

    The profile is validated and its choices checked before anything runs. By default
    the workbook runs in a fresh child of a worker process with the in-process engine;
    *kernel* uses a real Jupyter kernel instead. Either way a run longer than *timeout*
    seconds is stopped, and a failed build leaves no new file. The executed notebook is
    written beside the PDF (the record) unless *record* is false; it never holds the
    password (*password*, or the profile's ``password``).
    """
    return build_packets(profile_path, output_dir, workbook, record=record, timeout=timeout,
                         kernel=kernel, password=password)[0][0]


def build_packets(
    profile_path: str | Path,
    output_dir: str | Path = "output",
    workbook: str = DEFAULT_WORKBOOK,
    *,
    record: bool = True,
    timeout: int = 300,
    kernel: bool = False,
    password: str = "",
    report: Callable[[str], None] | None = None,
    discreet: bool = False,
    copies: str | None = None,
    edition: str | None = None,
    format: str | None = None,  # noqa: A002 - the profile field's name
    program: str | None = None,
    week: int | None = None,
) -> list[tuple[Path, Packet]]:
    """Build every packet of one profile (see :func:`build`); return each PDF's path.

    *report* is given each line that tells the therapist what the profile's flags left
    out or brought in, before anything runs. *discreet* makes every packet discreet;
    *copies* (``shared`` or ``per-partner``) overrides the profile's ``copies``,
    *edition* (``client`` or ``therapist``) its ``edition``, *format* (``pdf``,
    ``html`` or ``epub``) its ``format``, and *program* and *week* its program and week.
    """
    if kernel and find_spec("ipykernel") is None:
        raise BuildError("--kernel needs ipykernel, which is not installed: "
                         "pip install 'handouts[kernel]'", file=profile_path)
    profile = load_profile(profile_path)
    if password:
        profile = profile.model_copy(update={"password": SecretStr(password)})
    if discreet:
        profile = profile.model_copy(update={"discreet": True})
    if copies:
        profile = profile.model_copy(update={"copies": copies})
    if edition:
        profile = profile.model_copy(update={"edition": edition})
    if format:
        if format not in FORMATS:
            raise BuildError(f"unknown format {format!r}", field="format", choices=FORMATS)
        profile = profile.model_copy(update={"format": format})
    if program or week:
        profile = with_program(profile, program, week, profile_path)
    # fail fast on unknown ids, in every language and packet asked for
    planned = plan_packets(profile, file=profile_path)
    if report is not None:
        for line in plan_report(profile, planned):
            report(line)
    editions = [p.profile for p in planned]
    fallbacks_needed(profile)  # here, not in the worker: a character left out is noted
    workbook_path(workbook)
    output_dir = Path(output_dir).expanduser().resolve()
    paths = [output_paths(output_dir, edition, workbook) for edition in editions]
    where = f"client {profile.client_id}"
    try:
        private_dir(real_client_folder(output_dir, paths[0][0], where))
    except OSError as exc:
        raise cannot_write(paths[0][0].parent, exc, where) from None
    for packet, (pdf_path, _) in zip(planned, paths, strict=True):
        if not packet.client:  # the therapist's guide says what a gate waits for
            check_gate(packet.handout, pdf_path.parent, output_dir)  # before any work
    for edition, (pdf_path, record_path) in zip(editions, paths, strict=True):
        job = Job(0, edition, edition.client_id, "", pdf_path, record_path)
        if kernel:
            try:
                _build_in_kernel(job, output_dir, workbook, record, timeout, where)
            except OSError as exc:  # a read-only client folder, a full disk
                raise cannot_write(pdf_path.parent, exc, where) from None
            continue
        done: list[Done] = []
        run_tasks([task_for(job, output_dir, workbook, record)], done.append, workers=1,
                  timeout=timeout, warm=False)
        if not done[0].ok:
            raise BuildError(f"the workbook failed: {done[0].message}", file=where,
                             field=f"{Path(workbook).stem}.ipynb")
    return [(pdf, packet) for (pdf, _), packet in zip(paths, planned, strict=True)]


def _ipc_kernel_manager():
    # lazy: the notebook stack takes seconds to load; only a run needs it
    from jupyter_client.manager import AsyncKernelManager

    # lazy: the notebook stack takes seconds to load; only a run needs it
    from traitlets import CaselessStrEnum

    class IPCKernelManager(AsyncKernelManager):
        """A kernel manager talking over private Unix sockets, not localhost TCP.

        Client names and notes travel between papermill and the kernel; IPC sockets live
        in the user's private runtime folder instead of an unencrypted TCP port.
        """

        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    return IPCKernelManager


def _build_in_kernel(job: Job, output_dir: Path, workbook: str, record: bool,
                     timeout: int, where: str) -> None:
    import papermill  # lazy: the notebook stack takes seconds to load; only a run needs it

    # lazy: the notebook stack takes seconds to load; only a run needs it
    from papermill.exceptions import PapermillExecutionError

    profile: Profile = job.profile
    parameters = {**to_parameters(profile), "output_dir": str(output_dir)}
    tmp = temp_path(job.pdf.parent, ".ipynb")
    logging.getLogger("papermill").setLevel(logging.WARNING)
    secret = profile.password.get_secret_value()
    before = os.environ.get(PASSWORD_ENV)
    field = f"{Path(workbook).stem}.ipynb"
    folder = job.pdf.parent
    with build_lock(folder, BuildError, timeout), Keep(job.pdf) as kept:
        issued = issued_ids(folder)
        try:
            if secret:
                os.environ[PASSWORD_ENV] = secret  # the kernel inherits it; never recorded
            papermill.execute_notebook(
                str(workbook_path(workbook)), str(tmp), parameters=parameters,
                progress_bar=False, log_output=False, execution_timeout=timeout,
                report_mode=False, kernel_manager_class=_ipc_kernel_manager(),
            )
            if not kept.changed():
                raise BuildError("the workbook ran but wrote no PDF", file=where, field=field)
            if record:
                os.replace(tmp, job.notebook)
        except PapermillExecutionError as exc:
            undo(kept, folder, job.pdf, issued)
            raise BuildError(f"the workbook failed: {one_line(exc)}", file=where,
                             field=field) from None
        except HandoutsError:
            undo(kept, folder, job.pdf, issued)
            raise
        except Exception as exc:  # noqa: BLE001 - kernel death, timeouts, I/O: one clear line
            undo(kept, folder, job.pdf, issued)
            raise BuildError(f"the workbook could not run: {type(exc).__name__}: {exc}",
                             file=where, field=field) from None
        finally:
            tmp.unlink(missing_ok=True)
            if before is None:
                os.environ.pop(PASSWORD_ENV, None)
            else:
                os.environ[PASSWORD_ENV] = before

