"""Read filled handouts back into each client's history (``handouts harvest``).

Every handout carries ``handouts-form-schema-2 handouts-id-<id>`` in its keywords. When
a handout is written, its worksheets are recorded under that id in the client's folder
(``.issued.jsonl``); a filled copy is matched to that record, its form answers are read
(never run: a PDF's scripts are ignored) and appended to ``history.jsonl`` beside it.
The schema of both files is in docs/history.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handouts.core.files import refuse_links, remove_stale_temps, tighten
from handouts.errors import BuildError, HarvestError
from handouts.records import store as records
from handouts.records.answers import looks_like_answers, read_answers
from handouts.records.filled import MAX_VALUE, read_form
from handouts.records.store import (
    HISTORY,
    ISSUED,
    MANIFEST,
    append_once,
    update_failed,
    update_manifest,
)

HISTORY_SCHEMA = 1

_MARKER = re.compile(r"handouts-form-schema-(\d+)\s+handouts-id-([0-9a-f]{20})")
_FIELD = re.compile(
    r"(?P<module>[a-z0-9]+(?:-[a-z0-9]+)*)\.p(?P<partner>[1-8])\."
    r"(?:day-(?P<day>[1-7])|prompt-(?P<prompt>\d{1,2})|"
    r"extra-(?P<extra>\d{1,2})\.item-(?P<item>\d{1,3})(?:\.choice-(?P<choice>\d{1,2}))?)")
# The weekly check-in of a program week: two 1-5 scales (a tick box per number) and a word.
_CHECKIN = re.compile(r"checkin\.p(?P<partner>[1-8])\."
                      r"(?:(?P<question>close|ease)-(?P<number>[1-5])|(?P<word>word))")
_PREFILLED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\.(?:p[1-8]\.)?(names|week-of)")
SCHEMAS = ("2",)


@dataclass(frozen=True)
class Harvested:
    """What harvesting one file did: ``added``, ``unchanged`` or ``failed`` (with why)."""

    file: Path
    status: str
    client_id: str = ""
    message: str = ""


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Return the records of a JSON Lines file ([] when it does not exist)."""
    return records.read_jsonl(path, HarvestError)


def record_issued(handout, pdf_path: str | Path, key=None) -> None:
    """Remember which worksheets the handout at *pdf_path* holds, under its form id, and
    the digest of the render key (:mod:`handouts.plan.renderkey`) it was drawn from."""
    folder = Path(pdf_path).parent
    profile = handout.profile
    row = {
        "handout": handout.form_id,
        "client_id": profile.client_id,
        "session_date": profile.session_date.isoformat(),
        "language": profile.language,
        "file": Path(pdf_path).name,
        "partners": len(profile.partners),
        "reader": profile.reader,
        # Whose own copy this is (0: one copy everyone shares).
        "copy": profile.partner_copy,
        # What the profile's flags left out, and why: the therapist's record, not the PDF.
        "left_out": [str(c) for c in getattr(handout, "left_out", ())],
        # The program week this handout is (a tracker and the gates read it back).
        **({"program": profile.program, "week": profile.week, "checkin": True}
           if getattr(handout, "week", None) is not None else {}),
        "render_key": key.digest if key is not None else "",
        "rituals": [{"id": w.id, "version": w.version, "title": w.title,
                     "prompts": list(w.prompts),
                     "extras": [{"title": e.title, "items": list(e.items),
                                 "choices": list(e.choices)} for e in w.extras if e.choices]}
                    for w in handout.worksheets],
    }
    try:
        append_once(folder / ISSUED, row, lambda r: r.get("handout") == handout.form_id)
    except OSError as exc:  # a read-only folder, a full disk: one line, in every door
        raise update_failed(folder / ISSUED, exc, f"client {profile.client_id}",
                            BuildError) from None


GUIDE_KEYWORD = "handouts-therapist-guide"  # the therapist's guide, never issued


def _marker(keywords: str, path: Path) -> str:
    if GUIDE_KEYWORD in keywords.split():
        raise HarvestError("is a therapist's guide (edition: therapist), not a client's "
                           "handout: it holds no answers and is never harvested", file=path)
    found = _MARKER.search(keywords)
    if not found:
        raise HarvestError("is not a handout made by this tool (no handouts id in its "
                           "keywords)", file=path)
    if found[1] not in SCHEMAS:
        raise HarvestError(f"uses form schema {found[1]}, which this version cannot read",
                           file=path, choices=SCHEMAS)
    return found[2]


