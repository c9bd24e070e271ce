"""Issue a handout: render its PDF with the profile's options, then record it as issued."""

from __future__ import annotations

from pathlib import Path

from handouts.plan.renderkey import render_key
from handouts.records.harvest import record_issued
from handouts.records.progress import since_last_time
from handouts.render.html import render_html
from handouts.render.pdf import password_for, write_pdf


def write_handout(handout, path: str | Path, template: str = "handout", *,
                  reuse_layout: bool = False) -> Path:
    """Render *handout* with *template* and write its PDF, with the profile's options.

    This is the one way a PDF is made from a profile: workbooks, the picker and module
    previews all call it. *reuse_layout* keeps the layout of unchanged parts from this
    process's last build (a notebook someone is editing); the PDF is the same.
    """
    profile = handout.profile
    since = None
    if profile.since_last_time:
        since = since_last_time(Path(path).parent, profile.session_date.isoformat())
    written = write_pdf(
        render_html(handout, template=template, since=since), path,
        fillable=profile.fillable,
        extra_files=[profile.practice_logo] if profile.practice_logo else [],
        source_date=profile.session_date, password=password_for(profile),
        reuse_layout=reuse_layout, key=(key := render_key(profile, template, since)),
    )
    # The records layer writes the record, with the same key: a filled copy can be read
    # back (handouts harvest) and matched to exactly what was drawn.
    record_issued(handout, written, key)
    return written
