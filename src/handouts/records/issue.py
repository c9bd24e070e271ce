"""Issue a handout: render it with the profile's options (a PDF, or a screen edition),
then record it as issued."""

from __future__ import annotations

from pathlib import Path

from handouts.errors import RenderError
from handouts.plan.renderkey import render_key
from handouts.records.harvest import record_issued
from handouts.records.progress import since_last_time
from handouts.render.html import render_html
from handouts.render.pdf import password_for, write_pdf
from handouts.render.screen import write_screen


def write_handout(handout, path: str | Path, template: str = "handout", *,
                  reuse_layout: bool = False) -> Path:
    """Render *handout* with *template* and write it, with the profile's options.

    This is the one way a handout is made from a profile: workbooks, the picker and module
    previews all call it. The profile's ``format`` says what is written: a PDF, or a
    screen edition (one web page, or an EPUB). *reuse_layout* keeps the layout of
    unchanged parts from this process's last PDF build (a notebook someone is editing);
    the PDF is the same.
    """
    profile = handout.profile
    since = None
    if profile.since_last_time:
        since = since_last_time(Path(path).parent, profile.session_date.isoformat())
    key = render_key(profile, template, since)
    if profile.format != "pdf":
        if password_for(profile):
            raise RenderError(f"a password protects a PDF only, not an {profile.format.upper()} "
                              "file: build it as a PDF, or without the password",
                              field="password", choices=("pdf",))
        written = write_screen(handout, path, since=since, template=template)
    else:
        written = write_pdf(
            render_html(handout, template=template, since=since), path,
            fillable=profile.fillable,
            extra_files=[profile.practice_logo] if profile.practice_logo else [],
            source_date=profile.session_date, password=password_for(profile),
            reuse_layout=reuse_layout, key=key,
        )
    # The records layer writes the record, with the same key: a filled copy can be read
    # back (handouts harvest) and matched to exactly what was drawn.
    record_issued(handout, written, key)
    return written
