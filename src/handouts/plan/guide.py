"""The therapist's guide to a packet (``edition: therapist``): what the templates print.

For each module the client packet holds: its facilitation notes (how to introduce it,
common obstacles, what to watch for, when not to use it), the flags under which the
routing leaves it out, and its sources; then this client's flags, the pages the flags
left out or brought in (with the routing's reasons) and what the individual packets
leave out. The guide is planned from the client packets themselves
(:func:`handouts.plan.assemble.plan_edition`), so it covers exactly the pages the client
gets. Nothing here is ever printed in a client's PDF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handouts.content.flags import Flag
from handouts.content.library import Library, load_library
from handouts.content.module import Facilitation, Module
from handouts.core.files import packet_name
from handouts.plan.assemble import Handout, Packet, client_profile
from handouts.plan.profile import Profile
from handouts.plan.routing import Change, dropped_for_packets

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
    )
