"""The therapist's guide to a packet (``edition: therapist``): what the templates print.

For each module the client packet holds: its facilitation notes (how to introduce it,
common obstacles, what to watch for, when not to use it), the flags under which the
routing leaves it out, and its sources; then this client's flags, the pages the flags
left out or brought in (with the routing's reasons) and what the individual packets
leave out; for a program week (``program`` and ``week``), which week of how many, its
gate (passed, or what it waits for), this week's practices and what comes next week.
The guide is planned from the client packets themselves
(:func:`handouts.plan.assemble.plan_edition`), so it covers exactly the pages the client
gets. Nothing here is ever printed in a client's PDF.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from handouts.content.flags import Flag
from handouts.content.library import Library, load_library
from handouts.content.module import LIST_OF_KIND, Facilitation, Module
from handouts.content.programs import Program, Week
from handouts.core.files import packet_name
from handouts.plan.assemble import Handout, Packet, client_profile
from handouts.plan.profile import Profile
from handouts.plan.routing import Change, dropped_for_packets, leave_reason, program_week

# The cover, running header and PDF title: what it is, and who it is not for; no name,
# no topic.
GUIDE_TITLES = {"en": "Therapist\u2019s guide \u2014 not for the client",
                "es": "Gu\u00eda para terapeutas \u2014 no es para clientes"}


@dataclass(frozen=True)
class GuideEntry:
    """One module of the packet, with the notes the therapist reads about it."""

    module: Module  # the client's edition (its title as the client reads it)
    notes: Facilitation | None
    borrowed: bool  # the notes come from the English edition (none in this language)
    left_out_under: tuple[str, ...]  # flags under which the routing leaves it out
    sources: tuple[str, ...]  # citations


@dataclass(frozen=True)
class ClientFile:
    """One PDF the client gets, as the guide lists it."""

    name: str
    reader: str
    discreet: bool
    partner: str  # whose own copy it is; empty for a shared one


@dataclass(frozen=True)
class WeekItem:
    """One module a program week names, and whether the client's packet holds it."""

    id: str
    kind: str  # article | worksheet | script
    title: str  # as the client reads it
    left_out: str  # the flag that left it out, or why ("" when the packet holds it)


@dataclass(frozen=True)
class GateStep:
    """A gate of the program: the week it opens, what the therapist confirms, and when."""

    opens_week: int
    text: str
    confirmed_on: str = ""  # ISO date from the client's records; empty while waiting


@dataclass(frozen=True)
class ProgramPlace:
    """Where a program week sits, for the therapist: the week, its gates, the next week."""

    id: str
    title: str
    week: int
    total: int
    week_title: str
    focus: str
    items: tuple[WeekItem, ...]  # what this week names
    gates: tuple[GateStep, ...]  # every gate up to this week: all must be confirmed
    next_title: str  # the next week's title ("" after the last week)
    next_items: tuple[WeekItem, ...]
    next_gate: GateStep | None  # the gate that opens the next week, if any
    alone: bool  # the flags made every packet a safety packet: no program pages, no gate
    command: str = ""  # the command that records the pending confirmation

    @property
    def waiting(self) -> GateStep | None:
        """Return the first gate of this week not yet confirmed (None: the week is open)."""
        return next((g for g in self.gates if not g.confirmed_on), None)

    def with_records(self, confirmed: Mapping[int, str], command: str) -> ProgramPlace:
        """Return this place with the confirmation dates of the client's records."""
        def dated(gate: GateStep | None) -> GateStep | None:
            return gate and replace(gate, confirmed_on=confirmed.get(gate.opens_week, ""))
        return replace(self, gates=tuple(dated(g) for g in self.gates),
                       next_gate=dated(self.next_gate), command=command)


@dataclass(frozen=True)
class Guide:
    """Everything the guide template needs (read-only). ``profile`` is the guide's own."""

    profile: Profile
    title: str
    handout: Handout
    entries: tuple[GuideEntry, ...]
    flags: tuple[Flag, ...]
    left_out: tuple[Change, ...]
    added: tuple[Change, ...]
    # The left-out pages by (flag, reason), in order: one line per reason.
    left_out_groups: tuple[tuple[str, str, tuple[str, ...]], ...]
    notes: tuple[str, ...]
    files: tuple[ClientFile, ...]
    references: tuple[str, ...]
    program: ProgramPlace | None = None  # the program week the packet is, if any


def _notes(module_id: str, library: Library, profile: Profile
           ) -> tuple[Facilitation | None, bool]:
    notes = library.modules[module_id].facilitation
    if notes is not None or library.language == "en":
        return notes, False
    english = load_library(profile.practice_library or None, "en").modules.get(module_id)
    if english is None or english.facilitation is None:
        return None, False
    return english.facilitation, True


