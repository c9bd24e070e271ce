"""A client's way through a program: gates the therapist confirmed, and the weeks so far.

Confirmations are appended to the client's ``program.jsonl`` (under its lock, written
atomically, like every record in :mod:`handouts.records.store`); one row per gate::

    {"program": "sensate-focus", "opens_week": 2, "confirmed_on": "2026-03-10",
     "gate": "the couple has agreed ..."}

The tracker ("your weeks so far") counts, for each earlier week of the program, the days
each partner ticked per practice and whose check-in came back; it shows no score.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from handouts.content.library import load_library
from handouts.content.programs import Program
from handouts.core.files import private_dir, refuse_links
from handouts.errors import BuildError, HarvestError
from handouts.records.harvest import client_folder
from handouts.records.store import HISTORY, ISSUED, append_once, read_jsonl, update_failed

PROGRAM = "program.jsonl"
CHECKIN = "checkin"  # the module id of the weekly check-in's form fields


@dataclass(frozen=True)
class TrackedWeek:
    """One earlier week: its number and title, days per practice per partner, check-ins."""

    week: int
    title: str
    practices: tuple[tuple[str, tuple[int, ...]], ...]  # (practice title, days per partner)
    checkins: tuple[int, ...]  # the partners (1-based) whose check-in came back


def confirmations(folder: Path, program_id: str) -> dict[int, str]:
    """Return week -> the date the therapist confirmed the gate that opens it."""
    return {int(r["opens_week"]): str(r.get("confirmed_on", ""))
            for r in read_jsonl(folder / PROGRAM, BuildError)
            if r.get("program") == program_id and isinstance(r.get("opens_week"), int)}


def confirmed(folder: Path, program_id: str) -> set[int]:
    """Return the weeks of *program_id* whose gate the therapist has confirmed."""
    return set(confirmations(folder, program_id))


def advance_command(client_id: str, output_dir: Path | str, program_id: str,
                    week: int) -> str:
    """Return the command that confirms the gate opening *week* of a client's program.

    It names the program and the week: it works before any week of the program was
    built, and confirms exactly the gate the line that shows it describes.
    """
    return (f"handouts program advance {client_id} -o {output_dir} --program {program_id} "
            f"--week {week}")


def check_gate(handout, folder: Path, output_dir: Path | str | None = None) -> None:
    """Raise BuildError (one line) if the handout's program week waits for a gate."""
    program, week = handout.program, handout.week
    if program is None or week is None:
        return
    done = confirmed(folder, program.id)
    pending = [(n, g) for n, g in sorted(program.gates().items())
               if n <= week.week and n not in done]
    if not pending:
        return
    number, gate = pending[0]  # a later week waits for every gate before it, too
    client = handout.profile.client_id
    command = advance_command(client, output_dir or folder.parent, program.id, number)
    raise BuildError(
        f"week {number} of {program.id} waits for the therapist to confirm that "
        f"{gate.text.en}; confirm it with `{command}`", file=f"client {client}",
        field="week")


def _issued_weeks(folder: Path, program_id: str) -> dict[str, int]:
    """Return handout id -> week for the client's handouts of *program_id*."""
    return {r["handout"]: r["week"] for r in read_jsonl(folder / ISSUED, BuildError)
            if r.get("program") == program_id and isinstance(r.get("week"), int)}


def weeks_so_far(folder: Path, program: Program, before: int, language: str
                 ) -> list[TrackedWeek]:
    """Return the tracker rows of the weeks before week *before* that were built."""
    issued = [r for r in read_jsonl(folder / ISSUED, BuildError)
              if r.get("program") == program.id and isinstance(r.get("week"), int)
              and r["week"] < before]
    weeks = {r["handout"]: r["week"] for r in issued}
    partners = max((r.get("partners", 1) for r in issued), default=1)
    titles = {(r["week"], w["id"]): w["title"] for r in issued for w in r.get("rituals", ())
              if r.get("language") == language}
    titles.update({(r["week"], w["id"]): w["title"] for r in issued
                   for w in r.get("rituals", ()) if (r["week"], w["id"]) not in titles})
    days: dict[tuple[int, str, int], set[int]] = {}
    checkins: dict[int, set[int]] = {}
    for record in read_jsonl(folder / HISTORY, BuildError):
        week = weeks.get(record.get("handout"))
        if week is None:
            continue
        for answer in record.get("answers", ()):
            if answer.get("module") == CHECKIN:
                checkins.setdefault(week, set()).add(answer["partner"])
            else:
                key = (week, answer["module"], answer["partner"])
                days.setdefault(key, set()).update(answer.get("days", ()))
    rows = []
    for number in sorted(set(weeks.values())):
        practices = tuple(
            (title, tuple(len(days.get((number, ritual, k), ())) for k in
                          range(1, partners + 1)))
            for (week, ritual), title in sorted(titles.items()) if week == number)
        rows.append(TrackedWeek(number, program.get_week(number).title.get(language),
                                practices, tuple(sorted(checkins.get(number, ())))))
    return rows


