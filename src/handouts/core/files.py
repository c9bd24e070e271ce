"""Where client files go and how they are written: private, atomic, never half-written.

Client data lives only under the output folder: folders 0700, files 0600, written through
a temp file in the same folder and then renamed. Temp files carry the writing process's
id, so cleaning up after a killed build never touches another process's files.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import tempfile
from pathlib import Path

from handouts.errors import BuildError, HandoutsError

TEMP_PREFIX = ".tmp-"
log = logging.getLogger("handouts")


def private_dir(path: str | Path) -> Path:
    """Create *path* and its missing parents as private folders (0700)."""
    path = Path(path)
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    return path


def temp_path(folder: Path, suffix: str = "") -> Path:
    """Return a new private temp file in *folder*, named for this process."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{TEMP_PREFIX}{os.getpid()}-",
                               suffix=suffix)
    os.close(fd)
    os.chmod(tmp, 0o600)
    return Path(tmp)


def atomic_write(path: str | Path, data: bytes) -> Path:
    """Write *data* to *path* via a private temp file in the same folder, then replace."""
    path = Path(path)
    private_dir(path.parent)
    tmp = temp_path(path.parent, path.suffix)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process nobody has reaped yet (a zombie) is not running
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def remove_stale_temps(folder: Path, pid: int | None = None) -> None:
    """Remove temp files left in *folder* by a killed process.

    With *pid*, only that process's; otherwise those of processes no longer running.
    """
    for leftover in folder.glob(f"{TEMP_PREFIX}*"):
        owner = leftover.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not owner.isdigit():
            continue
        if (pid is not None and int(owner) == pid) or (pid is None and not _alive(int(owner))):
            leftover.unlink(missing_ok=True)


def write_hint(exc: OSError) -> str:
    """Say what to do about a failed write."""
    if exc.errno == errno.ENOSPC:
        return "free some disk space and build again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "choose an output folder you can write to (-o)"
    return "check the output folder and build again"


def packet_name(profile, workbook: str | Path) -> str:
    """Return what a packet's file is called after its date: what it is, never who.

    A discreet packet is ``notes``; a packet for one topic is named by the topic; any
    other by its workbook. A partner's own packet ends in ``-partner-N``, the therapist's
    guide in ``-therapist-guide``.
    """
    topics = tuple(getattr(profile, "topics", ()))
    if getattr(profile, "discreet", False):
        name = "notes"
    elif getattr(profile, "program", "") and getattr(profile, "week", 0):
        name = f"{profile.program}-week-{profile.week}"
    elif topics:
        name = topics[0] if len(topics) == 1 else f"{topics[0]}-and-more"
    else:
        name = Path(str(workbook)).stem
    if getattr(profile, "partner_copy", 0):
        name += f"-partner-{profile.partner_copy}"
    if getattr(profile, "edition", "client") == "therapist":  # never mistaken for a handout
        name += "-therapist-guide"
    return name


def output_paths(output_dir: str | Path, profile, workbook: str | Path) -> tuple[Path, Path]:
    """Return ``<output>/<client-id>/<date>-<name>`` .pdf (or .html, .epub) and .ipynb paths.

    *profile* is one packet (:func:`handouts.plan.routing.packets`); see :func:`packet_name`.
    """
    root = Path(output_dir).expanduser().resolve()
    folder = root / profile.client_id
    if folder.parent != root:  # client_id is a validated slug; this is a second lock
        raise BuildError("client id would write outside the output folder",
                         field="client_id")
    stem = f"{profile.session_date.isoformat()}-{packet_name(profile, workbook)}"
    if getattr(profile, "languages", ()):  # several editions: each file names its language
        stem += f"-{profile.language}"
    kind = getattr(profile, "format", "pdf")
    if kind == "pdf":
        return folder / f"{stem}.pdf", folder / f"{stem}.ipynb"
    # A screen edition's record keeps its own name beside the PDF's.
    return folder / f"{stem}.{kind}", folder / f"{stem}.{kind}.ipynb"


