"""Assemble a handout: the profile's chosen modules, in order, with front and back matter."""

from __future__ import annotations

from dataclasses import dataclass, field

from .content import Library, Module
from .errors import ProfileError
from .profile import OwnSection, Profile

# Which profile list holds which kind of module.
LISTS = {"modules": "article", "rituals": "worksheet", "scripts": "script"}

TITLES = {"en": "Connection workbook", "es": "Cuaderno de conexión"}


@dataclass
class Handout:
    """Everything the templates need, in reading order. No rendering happens here."""

    profile: Profile
    title: str
    articles: list[Module]
    worksheets: list[Module]
    scripts: list[Module]
    matter: dict[str, Module]
    references: list[str] = field(default_factory=list)
    own_after: dict[str, list[OwnSection]] = field(default_factory=dict)

    @property
    def sections(self) -> list[Module]:
        """Return the chosen modules in reading order."""
        return [*self.articles, *self.worksheets, *self.scripts]


def check_choices(profile: Profile, library: Library, file: object | None = None) -> None:
    """Raise if a chosen id is unknown, of the wrong kind, or chosen twice."""
    for list_name, kind in LISTS.items():
        valid = library.ids(kind)
        seen: set[str] = set()
        for index, module_id in enumerate(getattr(profile, list_name)):
            if module_id not in valid:
                raise ProfileError(f"unknown {kind} id {module_id!r}", file=file,
                                   field=f"{list_name}[{index}]", choices=valid)
            if module_id in seen:
                raise ProfileError(f"{module_id!r} is chosen twice", file=file,
                                   field=f"{list_name}[{index}]")
            seen.add(module_id)
    anchors = ["start", "end", *profile.modules, *profile.rituals, *profile.scripts]
    for index, own in enumerate(profile.own_sections):
        if own.after not in anchors:
            raise ProfileError(f"cannot place a section after {own.after!r}", file=file,
                               field=f"own_sections[{index}].after", choices=anchors)
    if not profile.modules and not profile.rituals and not profile.scripts:
        raise ProfileError("choose at least one module, ritual or script", file=file,
                           field="modules", choices=library.ids("article"))


def assemble(profile: Profile, library: Library, file: object | None = None) -> Handout:
    """Return the ordered handout for *profile*, validating every chosen id."""
    check_choices(profile, library, file)
    chosen = {name: [library.modules[i] for i in getattr(profile, name)] for name in LISTS}
    matter = {m.id: m for m in library.of_kind("matter")}
    references: list[str] = []
    for module in [*chosen["modules"], *chosen["rituals"], *chosen["scripts"]]:
        for key in module.sources:
            citation = library.sources[key]
            if citation not in references:
                references.append(citation)
    own_after: dict[str, list[OwnSection]] = {}
    for own in profile.own_sections:
        own_after.setdefault(own.after, []).append(own)
    return Handout(
        profile=profile,
        title=TITLES[profile.language],
        articles=chosen["modules"],
        worksheets=chosen["rituals"],
        scripts=chosen["scripts"],
        matter=matter,
        references=sorted(references),
        own_after=own_after,
    )
