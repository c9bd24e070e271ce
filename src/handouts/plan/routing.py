"""Route a packet by the concerns a profile records: what leaves, what comes in, who reads.

The rules are the library's flags (:mod:`handouts.content.flags`). :func:`packets` turns one
profile into the packets to build (one per partner where a flag asks for individual
packets); :func:`route` decides, for one packet, which modules stay, which leave and why,
and which come in. Both are pure: every door (CLI, batch, workbooks, app) calls them and
so reports the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from handouts.content.library import Library
from handouts.content.module import LIST_OF_KIND
from handouts.plan.profile import Profile

LISTS = {name: kind for kind, name in LIST_OF_KIND.items()}


@dataclass(frozen=True)
class Change:
    """A module a flag left out or brought in, and why (for the therapist, never the PDF)."""

    id: str
    reason: str
    flag: str
    added: bool = False

    def __str__(self) -> str:
        return f"{'added' if self.added else 'left out'}: {self.id} — {self.reason}"


def _flags(profile: Profile, library: Library) -> list:
    return [library.flags[f] for f in profile.flags if f in library.flags]


def individual_packets(profile: Profile, library: Library) -> bool:
    """Return whether a flag gives each partner a packet of their own."""
    return any(f.packet == "individual" for f in _flags(profile, library))


def discreet(profile: Profile, library: Library) -> bool:
    """Return whether this packet is discreet: asked for, or by a flag's default."""
    return profile.discreet or any(f.discreet for f in _flags(profile, library))


def packets(profile: Profile, library: Library) -> list[Profile]:
    """Return the profiles to build for *profile*: itself, or one per partner.

    With ``copies: per-partner`` each partner gets a copy of the shared packet that is
    theirs (``partner_copy``): the same pages, their name, their own private pages.
    Under a flag with individual packets, each partner's packet names only that partner,
    is written for one reader, and leaves out what may name or address the other (the
    note, own sections, the quote, the "since last time" page). The therapist's edition
    is one guide (:func:`handouts.plan.assemble.plan_edition` plans what it covers).
    """
    base = profile
    if discreet(profile, library) and not profile.discreet:
        base = base.model_copy(update={"discreet": True})
    if profile.edition == "therapist":  # one guide, whatever the client packets are
        return [base.model_copy(update={"partner_copy": 0})]
    if not individual_packets(profile, library):
        if profile.copies == "shared" or profile.partner_copy or len(profile.partners) == 1:
            return [base]
        # each partner's own copy of the shared packet: same reader, same pages
        return [base.model_copy(update={"partner_copy": number})
                for number in range(1, len(profile.partners) + 1)]
    alone = {"audience": "individual", "note": "", "own_sections": (), "quote": "",
             "since_last_time": False, "participants": {}, "calendar_details": False}
    if profile.partner_copy or len(profile.partners) == 1:
        return [base.model_copy(update=alone)]
    return [base.model_copy(update={**alone, "partners": (partner,), "partner_copy": number})
            for number, partner in enumerate(profile.partners, start=1)]


def dropped_for_packets(profile: Profile, library: Library) -> list[str]:
    """Return what the individual packets leave out of *profile*, one line each."""
    if not individual_packets(profile, library):
        return []
    lines = ["note: each partner gets the same safety packet, so no one is singled out; see "
             "each partner alone and assess danger (the packet does not replace that), and "
             "never hand out the .ipynb record beside a PDF"]
    if profile.note_text.strip():
        lines.append("left out: the note — each partner's packet is for one reader; the "
                     "note may name or address the other")
    if profile.own_sections:
        lines.append("left out: your own sections — each partner's packet is for one "
                     "reader")
    if profile.program:
        lines.append("left out: the program week (its tracker, check-in and gate) — each "
                     "partner's packet is a safety packet for one reader")
    if profile.since_last_time or profile.quote:
        lines.append("left out: the 'since last time' page — it shows both partners' "
                     "practice")
    return lines


def leave_reason(module_id: str, profile: Profile, library: Library) -> tuple[str, str] | None:
    """Return (flag, reason) for the first of the profile's flags that rules *module_id* out."""
    module = library.modules[module_id]
    for flag in _flags(profile, library):
        reason = flag.reason_out(module_id, module.tags, module.contraindications)
        if reason:
            return flag.id, reason
    return None


def program_week(profile: Profile, library: Library):
    """Return the program week *profile* follows (None without a program or if unknown)."""
    program = library.programs.get(profile.program) if profile.program else None
    if program is None:
        return None
    return next((w for w in program.weeks if w.week == profile.week), None)


