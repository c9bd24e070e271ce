"""Rendering: autoescaping, strict templates, the URL fetcher, paper sizes, fonts."""

from __future__ import annotations

import os
import re
import sys

import jinja2
import pypdf
import pytest
from helpers import embedded_fonts, normalise, pdf_text

from handouts import RenderError, load_library, render_html, validate, write_pdf
from handouts.plan.assemble import assemble
from handouts.render.html import environment
from handouts.render.pdf import render_pdf

HOSTILE_NAME = '<script>alert("x")</script>{{ 7*7 }}'
HOSTILE_NOTE = """\
<img src="file:///etc/passwd"> <b>bold?</b> {% raw %}{{ 6*7 }}{% endraw %}

![pic](file:///etc/hostname) [click](https://example.com/track) <https://example.com/x>

<style>body{display:none}</style>
"""


def params(**overrides):
    base = {
        "client_id": "c-7", "partners": [{"name": "Avery"}, {"name": "Kit"}],
        "session_date": "2026-12-01", "modules": ["barometer"],
        "rituals": [], "scripts": [],
    }
    return {**base, **overrides}


def html_for(**overrides) -> str:
    profile = validate(params(**overrides))
    return render_html(assemble(profile, load_library()))


def test_autoescape_is_forced_whatever_the_template_name():
    env = environment()
    assert env.from_string("{{ x }}").render(x="<b>&") == "&lt;b&gt;&amp;"
    assert env.autoescape is True


def test_undefined_names_fail_loudly():
    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("{{ missing }}").render()


def test_hostile_client_text_is_escaped_and_never_a_template():
    html = html_for(partners=[{"name": HOSTILE_NAME}], note=HOSTILE_NOTE,
                    therapist="<i>Dr</i>", practice_name="A&B <Practice>")
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "{{ 7*7 }}" in html and "49" not in html.split("<body", 1)[1]
    assert "<img" not in html.split("<body", 1)[1].split('class="practice"', 1)[1]
    assert 'href="https://example.com' not in html
    assert "<b>bold?</b>" not in html and "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "<style>body" not in html
    assert "A&amp;B &lt;Practice&gt;" in html


def test_hostile_text_prints_as_literal_text(tmp_path):
    out = write_pdf(html_for(partners=[{"name": "<b>Avery</b>"}], note="<i>hi</i> {{ x }}"),
                    tmp_path / "h.pdf")
    text = pdf_text(out)
    assert "<b>Avery</b>" in text
    assert "<i>hi</i> {{ x }}" in normalise(text)


def test_fetching_outside_the_project_fails_the_render():
    html = html_for().replace("</body>", '<img src="file:///etc/hostname"></body>')
    with pytest.raises(RenderError, match="refused to fetch file:///etc/hostname"):
        render_pdf(html)
    html = html_for().replace("</body>", '<img src="https://example.com/p.png"></body>')
    with pytest.raises(RenderError, match="refused to fetch https://example.com"):
        render_pdf(html)


def test_practice_logo_is_allowed_only_when_configured(examples):
    logo = str(examples / "logo.svg")
    html = html_for(practice_logo=logo)
    assert render_pdf(html, extra_files=[logo]).startswith(b"%PDF")
    with pytest.raises(RenderError, match="refused to fetch"):
        render_pdf(html)


@pytest.mark.parametrize(("paper", "size"), [("letter", (612, 792)), ("a4", (595, 842))])
def test_paper_size(tmp_path, paper, size):
    out = write_pdf(html_for(paper=paper), tmp_path / "h.pdf")
    reader = pypdf.PdfReader(str(out))
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width)), round(float(box.height))) == size


def test_fonts_are_embedded_and_footer_counts_pages(tmp_path):
    out = write_pdf(html_for(), tmp_path / "h.pdf")
    fonts = embedded_fonts(out)
    assert fonts and all(fonts.values()), fonts
    assert any("Literata" in name for name in fonts)
    pages = len(pypdf.PdfReader(str(out)).pages)
    assert f"Page {pages} of {pages}" in pdf_text(out)


def test_missing_logo_names_the_field(tmp_path):
    with pytest.raises(RenderError, match="practice_logo: logo file not found"):
        html_for(practice_logo=str(tmp_path / "nope.svg"))