class Keep:
    """Keep files' previous versions while a build runs; put them back if the build fails.

    *path* is the PDF; *also* are files the build updates beside it. Each file stays in
    place during the build (a hard link holds the previous version), so a build killed
    at any moment leaves the previous file or the new, whole one. A build that fails
    leaves no new file: :meth:`restore` brings back each previous version, or removes a
    new file where there was none.
    """

    def __init__(self, path: Path, *also: Path) -> None:
        self.path = path
        self.before = {p: _identity(p) for p in (path, *also)}
        self.backups: dict[Path, Path] = {}

    def __enter__(self) -> Keep:
        for path, before in self.before.items():
            if before is not None:
                backup = temp_path(path.parent, path.suffix)
                backup.unlink()
                os.link(path, backup)
                self.backups[path] = backup
        return self

    def changed(self, path: Path | None = None) -> bool:
        """Return whether the build wrote the file (the PDF by default) anew."""
        path = path or self.path
        now = _identity(path)
        return now is not None and now != self.before[path]

    def restore(self) -> None:
        """Undo the build: each previous version back, or no file."""
        for path in self.before:
            backup = self.backups.pop(path, None)
            if backup is not None:
                os.replace(backup, path)
            elif self.changed(path):
                path.unlink(missing_ok=True)

    def __exit__(self, *exc: object) -> None:
        for backup in self.backups.values():
            backup.unlink(missing_ok=True)


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def cannot_write(folder: Path, exc: OSError, where: str) -> BuildError:
    """Return the one-line error for an output folder that cannot be written."""
    return BuildError(f"cannot create {folder}: {exc.strerror}; {write_hint(exc)}",
                      file=where, field="output")


def refuse_links(root: Path, path: Path, error: type[HandoutsError] = BuildError,
                 where: str | None = None) -> Path:
    """Return *path* if no part of it below *root* is a symbolic link; raise otherwise.

    Client data goes only into real folders under the output folder: a link there could
    send a client's handouts and records anywhere. *root* itself is taken as resolved.
    """
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise error("is outside the output folder", file=path, field=where) from None
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise error(f"is a symbolic link; handouts reads and writes client files only "
                        f"in real folders under {root}: replace the link with a folder",
                        file=current, field=where)
    return path


def real_client_folder(output_dir: str | Path, pdf: Path, where: str = "client folder"
                       ) -> Path:
    """Refuse a client folder (the folder of *pdf*) that is a link; tighten a loose one."""
    root = Path(output_dir).expanduser().resolve()
    return tighten(refuse_links(root, pdf.parent, BuildError, where))


def refuse_link(path: Path, field: str, file: object | None = None,
                error: type[HandoutsError] = BuildError) -> Path:
    """Return *path* if it (and, for a folder, nothing in it) is not a symbolic link."""
    links = [path] if path.is_symlink() else []
    if not links and path.is_dir():
        links = [p for p in sorted(path.rglob("*")) if p.is_symlink()][:1]
    if links:
        raise error(f"{links[0]} is a symbolic link; give the real file or folder",
                    file=file, field=field)
    return path


def tighten(folder: Path) -> Path:
    """Make an existing client *folder* 0700 and its files 0600; say so once if needed."""
    changed = []
    try:
        st = folder.lstat()
        if stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) != 0o700:
            os.chmod(folder, 0o700)
            changed.append(f"the folder (was {stat.S_IMODE(st.st_mode):04o})")
        loose = 0
        for entry in os.scandir(folder):
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISREG(mode) and stat.S_IMODE(mode) & 0o077:
                os.chmod(entry.path, 0o600)
                loose += 1
        if loose:
            changed.append(f"{loose} file(s) others could read")
    except OSError:
        return folder  # what cannot be changed is reported by the write that needs it
    if changed:
        log.warning("tightened %s to owner-only (folder 0700, files 0600): %s", folder,
                    " and ".join(changed))
    return folder
