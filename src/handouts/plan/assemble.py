"""Assemble a handout: the profile's chosen modules, in order, with front and back matter."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from handouts.content.library import Library, load_library
from handouts.content.module import LIST_OF_KIND, Module
from handouts.content.programs import Program, Week
from handouts.errors import HandoutsError, ProfileError
from handouts.plan.profile import OwnSection, Profile
from handouts.plan.reading import read_profile
from handouts.plan.routing import (
    Change,
    discreet,
    dropped_for_packets,
    individual_packets,
    leave_reason,
    packets,
    program_week,
    route,
)

LISTS = {name: kind for kind, name in LIST_OF_KIND.items()}

TITLES = {"en": "Connection workbook", "es": "Cuaderno de conexión"}
# A discreet packet's cover, running header and PDF title: no topic, nothing about sex,
# affairs or violence.
DISCREET_TITLES = {"en": "Reading notes", "es": "Notas de lectura"}


@dataclass(frozen=True)
class Handout:
    """Everything the templates need, in reading order, for one reader (read-only).

    Modules are the reader's editions (:meth:`Module.for_reader`). No rendering here.
    """

    profile: Profile
    title: str
    articles: tuple[Module, ...]
    worksheets: tuple[Module, ...]
    scripts: tuple[Module, ...]
    matter: Mapping[str, Module]
    references: tuple[str, ...] = ()
    own_after: Mapping[str, tuple[OwnSection, ...]] = field(default_factory=dict)
    # What the profile's flags left out or brought in: for the therapist, never printed.
    changes: tuple[Change, ...] = ()
    # A packet for one reader alone under a flag of fear or coercion.
    alone: bool = False
    # The program this packet is a week of, and that week (None outside a program).
    program: Program | None = None
    week: Week | None = None

    @property
    def left_out(self) -> tuple[Change, ...]:
        """Return the modules a flag or the reader left out, with the reasons."""
        return tuple(c for c in self.changes if not c.added)

    @property
    def form_id(self) -> str:
        """Return the id printed in the PDF, by which a filled copy is read back.

        It depends on the client's pseudonymous id, the date, the language and the
        worksheets (with their versions), so every door builds the same id; it holds
        no name.
        """

        parts = [self.profile.client_id, self.profile.session_date.isoformat(),
                 self.profile.language,
                 *(f"{w.id}@{w.version}" for w in self.worksheets)]
        if self.profile.partner_copy:  # each partner's own packet is read back as theirs
            parts.append(f"partner-{self.profile.partner_copy}")
        if self.week is not None:  # two weeks built on one day stay two handouts
            parts.append(f"program-{self.profile.program}-week-{self.week.week}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]

    @property
    def sections(self) -> list[Module]:
        """Return the chosen modules in reading order."""
        return [*self.articles, *self.worksheets, *self.scripts]


def expand_topics(profile: Profile, library: Library, file: object | None = None) -> Profile:
    """Return *profile* with each chosen topic's modules put before its own choices."""
    for index, topic_id in enumerate(profile.topics):
        if topic_id not in library.topics:
            raise ProfileError(f"unknown topic {topic_id!r}", file=file,
                               field=f"topics[{index}]", choices=library.topics)
    return route(profile, library)[0]


def id_problems(chosen: Mapping[str, object], library: Library | None = None,
                file: object | None = None) -> list[ProfileError]:
    """Return an error for every topic, flag, module, ritual or script id the library lacks.

    *chosen* holds the lists as a profile or raw parameters give them, so ``handouts
    check`` can name unknown ids even when another field made the profile invalid.
    """
    if library is None:
        language = chosen.get("language")
        practice = chosen.get("practice_library")
        try:
            library = load_library(practice if isinstance(practice, str) and practice else None,
                                   language if language in ("en", "es") else "en")
        except HandoutsError:
            return []
    kinds = {"topics": ("topic", list(library.topics)), "flags": ("flag", list(library.flags)),
             **{name: (f"{kind} id", library.ids(kind)) for name, kind in LISTS.items()}}
    found = []
    program = chosen.get("program")
    if isinstance(program, str) and program and program not in library.programs:
        found.append(ProfileError(f"unknown program {program!r}", file=file, field="program",
                                  choices=library.programs))
    for name, (what, valid) in kinds.items():
        values = chosen.get(name) or ()
        if isinstance(values, str):
            values = [v.strip() for v in values.split(",") if v.strip()]
        if not isinstance(values, (list, tuple)):
            continue
        for index, value in enumerate(values):
            if isinstance(value, str) and value not in valid:
                found.append(ProfileError(f"unknown {what} {value!r}", file=file,
                                          field=f"{name}[{index}]", choices=valid))
    return found


