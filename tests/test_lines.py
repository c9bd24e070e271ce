"""The line-fitting cache: fewer questions to Pango, the same PDF."""

from __future__ import annotations

import contextlib
import io
import re
from importlib.util import find_spec
from pathlib import Path

import pytest

import handouts
from handouts import load_library, render_html
from handouts.plan.assemble import assemble
from handouts.render import weasy as lines
from handouts.render.pdf import render_pdf


def build(profile) -> bytes:
    html = render_html(assemble(profile, load_library()))
    return render_pdf(html, fillable=profile.fillable, source_date=profile.session_date,
                      extra_files=[profile.practice_logo] if profile.practice_logo else [])


@pytest.fixture
def questions():
    """Record every call that reaches WeasyPrint's own split_first_line."""
    render_pdf("<p>warm</p>")  # imports WeasyPrint and installs the cache
    fit, asked = lines._INSTALLED[0], []

    def counted(text, *args):
        asked.append(text)
        return fit(text, *args)

    lines._INSTALLED[0] = counted
    yield asked
    lines._INSTALLED[0] = fit


@pytest.mark.parametrize("name", ["sample-couple", "sample-individual", "sample-group",
                                  "sample-bilingual"])
def test_the_cache_asks_pango_less_and_the_pdf_is_byte_for_byte_the_same(
        examples, name, questions, monkeypatch):
    profile = handouts.load_profile(examples / "clients" / f"{name}.yaml")
    cached = build(profile)
    asked_cached = len(questions)
    questions.clear()
    monkeypatch.setattr(lines, "cached", contextlib.nullcontext)
    plain = build(profile)
    assert cached == plain
    assert asked_cached < 0.7 * len(questions), (asked_cached, len(questions))


def test_outside_a_handouts_render_every_call_reaches_weasyprint(questions):
    import weasyprint

    html = "<ul>" + "<li>same words</li>" * 20 + "</ul>"
    weasyprint.HTML(string=html).write_pdf(io.BytesIO())
    assert questions.count("same words") >= 20


def test_the_cache_key_holds_every_style_property_weasyprint_fits_lines_with():
    # If a WeasyPrint release reads another property while fitting a line, a cache keyed
    # without it could answer with another style's line: this fails first.
    root = Path(find_spec("weasyprint").origin).parent
    source = "".join((root / "text" / name).read_text(encoding="utf-8")
                     for name in ("line_break.py", "fonts.py"))
    read = set(re.findall(r"style\[['\"](\w+)['\"]\]", source))
    assert read
    assert read <= set(lines.PROPERTIES), sorted(read - set(lines.PROPERTIES))


def test_line_fits_are_kept_under_the_render_key_and_dropped_for_another(examples):
    from handouts.plan.renderkey import render_key

    couple = handouts.load_profile(examples / "clients" / "sample-couple.yaml")
    first = render_key(couple).digest
    renamed = render_key(couple.model_copy(update={"practice_name": "Tidewater"})).digest
    with lines.cached(first):
        answers = lines._ACTIVE.get()
        answers[0]["question"] = "answer"
    with lines.cached(first):  # another part of the same build
        assert lines._ACTIVE.get() is answers
    with lines.cached(renamed):  # the practice changed: nothing is answered from before
        assert lines._ACTIVE.get()[0] == {}
    with lines.cached(first):
        assert lines._ACTIVE.get()[0] == {}


def test_weasyprint_is_the_version_the_patches_were_checked_against():
    import weasyprint

    assert weasyprint.__version__.startswith(lines.CHECKED_WITH), (
        f"WeasyPrint {weasyprint.__version__} is installed, but handouts.render.weasy was "
        f"checked against {lines.CHECKED_WITH}x: check its line-fitting patch, the private "
        "attributes body_sections() and html_box() read and the glyph-array cache, then "
        "raise CHECKED_WITH and the pin in pyproject.toml")
