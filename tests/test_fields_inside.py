"""Every form field of every fillable build lies inside its page, on any paper and print."""

from __future__ import annotations

import pikepdf
import pytest
from helpers import write_profile

from handouts.content.library import load_library
from handouts.ui.cli import main

WORKSHEETS = load_library().ids("worksheet")


def _build(folder, examples, *, language, paper, large_print, partners):
    """Build every worksheet fillable through the CLI; return the PDF's path."""
    names = "\n".join(f"  - {name}" for name in partners)
    profile = write_profile(folder, f"""\
practice: {examples / "practice.yaml"}
client_id: fields-check
partners:
{names}
session_date: 2026-11-24
language: {language}
paper: {paper}
large_print: {str(large_print).lower()}
fillable: true
rituals: [{", ".join(WORKSHEETS)}]
""")
    assert main(["build", str(profile), "-o", str(folder / "out"), "--no-record"]) == 0
    return next((folder / "out" / "fields-check").glob("*.pdf"))


@pytest.mark.parametrize("large_print", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("paper", ["letter", "a4"])
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("partners", [("Ana", "Bo"), ("Ana", "Bo", "Cy")],
                         ids=["couple", "group"])
def test_every_field_and_box_lies_inside_its_page(tmp_path, examples, language, paper,
                                                  large_print, partners):
    pdf = _build(tmp_path, examples, language=language, paper=paper,
                 large_print=large_print, partners=partners)
    outside = []
    seen = 0
    with pikepdf.open(pdf) as doc:
        for number, page in enumerate(doc.pages, start=1):
            x0, y0, x1, y1 = (float(v) for v in page.mediabox)
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") != "/Widget":
                    continue
                seen += 1
                left, right = sorted(float(v) for v in annot.Rect[::2])
                bottom, top = sorted(float(v) for v in annot.Rect[1::2])
                name = str(annot.get("/T") or annot.get("/Parent", {}).get("/T", "?"))
                if left < x0 or right > x1 or bottom < y0 or top > y1:
                    outside.append(f"page {number} {name}: x {left:.0f}-{right:.0f} "
                                   f"of {x1:.0f}, y {bottom:.0f}-{top:.0f} of {y1:.0f}")
    # Every worksheet has at least its names and week fields and a tracker.
    assert seen >= len(WORKSHEETS) * 9
    assert not outside, outside