def test_partner_names_in_worksheets_are_escaped_and_never_in_field_names():
    html = html_for(partners=[{"name": HOSTILE_NAME}, {"name": "Kit"}, {"name": "Jo"}],
                    rituals=["gentle-touch-moments"], fillable=True)
    body = html.split("<body", 1)[1]
    assert "<script" not in body and "&lt;script&gt;" in body
    names = re.findall(r'name="([^"]+)"', body)
    assert "gentle-touch-moments.p3.day-7" in names
    assert "gentle-touch-moments.p3.extra-1.item-1.choice-4" in names
    assert not [n for n in names if re.search(r"kit|jo\b|script", n, re.I)], names


@pytest.mark.parametrize("template", ["handout", "quick"])
def test_both_templates_give_each_partner_their_own_fields(template):
    profile = validate(params(partners=[{"name": "Avery"}, {"name": "Kit"}],
                              rituals=["six-second-kiss"], fillable=True))
    html = render_html(assemble(profile, load_library()), template=template)
    names = set(re.findall(r'name="([^"]+)"', html))
    for k in (1, 2):
        assert {f"six-second-kiss.p{k}.day-{d}" for d in range(1, 8)} <= names
        assert f"six-second-kiss.p{k}.prompt-1" in names
    assert not any(".p3." in n for n in names)
    assert 'content="handouts-form-schema-2 handouts-id-' in html


def test_choice_fields_are_named_by_column_in_every_language():
    # The same worksheet in another language (labels translated) has the same field
    # names, so a filled Spanish PDF reads back like an English one.

    from handouts import load_library, validate
    from handouts.plan.assemble import assemble

    library = load_library()
    profile = validate({"client_id": "f-1", "partners": ["A", "B"],
                        "session_date": "2026-12-01", "rituals": ["gentle-touch-moments"],
                        "fillable": True})
    names = set(re.findall(r'name="([^"]+)"', render_html(assemble(profile, library))))
    module = library.get("gentle-touch-moments")
    extra = module.extras[0]
    translated = module.model_copy(update={"extras": (extra.model_copy(update={
        "choices": ("me gusta", "pregúntame antes", "ahora no", "no para mí")}),)})
    other = library.with_module(translated)
    names_es = set(re.findall(r'name="([^"]+)"', render_html(assemble(profile, other))))
    assert names == names_es
    assert {f"gentle-touch-moments.p1.extra-1.item-1.choice-{j}" for j in (1, 2, 3, 4)} <= names



@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldconfig is Linux's")
def test_weasyprint_finds_its_libraries_from_one_ldconfig_listing():
    """The fast lookup answers as ctypes does, for hits and misses alike."""
    import ctypes.util

    from handouts.render.weasy import _ldconfig_listing, _soname

    listing = _ldconfig_listing()
    assert listing
    for name in ("gobject-2.0", "pango-1.0", "harfbuzz", "fontconfig", "pangoft2-1.0"):
        assert _soname(listing, name) == ctypes.util.find_library(name), name
        assert _soname(listing, name)
    assert _soname(listing, "libgobject-2.0-0") is None  # a name WeasyPrint tries first


@pytest.mark.parametrize("options", [
    {},
    {"fillable": True, "large_print": True, "paper": "letter", "language": "es",
     "rituals": ["love-maps-check-in"], "scripts": ["declining-warmly"]},
], ids=["default", "fillable-large-letter-es"])
def test_stylesheet_parsed_once_prints_exactly_as_the_inline_one(options):
    """The stylesheet handouts parses once per process gives the same pages, fields and text
    as WeasyPrint rendering the HTML with its inline <style>; a second render (a cached
    stylesheet) gives the same bytes as the first."""
    import io

    import pypdfium2
    import weasyprint

    from handouts.render import pdf

    profile = validate(params(**options))
    html = render_html(assemble(profile, load_library(language=profile.language)))
    pdf._SHEETS.clear()
    first = render_pdf(html, fillable=profile.fillable, source_date=profile.session_date)
    second = render_pdf(html, fillable=profile.fillable, source_date=profile.session_date)
    assert first == second
    fetcher, _ = pdf._fetcher_class()
    with pdf._source_date(profile.session_date):
        inline = weasyprint.HTML(
            string=html, base_url=pdf.templates_dir().resolve().as_uri() + "/",
            url_fetcher=fetcher(pdf.allowed_roots())).write_pdf(
            font_config=pdf._font_config(), pdf_forms=profile.fillable,
            pdf_variant="pdf/ua-1", custom_metadata=False, attachments=[])

    def pages(data: bytes) -> list[bytes]:
        document = pypdfium2.PdfDocument(data)
        return [page.render(scale=40 / 72).to_pil().tobytes() for page in document]

    ours, theirs = pypdf.PdfReader(io.BytesIO(first)), pypdf.PdfReader(io.BytesIO(inline))
    assert len(ours.pages) == len(theirs.pages) > 3
    assert [p.extract_text() for p in ours.pages] == [p.extract_text() for p in theirs.pages]
    assert sorted(ours.get_fields() or {}) == sorted(theirs.get_fields() or {})
    assert bool(ours.get_fields()) == profile.fillable
    assert pages(first) == pages(inline)