def file_id_problems(path: object) -> list[ProfileError]:
    """Return the unknown ids in the profile file at *path*, valid or not otherwise."""
    try:
        return id_problems(read_profile(path), None, path)
    except HandoutsError:
        return []


def _raise_all(found: list[ProfileError]) -> None:
    if found:
        found[0].problems = found
        raise found[0]


def _chosen(profile: Profile) -> dict[str, object]:
    return {name: getattr(profile, name) for name in ("topics", "flags", "program", *LISTS)}


def check_choices(profile: Profile, library: Library, file: object | None = None) -> None:
    """Raise if a chosen id is unknown, of the wrong kind, chosen twice, or flagged.

    The error raised is the first; its ``problems`` list every one.
    """
    found = id_problems(_chosen(profile), library, file)
    if profile.program in library.programs and program_week(profile, library) is None:
        weeks = library.programs[profile.program].weeks
        found.append(ProfileError(f"program {profile.program!r} has no week {profile.week}",
                                  file=file, field="week", choices=[str(w.week) for w in weeks]))
    for list_name, kind in LISTS.items():
        valid = library.ids(kind)
        seen: set[str] = set()
        for index, module_id in enumerate(getattr(profile, list_name)):
            if module_id not in valid:
                continue  # named by id_problems
            if module_id in seen:
                found.append(ProfileError(f"{module_id!r} is chosen twice", file=file,
                                          field=f"{list_name}[{index}]"))
                continue
            seen.add(module_id)
            clash = leave_reason(module_id, profile, library)
            if clash:
                # A concern of fear or coercion is never the thing to remove.
                remedy = ("remove the module" if individual_packets(profile, library)
                          else "remove the module or the flag")
                found.append(ProfileError(
                    f"{module_id!r} must not be used when {clash[0]!r} is noted "
                    f"({clash[1].rstrip('.')}); {remedy}",
                    file=file, field=f"{list_name}[{index}]"))
            audiences = library.modules[module_id].audiences
            if profile.reader not in audiences:
                found.append(ProfileError(
                    f"{module_id!r} is not written for this reader ({profile.reader}; it "
                    f"serves: {', '.join(audiences)}); choose another or set audience",
                    file=file, field=f"{list_name}[{index}]"))
    for ritual in profile.participants:
        if ritual not in profile.rituals:
            found.append(ProfileError(f"{ritual!r} is not a chosen ritual", file=file,
                                      field=f"participants.{ritual}", choices=profile.rituals))
    anchors = ["start", "end", *profile.modules, *profile.rituals, *profile.scripts]
    for index, own in enumerate(profile.own_sections):
        if own.after not in anchors:
            found.append(ProfileError(f"cannot place a section after {own.after!r}",
                                      file=file, field=f"own_sections[{index}].after",
                                      choices=anchors))
    unknown_week = bool(profile.program) and program_week(profile, library) is None
    if not (profile.modules or profile.rituals or profile.scripts or unknown_week):
        found.append(ProfileError("choose at least one module, ritual or script", file=file,
                                  field="modules", choices=library.ids("article")))
    _raise_all(found)


