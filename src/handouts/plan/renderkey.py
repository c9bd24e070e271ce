"""The render key: everything that reaches a handout's pages, in one object.

Every cache that could print stale text is keyed by a :class:`RenderKey`: the layout a
rebuild reuses (:mod:`handouts.render.segments`, through
:func:`handouts.render.pdf.render_pdf`), the parsed stylesheets, the line fits
(:mod:`handouts.render.weasy`) and the batch manifest's fingerprints
(:mod:`handouts.run.caseload`). The profile part is the whole ``Profile`` model but
the password, so a field added to the model is in the key without anyone listing it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from handouts.core.resources import (
    FALLBACK_FAMILIES,
    TEXT_FAMILIES,
    font_files,
    library_dir,
    templates_dir,
)

# Profile fields whose every effect on the pages is in the HTML of the parts they print
# in (the note, the chosen modules, rituals, scripts and own sections): a rebuild that
# changes only these may keep the layout of the parts whose HTML is unchanged, and the
# segments compare that HTML. Any other field, one added later included, lays out anew.
BODY_FIELDS = ("note", "modules", "rituals", "scripts", "own_sections")
_PACKAGES = ("handouts", "weasyprint", "jinja2", "markdown-it-py", "babel", "pydyf")


@dataclass(frozen=True)
class RenderKey:
    """Everything that reaches the page, as canonical text; :attr:`digest` names it."""

    profile: tuple[tuple[str, str], ...]  # (field, canonical JSON), every field but password
    practice: str  # name, contact, logo bytes' SHA-256, accent colour, crisis lines
    language: str
    paper: str
    print_size: str  # "large" or "regular"
    fillable: bool
    edition: str  # the template the handout is printed with
    since: str  # the "since last time" rows the page shows
    library: str  # the bundled and practice library files
    templates: str  # the template files and fonts
    versions: str  # the packages that turn all this into a PDF

    @cached_property
    def digest(self) -> str:
        """Return the SHA-256 of everything in the key."""
        return _sha256(json.dumps(asdict(self), sort_keys=True))

    @cached_property
    def assets(self) -> str:
        """Return the digest of what a parsed stylesheet holds besides its own text: the
        template files, the fonts and the packages' versions."""
        return _sha256(json.dumps([self.templates, self.versions]))

    @cached_property
    def layout(self) -> str:
        """Return the digest a rebuild's layout is reused under: the key without
        :data:`BODY_FIELDS`, whose effects the segments' own HTML carries."""
        fields = asdict(self)
        fields["profile"] = [pair for pair in self.profile if pair[0] not in BODY_FIELDS]
        return _sha256(json.dumps(fields, sort_keys=True))


def current_assets() -> str:
    """Return :attr:`RenderKey.assets` as it is now, for a render given no key."""
    return _sha256(json.dumps([_templates(), _versions()]))


def render_key(profile, template: str = "handout", since: Any = None) -> RenderKey:
    """Return the render key of *profile* printed with *template* (and *since* rows)."""
    dumped = profile.model_dump(mode="json", exclude={"password"})
    logo = Path(profile.practice_logo) if profile.practice_logo else None
    practice = {"name": profile.practice_name, "contact": profile.practice_contact,
                "logo": _file_digest(logo) if logo else "", "accent": profile.accent_color,
                "crisis_lines": dumped.get("crisis_lines")}
    libraries = [library_dir()] + ([Path(profile.practice_library)]
                                   if profile.practice_library else [])
    return RenderKey(
        profile=tuple((name, json.dumps(value, sort_keys=True))
                      for name, value in sorted(dumped.items())),
        practice=json.dumps(practice, sort_keys=True),
        language=profile.language, paper=profile.paper,
        print_size="large" if profile.large_print else "regular",
        fillable=bool(profile.fillable), edition=template,
        since=_sha256(repr(since)) if since else "",
        library=",".join(tree_digest(path) for path in libraries),
        templates=_templates(), versions=_versions(),
    )


def _templates() -> str:
    fonts = sorted(str(path) for files in font_files((*TEXT_FAMILIES, *FALLBACK_FAMILIES))
                   .values() for path, _, _ in files)
    return tree_digest(templates_dir()) + "," + _sha256(
        json.dumps([(f, *_signature(Path(f))) for f in fonts]))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"  # the render refuses it and says so


def _signature(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_mtime_ns, stat.st_size)


_TREES: dict[str, tuple[tuple, str]] = {}  # folder -> (its files' signatures, digest)


def tree_digest(path: Path) -> str:
    """Return the SHA-256 of the files under *path* (names and bytes).

    The bytes are read again only when a file's size or modification time changed, so a
    notebook rebuilding again and again pays for a listing, not a read of every file.
    """
    path = Path(path).expanduser().resolve()
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    signature = tuple((str(f), *_signature(f)) for f in files)
    known = _TREES.get(str(path))
    if known is not None and known[0] == signature:
        return known[1]
    h = hashlib.sha256()
    for file in files:
        h.update(str(file.relative_to(path.parent)).encode())
        h.update(_file_digest(file).encode())
    _TREES[str(path)] = (signature, h.hexdigest())
    return _TREES[str(path)][1]


_VERSIONS: list[str] = []


def _versions() -> str:
    if not _VERSIONS:
        found = []
        for name in _PACKAGES:
            try:
                found.append(f"{name}={version(name)}")
            except PackageNotFoundError:
                found.append(f"{name}=none")
        _VERSIONS.append(",".join(found))
    return _VERSIONS[0]
