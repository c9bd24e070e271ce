"""Client profiles and practice settings: the one schema every door validates against."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    model_validator,
)

from handouts.content.crisis import CrisisLine, default_lines

ClientId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+([-_][a-z0-9]+)*$", max_length=64)
]
Colour = Annotated[
    str,
    StringConstraints(pattern=r"^#?[0-9a-fA-F]{6}$"),
    AfterValidator(lambda v: "#" + v.lstrip("#").lower()),
]
_DEEP_QUOTE = re.compile(r"^\s*(?:>\s*){11,}")


def _shallow(text: str) -> str:
    """Refuse Markdown quoted more than 10 levels deep: it would print as nothing useful."""
    for number, line in enumerate(text.splitlines(), start=1):
        if _DEEP_QUOTE.match(line):
            raise ValueError(f"line {number} is quoted more than 10 levels deep")
    return text


ClientMarkdown = Annotated[str, StringConstraints(max_length=20_000), AfterValidator(_shallow)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Pronouns = Annotated[str, StringConstraints(max_length=40)]


class Partner(BaseModel):
    """A partner as named on the cover: a display name or initials, optional pronouns."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Name
    pronouns: Pronouns | dict[Literal["en", "es"], Pronouns] = ""  # or one per language

    def pronouns_in(self, language: str) -> str:
        """Return the pronouns to print on a cover in *language* (a plain string on all)."""
        if isinstance(self.pronouns, str):
            return self.pronouns
        return self.pronouns.get(language, "")