def assemble(profile: Profile, library: Library, file: object | None = None) -> Handout:
    """Return the ordered handout for *profile*, validating every chosen id.

    The profile's flags route the packet (:func:`handouts.plan.routing.route`): what they
    leave out or bring in is in :attr:`Handout.changes`. Call it on one packet of
    :func:`handouts.plan.routing.packets`.
    """
    # A handout built for one topic is titled by it (never by a client's name).
    topics = [library.topics[t].title for t in profile.topics if t in library.topics]
    _raise_all(id_problems(_chosen(profile), library, file))  # all of them, before routing
    week = program_week(profile, library)
    program = library.programs[profile.program] if week is not None else None
    profile, changes = route(profile, library)
    check_choices(profile, library, file)
    alone = individual_packets(profile, library) and profile.reader == "individual"
    if alone:  # a safety packet for one reader: no program pages, and no gate holds it
        program, week = None, None
    if discreet(profile, library):
        profile = profile.model_copy(update={
            "discreet": True, "practice_name": profile.discreet_name, "practice_logo": "",
            "practice_contact": ""})
        title = DISCREET_TITLES[profile.language]
    elif program is not None:
        title = f"{program.title.get(profile.language)}"
    else:
        title = topics[0] if len(topics) == 1 else TITLES[profile.language]

    def edition(module: Module) -> Module:
        return module.for_reader(profile.reader, profile.fillable)

    chosen = {name: tuple(edition(library.modules[i]) for i in getattr(profile, name))
              for name in LISTS}
    # The matter pages speak only of what this packet holds.
    holds = [name for name, held in (
        ("readings", chosen["modules"]), ("practices", chosen["rituals"]),
        ("scripts", chosen["scripts"]),
        ("cards", profile.cards and (chosen["rituals"] or chosen["scripts"]))) if held]
    matter = {m.id: m.for_reader(profile.reader, profile.fillable, holds)
              for m in library.of_kind("matter") if profile.reader in m.audiences}
    if alone:
        matter["safety"] = matter["safety-alone"]
        matter["disclaimer"] = matter["disclaimer-alone"]
    references: list[str] = []
    for module in [*chosen["modules"], *chosen["rituals"], *chosen["scripts"]]:
        for key in module.sources:
            citation = library.sources[key]
            if citation not in references:
                references.append(citation)
    own_after: dict[str, tuple[OwnSection, ...]] = {}
    for own in profile.own_sections:
        own_after[own.after] = (*own_after.get(own.after, ()), own)
    return Handout(
        profile=profile,
        title=title,
        articles=chosen["modules"],
        worksheets=chosen["rituals"],
        scripts=chosen["scripts"],
        matter=MappingProxyType(matter),
        references=tuple(sorted(references)),
        own_after=MappingProxyType(own_after),
        changes=changes,
        alone=alone,
        program=program,
        week=week,
    )


@dataclass(frozen=True)
class Packet:
    """One PDF a profile asks for: the packet's profile and its assembled handout.

    The therapist's guide is one packet whose *client* holds the client packets it is a
    guide to; its *handout* is the first of them (the pages it covers).
    """

    profile: Profile
    handout: Handout
    client: tuple[Packet, ...] = ()

    def report(self) -> list[str]:
        """Return what the flags changed in this packet, one line each (for the therapist)."""
        return [str(c) for c in self.handout.changes]


def client_profile(profile: Profile) -> Profile:
    """Return *profile* as the client's edition (the packet a guide is written for)."""
    if profile.edition == "client":
        return profile
    return profile.model_copy(update={"edition": "client"})


def plan_edition(profile: Profile, library: Library, file: object | None = None
                 ) -> list[Packet]:
    """Return the packets of one language edition of *profile*, assembled.

    The client's edition: one per partner where a flag or ``copies`` asks for it. The
    therapist's: one guide, planned from the client packets of the same profile, so it
    covers exactly the pages the client gets.
    """
    client = client_profile(profile)
    planned = [Packet(p, assemble(p, library, file)) for p in packets(client, library)]
    if profile.edition == "client":
        return planned
    if profile.format != "pdf":
        raise ProfileError(f"the therapist's guide is a PDF only, not {profile.format}",
                           file=file, field="format", choices=("pdf",))
    return [Packet(packets(profile, library)[0], planned[0].handout, tuple(planned))]


def plan_packets(profile: Profile, file: object | None = None) -> list[Packet]:
    """Return every packet *profile* asks for, assembled: per language, per partner."""
    planned = []
    for edition in profile.editions():
        library = load_library(edition.practice_library or None, edition.language)
        planned += plan_edition(edition, library, file)
    return planned


def plan_report(profile: Profile, planned: list[Packet]) -> list[str]:
    """Return the lines that tell the therapist what the flags changed, once per line."""
    library = load_library(profile.practice_library or None, profile.language)
    lines = dropped_for_packets(client_profile(profile), library)
    for packet in planned:
        lines += [line for line in packet.report() if line not in lines]
    return lines