def _recommending(profile: Profile, library: Library) -> list:
    """Return what recommends modules: the program's week, its topics, then the profile's."""
    week = program_week(profile, library)
    topic_ids = [*(week.topics if week else ()), *profile.topics]
    topics = [library.topics[t] for t in dict.fromkeys(topic_ids) if t in library.topics]
    return [week, *topics] if week else topics  # unknown topics: check_choices names them


def route(profile: Profile, library: Library) -> tuple[Profile, tuple[Change, ...]]:
    """Expand the profile's program week and topics, apply its flags; return it and what
    changed.

    Modules a topic brought in that a flag rules out, or that are not written for this
    reader, are left out and reported. Modules a flag brings in come first in their list.
    Modules the therapist listed by hand are kept as listed (checking them is
    :func:`handouts.plan.assemble.check_choices`' job).
    """
    changes: list[Change] = []
    lists: dict[str, list[str]] = {name: [] for name in LISTS}
    for topic in _recommending(profile, library):
        for name in LISTS:
            for module_id in getattr(topic, name):
                if module_id in lists[name] or module_id in getattr(profile, name):
                    continue
                why = leave_reason(module_id, profile, library)
                if why is None and profile.reader not in library.modules[module_id].audiences:
                    why = ("", f"not written for this reader ({profile.reader})")
                if why is not None:
                    if module_id not in {c.id for c in changes}:
                        changes.append(Change(module_id, why[1], why[0]))
                    continue
                lists[name].append(module_id)
    for flag in _flags(profile, library):
        for addition in flag.add:
            module = library.modules.get(addition.module)
            if module is None or profile.reader not in module.audiences:
                continue
            name = LIST_OF_KIND[module.kind]
            if addition.module in lists[name] or addition.module in getattr(profile, name):
                continue
            why = leave_reason(addition.module, profile, library)
            if why is not None:  # another flag rules it out: that flag wins
                if addition.module not in {c.id for c in changes}:
                    changes.append(Change(addition.module, why[1], why[0]))
                continue
            lists[name].insert(0, addition.module)
            changes.append(Change(addition.module, " ".join(addition.reason.split()),
                                  flag.id, added=True))
    update = {name: tuple(dict.fromkeys([*lists[name], *getattr(profile, name)]))
              for name in LISTS}
    return profile.model_copy(update={**update, "topics": ()}), tuple(changes)


def flag_table(library: Library) -> str:
    """Return the docs page of every flag × module: out (with the rule), in, or added."""
    flags = list(library.flags.values())
    lines = ["# Concerns route the packet: flag × module", "",
             "Generated from `src/handouts/library/flags.yaml` and the library "
             "(`handouts flags` prints it; a test keeps this page in step).", "",
             "- **out**: the module leaves under this flag (the reason is below the table).",
             "- **added**: the flag brings the module in.",
             "- **·**: the module may be handed out under this flag.", ""]
    for flag in flags:
        shape = "one packet per partner, for one reader alone" if flag.packet == "individual" \
            else "one shared packet"
        lines.append(f"- `{flag.id}`: {' '.join(flag.summary.split())} ({shape}"
                     f"{'; discreet by default' if flag.discreet else ''}).")
    lines += ["", "| module | " + " | ".join(f"`{f.id}`" for f in flags) + " |",
              "|---|" + "---|" * len(flags)]
    added = {(f.id, a.module) for f in flags for a in f.add}
    for kind in LIST_OF_KIND:
        for module in library.of_kind(kind):
            cells = ["added" if (f.id, module.id) in added else
                     "out" if f.id in module.contraindications else "·" for f in flags]
            lines.append(f"| `{module.id}` ({kind}) | " + " | ".join(cells) + " |")
    lines += ["", "## Why, and on what source", ""]
    for flag in flags:
        lines.append(f"### `{flag.id}`")
        lines.append("")
        rules = [("Only", flag.only)] if flag.only else []
        rules += [("Leave", rule) for rule in flag.leave]
        for label, rule in rules:
            named = [*(f"`{m}`" for m in rule.modules), *(f"tag `{t}`" for t in rule.tags)]
            lines.append(f"- {label} {', '.join(named)}: {' '.join(rule.reason.split())} "
                         f"({library.sources[rule.source]})")
        for addition in flag.add:
            lines.append(f"- Add `{addition.module}`: {' '.join(addition.reason.split())} "
                         f"({library.sources[addition.source]})")
        lines.append("")
    return "\n".join(lines)