def _answers(fields: dict[str, Any], issue: dict[str, Any], path: Path) -> list[dict]:
    """Return the filled answers, per worksheet and partner, checking names and types."""
    import pikepdf  # lazy: only encrypting or reading a filled PDF needs pikepdf

    rituals = {r["id"]: r for r in issue["rituals"]}
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for name, value in fields.items():
        if value is None or _PREFILLED.fullmatch(name):
            continue
        checkin = _CHECKIN.fullmatch(name)
        if checkin and issue.get("checkin"):
            _checkin_answer(out, checkin, value, issue, path, name)
            continue
        match = _FIELD.fullmatch(name)
        if not match or match["module"] not in rituals:
            raise HarvestError("has a form field this handout never had", file=path,
                               field=name[:80])
        partner = int(match["partner"])
        if partner > issue["partners"]:
            raise HarvestError(f"has a field for partner {partner}, but the handout was "
                               f"made for {issue['partners']}", file=path, field=name)
        entry = out.setdefault((match["module"], partner), {
            "module": match["module"], "partner": partner, "days": [], "prompts": {},
            "choices": []})
        if match["day"] or match["choice"]:
            if not isinstance(value, pikepdf.Name):
                raise HarvestError("a tick box holds something other than a tick",
                                   file=path, field=name)
            if str(value) in ("/Off", "/"):
                continue
            if match["day"]:
                entry["days"].append(int(match["day"]))
            else:
                entry["choices"].append({"extra": int(match["extra"]),
                                         "item": int(match["item"]),
                                         "choice": int(match["choice"])})
            continue
        if not isinstance(value, pikepdf.String):
            raise HarvestError("an answer space holds something other than text",
                               file=path, field=name)
        text = str(value)
        if len(text) > MAX_VALUE:
            raise HarvestError(f"an answer is {len(text)} characters long (at most "
                               f"{MAX_VALUE})", file=path, field=name)
        if match["item"]:  # a writing item of an extra list
            if text.strip():
                entry.setdefault("writing", {})[f'{match["extra"]}.{match["item"]}'] = text.strip()
            continue
        number = int(match["prompt"])
        rit = rituals[match["module"]]
        if number > len(rit["prompts"]):
            raise HarvestError("has a form field this handout never had", file=path,
                               field=name)
        if text.strip():
            entry["prompts"][str(number)] = text.strip()
    _settle_checkins(out)
    answers = [e for e in out.values()
               if e["days"] or e["prompts"] or e["choices"] or e.get("writing")
               or e.get("checkin")]
    for entry in answers:
        entry["days"].sort()
        entry["choices"].sort(key=lambda c: (c["extra"], c["item"], c["choice"]))
    return sorted(answers, key=lambda e: (e["module"], e["partner"]))


def _checkin_answer(out: dict, match: re.Match, value: Any, issue: dict, path: Path,
                    name: str) -> None:
    """Add one check-in answer (a scale's 1-5, or the one word) to *out*, checked."""
    import pikepdf  # lazy: only encrypting or reading a filled PDF needs pikepdf

    partner = int(match["partner"])
    if partner > issue["partners"]:
        raise HarvestError(f"has a field for partner {partner}, but the handout was made "
                           f"for {issue['partners']}", file=path, field=name)
    entry = out.setdefault(("checkin", partner), {
        "module": "checkin", "partner": partner, "days": [], "prompts": {},
        "choices": [], "checkin": {}})
    if match["word"]:
        if not isinstance(value, pikepdf.String):
            raise HarvestError("an answer space holds something other than text",
                               file=path, field=name)
        word = " ".join(str(value).split())[:40]
        if word:
            entry["checkin"]["word"] = word
        return
    if not isinstance(value, pikepdf.Name):
        raise HarvestError("a tick box holds something other than a tick", file=path,
                           field=name)
    if str(value) not in ("/Off", "/"):
        entry.setdefault("ticked", {}).setdefault(match["question"], []).append(
            int(match["number"]))


def _settle_checkins(out: dict) -> None:
    """Keep a scale's answer only when exactly one of its boxes is ticked."""
    for entry in out.values():
        for question, ticked in sorted(entry.pop("ticked", {}).items()):
            if len(ticked) == 1:
                entry["checkin"][question] = ticked[0]


def _find_issue(output_dir: Path, handout_id: str, path: Path) -> tuple[Path, dict]:
    for issued in sorted(output_dir.glob(f"*/{ISSUED}")):
        for record in read_jsonl(issued):
            if record.get("handout") == handout_id:
                return issued.parent, record
    raise HarvestError(f"was not made into {output_dir} (no client there issued handout "
                       f"{handout_id}); give the output folder it was built into with -o",
                       file=path)