class OwnSection(BaseModel):
    """A section the therapist writes: Markdown shown as text, placed after a module."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    text: ClientMarkdown
    after: Annotated[str, StringConstraints(max_length=64)] = "end"


Audience = Literal["auto", "couple", "individual", "group"]


def _described(description: str, **kwargs: Any) -> Any:
    return Field(description=description, **kwargs)


class Profile(BaseModel):
    """The validated parameters of one handout.

    Each field's description is its help text: the workbooks' parameters cells, the
    docs' parameter page and the CLI help are generated from it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: ClientId = _described(
        "Pseudonymous slug used for paths; never a client's name.")
    partners: tuple[Partner, ...] = _described(
        "Display names or initials, pronouns optional; one name for an individual client.",
        min_length=1, max_length=8)
    therapist: Annotated[str, StringConstraints(max_length=120)] = _described(
        "Your name and credentials.", default="")
    session_date: dt.date = _described("Session date (YYYY-MM-DD); names the output file.")
    modules: tuple[str, ...] = _described("Article ids, in reading order.",
                                    default_factory=tuple)
    rituals: tuple[str, ...] = _described("Worksheet (ritual) ids, in order.",
                                    default_factory=tuple)
    scripts: tuple[str, ...] = _described("Conversation script ids, in order.",
                                    default_factory=tuple)
    topics: tuple[str, ...] = _described(
        "Topic ids; each adds its recommended modules, rituals and scripts, in order, "
        "before those you list (`handouts library` shows the topics).", default_factory=tuple)
    flags: tuple[str, ...] = _described(
        "Concerns you have noted (e.g. coercion-concern); a module that must not be used "
        "with one of them stops the build.", default_factory=tuple)
    discreet: bool = _described(
        "Neutral cover, running header, file name and PDF metadata, and the practice's "
        "discreet_name (or none) instead of its name; on by default under violence-or-fear "
        "and coercion-concern.", default=False)
    partner_copy: int = _described(
        "Which partner's own packet this is (1, 2, ...), set by the build when a flag or "
        "copies gives each partner a packet of their own; 0 for a packet everyone shares.",
        default=0, ge=0, le=8)
    copies: Literal["shared", "per-partner"] = _described(
        "shared: one packet for everyone; per-partner: one PDF per partner, with their "
        "name on the cover and each worksheet and the private pages only in their own "
        "copy.", default="shared")
    participants: dict[str, tuple[Name, ...]] = _described(
        "For a group: who takes part in a practice, by ritual id (e.g. six-second-kiss: "
        "[Ana, Bo]); its page addresses only them.", default_factory=dict)
    note: ClientMarkdown | dict[Literal["en", "es"], ClientMarkdown] = _described(
        "Personal note in Markdown; shown as text, never as HTML. One per language with "
        "{en: ..., es: ...}: each edition prints its own.", default="")
    own_sections: tuple[OwnSection, ...] = _described(
        "Your own sections: title, text (Markdown) and after (a chosen id, start or end).",
        default_factory=tuple, max_length=20)
    audience: Audience = _described(
        "Who reads it: couple, individual (partner not reading), group (more than two "
        "partners), or auto (from the number of partners).", default="auto")
    language: Literal["en", "es"] = _described("Handout language: en or es.", default="en")
    languages: tuple[Literal["en", "es"], ...] = _described(
        "Several editions in one go, e.g. [es, en]: one PDF per language, each file name "
        "ending in its language; empty for just `language`.", default_factory=tuple)
    edition: Literal["client", "therapist"] = _described(
        "client: the handout; therapist: a session guide for the same packet (how to "
        "introduce each module, obstacles, what to watch for, when not to use it, this "
        "client's flags and the pages left out). The guide is never for the client: its "
        "own file name, no form fields, one copy, not recorded as issued.",
        default="client")
    paper: Literal["letter", "a4"] = _described("Paper size: letter or a4.",
                                                default="letter")
    format: Literal["pdf", "html", "epub"] = _described(
        "pdf: a printable PDF; html: one self-contained web page for phones and screen "
        "readers, filled in and saved in the browser; epub: an EPUB 3 e-book.",
        default="pdf")
    large_print: bool = _described("Body text at 16 pt for easier reading.", default=False)
    fillable: bool = _described("Add form fields so the PDF can be filled in on a tablet.",
                                default=False)
    ink_saver: bool = _described("Drop large colour fills when printing.", default=False)
    cards: bool = _described("Add a page of cut-out cards for rituals and openers.",
                             default=False)
    since_last_time: bool = _described(
        "Add a short 'Since last time' page: practice days per ritual from the client's "
        "harvested workbooks (handouts harvest).", default=False)
    quote: Annotated[str, StringConstraints(max_length=300)] = _described(
        "One line you choose to quote on the 'Since last time' page; nothing a partner "
        "wrote is quoted unless you put it here.", default="")
    program: Annotated[str, StringConstraints(max_length=64)] = _described(
        "A program to follow (`handouts program list`); with week, builds that week's "
        "packet: its modules come in as a topic's do, with a 'your weeks so far' tracker "
        "and a weekly check-in.", default="")
    week: int = _described("The program week to build (1, 2, ...); a gate the therapist "
                           "has not confirmed stops the build (handouts program advance).",
                           default=0, ge=0, le=26)
    calendar: bool = _described(
        "Also write an .ics calendar file beside the PDF: one event per practice day of "
        "the week from session_date, with neutral text.", default=False)
    calendar_time: Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
                             ] = _described("Time of day of the calendar's practice "
                                            "events (HH:MM).", default="19:00")
    calendar_details: bool = _described(
        "Name the practices in the calendar events (a practice's choice: events are "
        "neutral, 'Practice time', by default).", default=False)
    password: SecretStr = _described(
        "Password to open the PDF (AES-256). Never recorded: give it with "
        "--password-env or --ask-password, or in a profile file.",
        default=SecretStr(""))
    practice_name: Annotated[str, StringConstraints(max_length=120)] = _described(
        "Practice name for the cover and page header.", default="Your therapy practice")
    practice_contact: Annotated[str, StringConstraints(max_length=200)] = _described(
        "Contact line for the cover and back page.", default="")
    practice_logo: str = _described("Path to an SVG, PNG or JPEG logo; empty for the "
                                    "default mark.", default="")
    accent_color: Colour = _described("Accent colour as a hex code (rrggbb, # optional).",
                                      default="#2f6f6a")
    crisis_lines: dict[Literal["en", "es"], tuple[CrisisLine, ...]] = _described(
        "Crisis and support lines for the safety note, per language; US lines by default.",
        default_factory=dict)
    practice_library: str = _described(
        "Folder of your practice's own modules (adds or overrides by id).", default="")
    discreet_name: Annotated[str, StringConstraints(max_length=120)] = _described(
        "A neutral name printed instead of the practice name in discreet packets; empty "
        "leaves the name off.", default="")
    immigration_note: bool = _described(
        "Add one line to the safety and how-to-use pages: this practice does not ask about "
        "immigration status (set it only if that is true of your practice).", default=False)

    @model_validator(mode="after")
    def _one_reader_per_copy(self) -> Profile:
        if self.partner_copy and len(self.partners) != 1 and self.copies != "per-partner":
            raise ValueError("a partner's own packet (partner_copy) names exactly one partner")
        if self.partner_copy > len(self.partners) > 1:
            raise ValueError(f"partner_copy must be a partner's number (1 to "
                             f"{len(self.partners)})")
        if bool(self.program) != bool(self.week):
            raise ValueError("program and week go together: give both (program: an id "
                             "from handouts program list, week: 1, 2, ...) or neither")
        names = {p.name for p in self.partners}
        for ritual, who in self.participants.items():
            unknown = [n for n in who if n not in names]
            if unknown or not who:
                raise ValueError(f"participants of {ritual!r} must be partners named in "
                                 f"partners ({', '.join(sorted(names))})")
        return self

    @property
    def names(self) -> list[str]:
        """Return the partners' display names."""
        return [p.name for p in self.partners]

    @property
    def reader(self) -> str:
        """Return who reads the handout: couple, individual or group."""
        if self.audience != "auto":
            return self.audience
        return {1: "individual", 2: "couple"}.get(len(self.partners), "group")

    def editions(self) -> list[Profile]:
        """Return one profile per language edition asked for (just this one by default)."""
        if not self.languages:
            return [self]
        return [self.model_copy(update={"language": language})
                for language in dict.fromkeys(self.languages)]

    @property
    def note_text(self) -> str:
        """Return the note this edition prints: the plain note, or its language's."""
        return self.note if isinstance(self.note, str) else self.note.get(self.language, "")

    @property
    def crisis(self) -> tuple[CrisisLine, ...]:
        """Return the crisis lines for the handout's language."""
        return self.crisis_lines.get(self.language) or default_lines(self.language)


# Settings a practice file may hold; a profile inherits them and may override each one.
PRACTICE_FIELDS = (
    "practice_name", "practice_contact", "practice_logo", "accent_color", "crisis_lines",
    "practice_library", "therapist", "language", "paper", "large_print", "fillable",
    "ink_saver", "cards", "discreet_name", "immigration_note", "format", "calendar_time",
    "calendar_details",
)
PARAMETERS = tuple(Profile.model_fields)
_PATH_FIELDS = ("practice_logo", "practice_library")
# Fields that are text: a number or true/false arriving here was converted on the way
# (papermill's -p, unquoted YAML) and may have lost its meaning (00123 -> 123).
STRING_FIELDS = ("client_id", "therapist", "note", "audience", "language", "edition", "paper",
                 "practice_name", "practice_contact", "practice_logo", "accent_color",
                 "practice_library", "discreet_name", "format", "program", "calendar_time")
BOOL_FIELDS = ("large_print", "fillable", "ink_saver", "cards", "discreet",
               "immigration_note", "calendar", "calendar_details")


MAX_FILE_BYTES = 1_000_000  # a profile, practice file or YAML roster is far smaller


