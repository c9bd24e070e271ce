"""Issue a handout: render it with the profile's options (a PDF, or a screen edition),
then record it as issued; or write the therapist's guide to it, which is never issued."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from handouts.core.files import atomic_write
from handouts.errors import BuildError, RenderError
from handouts.plan.guide import Guide
from handouts.plan.renderkey import render_key
from handouts.records.harvest import record_issued
from handouts.records.programs import (
    advance_command,
    check_gate,
    confirmations,
    weeks_so_far,
)
from handouts.records.progress import since_last_time
from handouts.render.calendar import calendar_bytes
from handouts.render.html import render_guide, render_html
from handouts.render.pdf import password_for, write_pdf
from handouts.render.screen import write_screen

log = logging.getLogger("handouts")


def write_handout(handout, path: str | Path, template: str = "handout", *,
                  reuse_layout: bool = False) -> Path:
    """Render *handout* with *template* and write it, with the profile's options.

    This is the one way a handout is made from a profile: workbooks, the picker and module
    previews all call it. The profile's ``format`` says what is written: a PDF, or a
    screen edition (one web page, or an EPUB). *reuse_layout* keeps the layout of
    unchanged parts from this process's last PDF build (a notebook someone is editing);
    the PDF is the same. A program week whose gate the therapist has not confirmed stops
    here, in every door.
    """
    profile = handout.profile
    if profile.edition == "therapist":  # the guide is planned from the client packets
        raise BuildError("this handout's profile is the therapist's edition; write its guide "
                         "with write_guide(session_guide(packet, library), path), or build "
                         "it with `handouts build PROFILE --edition therapist`",
                         field="edition", choices=("client", "therapist"))
    folder = Path(path).parent
    check_gate(handout, folder)
    since = None
    if profile.since_last_time:
        since = since_last_time(folder, profile.session_date.isoformat())
    weeks = None
    if getattr(handout, "week", None) is not None and not handout.alone:
        # under a flag of fear or coercion each packet is for one reader: no shared rows
        weeks = weeks_so_far(folder, handout.program, handout.week.week, profile.language)
    key = render_key(profile, template, since if weeks is None else (since, weeks))
    if profile.format != "pdf":
        if password_for(profile):
            raise RenderError(f"a password protects a PDF only, not an {profile.format.upper()} "
                              "file: build it as a PDF, or without the password",
                              field="password", choices=("pdf",))
        written = write_screen(handout, path, since=since, template=template, weeks=weeks)
    else:
        written = write_pdf(
            render_html(handout, template=template, since=since, weeks=weeks), path,
            fillable=profile.fillable,
            extra_files=[profile.practice_logo] if profile.practice_logo else [],
            source_date=profile.session_date, password=password_for(profile),
            reuse_layout=reuse_layout, key=key,
        )
    # The records layer writes the record, with the same key: a filled copy can be read
    # back (handouts harvest) and matched to exactly what was drawn.
    record_issued(handout, written, key)
    if profile.calendar:
        data = calendar_bytes(handout)
        if data is None:
            log.info("no calendar file: this packet holds no practice to schedule")
        else:
            atomic_write(Path(written).with_suffix(".ics"), data)
    return written


def write_guide(guide: Guide, path: str | Path) -> Path:
    """Write the therapist's guide (``edition: therapist``) as a PDF at *path*.

    It is the therapist's, never the client's: no form fields even when the profile is
    fillable, no handouts id in its keywords (``handouts harvest`` refuses it), and it
    is not recorded as issued to the client. A program week's gates are read from the
    client's records beside *path*: the guide says which are confirmed and which wait,
    and a gate that waits never stops it (the therapist reads it to decide).
    """
    profile = guide.profile
    gates = None
    if guide.program is not None:  # a program week: its gates as the client's records say
        folder = Path(path).parent
        gates = confirmations(folder, guide.program.id)
        waiting = next((g for g in guide.program.gates if g.opens_week not in gates), None)
        command = advance_command(profile.client_id, folder.parent, guide.program.id,
                                  waiting.opens_week) if waiting else ""
        guide = replace(guide, program=guide.program.with_records(gates, command))
    return write_pdf(
        render_guide(guide), path, fillable=False,
        extra_files=[profile.practice_logo] if profile.practice_logo else [],
        source_date=profile.session_date, password=password_for(profile),
        key=render_key(profile, "guide", gates),
    )