def harvest_file(path: str | Path, output_dir: str | Path = "output",
                 password: str | None = None, data: bytes | None = None) -> Harvested:
    """Read one filled handout (a PDF, or the answers saved from a screen edition) into
    its client's history; raise HarvestError if unusable.

    With *data* (a file picked in a browser), those bytes are read and *path* is only
    the name shown in messages: the upload never touches the disk.
    """
    path = Path(path)
    output_dir = Path(output_dir).expanduser().resolve()
    # A screen edition's saved answers are read like a filled PDF's form.
    form = (read_answers(path, data) if looks_like_answers(path, data)
            else read_form(path, password, data))
    handout_id = _marker(form.keywords, path)
    folder, issue = _find_issue(output_dir, handout_id, path)
    answers = _answers(form.fields, issue, path)
    refuse_links(output_dir, folder, HarvestError, f"client {issue['client_id']}")
    tighten(folder)
    digest = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()
    client = issue["client_id"]
    row = {
        "schema": HISTORY_SCHEMA, "handout": handout_id,
        "session_date": issue["session_date"], "language": issue["language"],
        "harvested_on": dt.date.today().isoformat(), "answers_sha256": digest,
        "answers": answers,
    }
    history = folder / HISTORY
    try:  # under the history's lock: a copy harvested at the same moment is seen here
        added = append_once(history, row, lambda r: r.get("handout") == handout_id
                            and r.get("answers_sha256") == digest, HarvestError)
    except OSError as exc:
        raise update_failed(history, exc, f"client {client}", HarvestError) from None
    if not added:
        return Harvested(path, "unchanged", client, "already in the history")
    partners = sorted({a["partner"] for a in answers})
    who = ", ".join(f"partner {k}" for k in partners) or "no answers filled in"
    return Harvested(path, "added", client, who)


def harvest(paths, output_dir: str | Path = "output",
            password: str | None = None) -> list[Harvested]:
    """Harvest every file; one that cannot be read fails alone, with its reason."""
    results = []
    for path in paths:
        try:
            results.append(harvest_file(path, output_dir, password))
        except HarvestError as exc:
            results.append(Harvested(Path(path), "failed", message=str(exc)))
    return results


def client_folder(output_dir: str | Path, client_id: str) -> Path:
    """Return ``<output>/<client_id>``, refusing anything that is not a plain slug or is
    a symbolic link."""
    if not re.fullmatch(r"[a-z0-9]+(?:[-_][a-z0-9]+)*", client_id or ""):
        raise HarvestError(f"{client_id!r} is not a client id", field="client_id")
    root = Path(output_dir).expanduser().resolve()
    return refuse_links(root, root / client_id, HarvestError, f"client {client_id}")


def load_history(output_dir: str | Path, client_id: str) -> tuple[list[dict], list[dict]]:
    """Return a client's issued handouts and harvested answers (oldest first)."""
    folder = client_folder(output_dir, client_id)
    if not folder.is_dir():
        raise HarvestError("no such client in the output folder", file=folder,
                           field="client_id")
    issued = sorted(read_jsonl(folder / ISSUED), key=lambda r: r["session_date"])
    history = sorted(read_jsonl(folder / HISTORY), key=lambda r: r["session_date"])
    return issued, history


def forget(output_dir: str | Path, client_id: str) -> list[str]:
    """Remove every trace of a client: its folder (handouts, record notebooks, issued
    record, history), its manifest entries and killed runs' temp files that may name it.

    Return one line per record saying what was removed.
    """
    folder = client_folder(output_dir, client_id)
    if not folder.is_dir():
        raise HarvestError("no such client in the output folder", file=folder,
                           field="client_id")
    root = folder.parent
    files = [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()]
    issued, history = len(read_jsonl(folder / ISSUED)), len(read_jsonl(folder / HISTORY))
    pdfs = sum(p.suffix in (".pdf", ".html", ".epub") for p in files)
    notebooks = sum(p.suffix == ".ipynb" for p in files)

    def names_client(key: str, entry: object) -> bool:
        pdf = entry.get("pdf", "") if isinstance(entry, dict) else ""
        return (key == client_id or key.startswith(f"{client_id}/")
                or str(pdf).startswith(f"{client_id}/"))

    def drop(clients: dict) -> list[str]:
        gone = sorted(k for k, v in clients.items() if names_client(k, v))
        for key in gone:
            del clients[key]
        return gone

    try:
        shutil.rmtree(folder)
        gone = update_manifest(root, drop)
        temps = len(list(root.glob(".tmp-*")))
        remove_stale_temps(root)  # a killed batch's manifest copy names every client
        temps -= len(list(root.glob(".tmp-*")))
    except OSError as exc:
        raise HarvestError(f"could not remove everything: {exc.strerror}; make it "
                           "writable and run forget again", file=exc.filename or folder,
                           field=f"client {client_id}") from None
    lines = [f"{folder}: removed the folder: {pdfs} handout(s), {notebooks} record "
             f"notebook(s), {len(files) - pdfs - notebooks} other file(s)",
             f"{folder / ISSUED}: removed {issued} issued handout record(s)",
             f"{folder / HISTORY}: removed {history} harvested row(s)",
             f"{root / MANIFEST}: removed {len(gone)} entr{'y' if len(gone) == 1 else 'ies'}"
             + (f" ({', '.join(gone)})" if gone else "")]
    if temps:
        lines.append(f"{root}: removed {temps} temp file(s) left by killed runs")
    return lines