def test_the_stylesheet_is_parsed_once_for_many_handouts(monkeypatch):
    import weasyprint

    from handouts.render import pdf

    parsed = []
    real = weasyprint.CSS

    def counting(*args, **kwargs):
        parsed.append(1)
        return real(*args, **kwargs)

    pdf.import_weasyprint()
    pdf._SHEETS.clear()
    monkeypatch.setattr(weasyprint, "CSS", counting)
    for name in ("Avery", "Kit", "Ali"):
        render_pdf(html_for(partners=[{"name": name}, {"name": "Sam"}]))
    assert len(parsed) == 1
    render_pdf(html_for(paper="a4"))  # a different stylesheet is parsed on its own
    assert len(parsed) == 2


def test_a_render_frees_its_own_garbage_and_leaves_the_collector_as_it_was():
    """In a notebook kernel, handout after handout: memory stays flat, the collector on."""
    import gc

    html = html_for()
    render_pdf(html)  # warm: fonts, stylesheet, caches
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(3):
        render_pdf(html)
        assert gc.isenabled()
    # a render leaves ~100,000 objects in reference cycles; none of them may linger
    assert len(gc.get_objects()) - before < 2_000
    gc.disable()  # a batch's child runs with the collector off: a render keeps it off
    try:
        render_pdf(html)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.fixture
def fresh_template_cache(tmp_path, monkeypatch):
    """A private temporary folder for Jinja's cache, and environments as in a new process."""
    import tempfile

    from handouts.render import html

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    for cached in (html._bytecode_cache, html._environment):
        cached.cache_clear()
    yield tmp_path / "tmp" / f"_jinja2-cache-{os.getuid()}"
    for cached in (html._bytecode_cache, html._environment):
        cached.cache_clear()


def test_compiled_templates_are_kept_between_processes_but_never_stale(tmp_path,
                                                                      fresh_template_cache):
    from handouts.render import html

    own = tmp_path / "own"
    own.mkdir()
    (own / "note.j2").write_text("first {{ x }}", encoding="utf-8")
    assert environment(own).get_template("note.j2").render(x="<i>") == "first &lt;i&gt;"
    assert fresh_template_cache.stat().st_mode & 0o777 == 0o700  # private to this user
    assert len(list(fresh_template_cache.glob("__handouts_*.cache"))) == 1
    html_one = html_for()  # the bundled templates are compiled and kept too

    html._environment.cache_clear()  # as a new process: the compiled code is loaded...
    assert html_for() == html_one
    (own / "note.j2").write_text("second {{ x }}", encoding="utf-8")
    html._environment.cache_clear()  # ...but a template whose text changed is compiled again
    assert environment(own).get_template("note.j2").render(x="<i>") == "second &lt;i&gt;"


def test_a_cache_folder_that_is_not_private_is_refused(fresh_template_cache, tmp_path):
    elsewhere = tmp_path / "planted"
    elsewhere.mkdir()
    fresh_template_cache.symlink_to(elsewhere)  # someone else's folder in its place
    from handouts.render import html

    assert html._bytecode_cache() is None
    assert "safety" in html_for().lower()  # templates are simply compiled every time
    assert not list(elsewhere.iterdir())