def _latest_program(folder: Path) -> tuple[str, int] | None:
    issued = [r for r in read_jsonl(folder / ISSUED, HarvestError) if r.get("program")]
    if not issued:
        return None
    latest = max(issued, key=lambda r: (r["session_date"], r.get("week", 0)))
    return latest["program"], int(latest.get("week", 0))


def advance(output_dir: str | Path, client_id: str, program_id: str | None = None,
            week: int | None = None, practice_library: str | None = None) -> str:
    """Record that the therapist confirmed a gate; return one line saying which.

    Without *week*, the gate confirmed is the one that opens the week after the latest
    built week of the client's program; confirming twice changes nothing.
    """
    folder = client_folder(output_dir, client_id)
    latest = _latest_program(folder) if folder.is_dir() else None
    program_id = program_id or (latest[0] if latest else None)
    library = load_library(practice_library or None, "en")
    if not program_id:
        raise HarvestError("no program week was built for this client yet; give the "
                           "program with --program", field="--program",
                           choices=library.programs)
    program = library.programs.get(program_id)
    if program is None:
        raise HarvestError(f"unknown program {program_id!r}", field="--program",
                           choices=library.programs)
    gates = program.gates()
    if week is None:
        built = latest[1] if latest and latest[0] == program_id else 0
        done = confirmed(folder, program_id) if folder.is_dir() else set()
        waiting = [n for n in sorted(gates) if n <= built + 1 and n not in done]
        week = waiting[0] if waiting else built + 1
        if week not in gates:
            raise HarvestError(f"week {week} of {program_id} has no gate to confirm",
                               field="--week", choices=[str(w) for w in sorted(gates)])
    elif week not in gates:
        raise HarvestError(f"week {week} of {program_id} has no gate", field="--week",
                           choices=[str(w) for w in sorted(gates)])
    row = {"program": program_id, "opens_week": week, "gate": gates[week].text.en,
           "confirmed_on": dt.date.today().isoformat()}
    record = folder / PROGRAM
    try:
        private_dir(folder)
        refuse_links(Path(output_dir).expanduser().resolve(), folder, HarvestError,
                     f"client {client_id}")
        added = append_once(record, row, lambda r: r.get("program") == program_id
                            and r.get("opens_week") == week, HarvestError)
    except OSError as exc:  # a read-only folder, a full disk: one line
        raise update_failed(record, exc, f"client {client_id}", HarvestError) from None
    state = "confirmed" if added else "already confirmed"
    return f"{state}: week {week} of {program_id} for {client_id} ({gates[week].text.en})"


def _dots(value: object) -> str:
    """Return a 1-5 answer as a small text chart (●●●○○ 3), or '–' when not given."""
    if not isinstance(value, int) or not 1 <= value <= 5:
        return "–"
    return "●" * value + "○" * (5 - value) + f" {value}"


def checkin_rows(issued: list[dict], history: list[dict]) -> list[tuple[str, ...]]:
    """Return (week, partner, close, ease, word) per harvested check-in, oldest first."""
    weeks = {r["handout"]: (r["session_date"], r.get("program", ""), r.get("week", 0))
             for r in issued}
    found: dict[tuple, dict] = {}
    for record in history:
        when = weeks.get(record.get("handout"), (record.get("session_date", "?"), "", 0))
        for answer in record.get("answers", ()):
            if answer.get("module") == CHECKIN and isinstance(answer.get("checkin"), dict):
                found.setdefault((when, answer["partner"]), {}).update(answer["checkin"])
    rows = []
    for ((date, program, week), partner), got in sorted(found.items()):
        label = f"{program} week {week} ({date})" if program else date
        rows.append((label, str(partner), _dots(got.get("close")), _dots(got.get("ease")),
                     str(got.get("word", "")) or "–"))
    return rows


def confirm_week(output_dir: str | Path, profile) -> str:
    """Confirm the gate that opens *profile*'s program week (the Lab's and the form's
    ``confirm_gate``); return one line saying what was recorded."""
    library = load_library(profile.practice_library or None, "en")
    program = library.programs.get(profile.program)
    if program is None or profile.week not in program.gates():
        return f"week {profile.week} of {profile.program} has no gate to confirm"
    return advance(output_dir, profile.client_id, profile.program, profile.week,
                   profile.practice_library or None)