def _grouped(changes: list[Change]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    groups: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        groups.setdefault((change.flag, change.reason), []).append(change.id)
    return tuple((flag, reason, tuple(ids)) for (flag, reason), ids in groups.items())


def _short(citation: str) -> str:
    """Return a citation's authors and year ("Glass, S. P. (2003)"), else the whole."""
    match = re.match(r"^(.{1,160}?\(\d{4}[^)]*\))", citation)
    return match[1] if match else citation


def _file(packet: Packet, workbook: str) -> ClientFile:
    profile = packet.profile
    stem = f"{profile.session_date.isoformat()}-{packet_name(profile, workbook)}"
    if profile.languages:
        stem += f"-{profile.language}"
    partner = profile.partners[0].name if profile.partner_copy and len(
        profile.partners) == 1 else (profile.names[profile.partner_copy - 1]
                                     if profile.partner_copy else "")
    return ClientFile(f"{stem}.pdf", profile.reader, profile.discreet, partner)


def _items(week: Week, library: Library, why: Mapping[str, str] | None,
           profile: Profile) -> tuple[WeekItem, ...]:
    """Return the modules *week* names (its topics' too), each with why it is left out.

    *why* holds the packet's own routing (a module's flag, or the reason where no flag
    left it out); without it (a week not built yet) each module is checked as the
    routing checks it, against the profile's flags and reader.
    """
    named: list[str] = []
    for name in LIST_OF_KIND.values():
        named += getattr(week, name)
        for topic_id in week.topics:
            topic = library.topics.get(topic_id)
            named += getattr(topic, name) if topic is not None else ()
    items = []
    for module_id in dict.fromkeys(named):
        module = library.modules.get(module_id)
        if module is None:
            continue
        if why is not None:
            reason = why.get(module_id, "")
        elif found := leave_reason(module_id, profile, library):
            reason = found[0]
        else:
            reason = "" if profile.reader in module.audiences else (
                f"not written for this reader ({profile.reader})")
        items.append(WeekItem(module_id, module.kind, module.title, reason))
    return tuple(items)


def program_place(profile: Profile, handout: Handout, library: Library) -> ProgramPlace | None:
    """Return where *profile*'s program week sits (None outside a program).

    The gates carry no confirmation yet: the client's records hold those
    (:meth:`ProgramPlace.with_records`, which the records layer calls when it writes).
    """
    week = program_week(profile, library)
    if week is None:
        return None
    program: Program = library.programs[profile.program]
    language = profile.language
    opens = program.gates()
    following = next((w for w in program.weeks if w.week == week.week + 1), None)
    gate = opens.get(week.week + 1) if following else None
    return ProgramPlace(
        id=program.id, title=program.title.get(language), week=week.week,
        total=len(program.weeks), week_title=week.title.get(language),
        focus=week.focus.get(language) if week.focus else "",
        items=_items(week, library, {c.id: c.flag or c.reason for c in handout.changes
                                     if not c.added}, profile),
        gates=tuple(GateStep(n, g.text.get(language)) for n, g in sorted(opens.items())
                    if n <= week.week),
        next_title=following.title.get(language) if following else "",
        next_items=_items(following, library, None, profile) if following else (),
        next_gate=GateStep(week.week + 1, gate.text.get(language)) if gate else None,
        alone=handout.week is None,  # a safety packet for one reader keeps no program page
    )


def session_guide(packet: Packet, library: Library, workbook: str = "connection") -> Guide:
    """Return the guide of a therapist's packet (one of :func:`plan_edition`'s)."""
    if not packet.client:
        raise ValueError("session_guide needs the therapist's packet (edition: therapist)")
    profile = packet.profile
    handout = packet.handout
    entries = []
    references: list[str] = []
    for module in handout.sections:
        notes, borrowed = _notes(module.id, library, profile)
        cited = [library.sources[k] for k in module.sources if k in library.sources]
        references += [c for c in cited if c not in references]
        entries.append(GuideEntry(module, notes, borrowed,
                                  library.modules[module.id].contraindications,
                                  tuple(_short(c) for c in cited)))
    changes = handout.changes
    return Guide(
        profile=profile,
        title=GUIDE_TITLES.get(profile.language, GUIDE_TITLES["en"]),
        handout=handout,
        entries=tuple(entries),
        flags=tuple(library.flags[f] for f in profile.flags if f in library.flags),
        left_out=tuple(c for c in changes if not c.added),
        added=tuple(c for c in changes if c.added),
        left_out_groups=_grouped([c for c in changes if not c.added]),
        notes=tuple(dropped_for_packets(client_profile(profile), library)),
        files=tuple(_file(p, workbook) for p in packet.client),
        references=tuple(sorted(references)),
        program=program_place(client_profile(profile), handout, library),
    )
