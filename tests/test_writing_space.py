"""Room to write: every writing prompt of a worksheet has ruled lines in print, a framed
space where it asks to draw, and a text field over the same place when fillable."""

from __future__ import annotations

import re

import pdfplumber
import pytest

from handouts import load_library, render_html, validate, write_pdf
from handouts.plan.assemble import assemble
from handouts.plan.reading import read_profile

MM = 72 / 25.4
WRITING = ["mapping-our-cycle", "grounding-plan", "brakes-accelerators-map",
           "closeness-on-hard-days"]


@pytest.fixture(scope="module")
def build(tmp_path_factory, examples):
    """Build the example couple with only the writing worksheets, cached per variant."""
    cache = {}

    def _build(language="en", **options):
        key = (language, *sorted(options.items()))
        if key not in cache:
            raw = read_profile(examples / "clients" / "sample-couple.yaml")
            profile = validate({**raw, "modules": [], "scripts": [], "rituals": WRITING,
                                "language": language, **options})
            html = render_html(assemble(profile, load_library(None, language)))
            out = tmp_path_factory.mktemp("write") / "h.pdf"
            cache[key] = write_pdf(html, out, fillable=profile.fillable,
                                   extra_files=[profile.practice_logo])
        return cache[key]

    return _build


def _writing_items(language: str):
    """Yield (worksheet id, extra number, item number, text, partners) of each writing
    item as printed: once for both partners side by side, or, on a private worksheet,
    once on each partner's own page (partner 1's page first)."""
    lib = load_library(None, language)
    for ritual in WRITING:
        module = lib.get(ritual).for_reader("couple")
        for ks in ([(1,), (2,)] if lib.get(ritual).private else [(1, 2)]):
            for e, extra in enumerate(module.extras, start=1):
                for i, item in enumerate(extra.items, start=1):
                    if not extra.choices and item.rstrip().endswith("___"):
                        yield ritual, e, i, item.rstrip().rstrip("_").rstrip(), ks


def _rules(page) -> list[tuple[float, float, float]]:
    """The thin horizontal rules on *page*: (top, x0, x1)."""
    # WeasyPrint draws a bottom border as the space between two nested boxes: a rule is
    # the shared bottom of a box one line high and its twin 0.6 pt taller.
    found: list[tuple[float, float, float]] = []
    for r in sorted(page.rects, key=lambda r: (r["x0"], r["bottom"])):
        if r["width"] > 40 * MM and r["height"] < 12 * MM and not (
                found and abs(found[-1][1] - r["x0"]) < 1 and r["bottom"] - found[-1][0] < 1.5):
            found.append((r["bottom"], r["x0"], r["x1"]))
    return sorted(found)


def _ruled(rules, line: float) -> list[float]:
    """Return the tops of the first run of rules a handwritten line apart."""
    tops = sorted(r[0] for r in rules)
    for start in range(len(tops)):
        run = [tops[start]]
        for top in tops[start + 1:]:
            if abs(top - run[-1] - line) < 1.5:
                run.append(top)
        if len(run) >= 3:
            return run[:3]
    return []


def _label_position(pdf, text: str, seen: dict):
    """Return (page, bottom) of where *text* (a few words of it) is printed, counting
    the times the same words were asked for before in *seen*."""
    words = " ".join(re.split(r"[\"(“¿]", text)[0].split()[:4])
    skip = seen[words] = seen.get(words, -1) + 1
    for page in pdf.pages:
        for hit in page.search(re.escape(words).replace("'", "['’]")):
            if not skip:
                return page, hit["bottom"]
            skip -= 1
    raise AssertionError(f"not printed: {words!r}")


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("large_print", [False, True])
def test_each_writing_item_has_three_ruled_lines_per_partner(build, language, large_print):
    items = list(_writing_items(language))
    assert len(items) >= 20  # every worksheet the reviewer named has writing items
    assert {ritual for ritual, *_ in items} == set(WRITING)
    line = (10 if large_print else 6.5) * MM
    with pdfplumber.open(build(language, large_print=large_print)) as pdf:
        seen: dict = {}
        for ritual, e, i, text, ks in items:
            page, bottom = _label_position(pdf, text, seen)
            under = [r for r in _rules(page) if bottom < r[0] < bottom + 5 * line]
            if len(ks) == 1:  # one partner's own page: their three rules
                assert _ruled(under, line), (ritual, e, i, ks)
                continue
            # two partners side by side: three rules each, a handwritten line apart
            for left in (True, False):
                side = [r for r in under if (r[1] < page.width / 2) == left]
                assert _ruled(side, line), (ritual, e, i, left)


@pytest.mark.parametrize("language", ["en", "es"])
def test_mapping_the_loop_has_a_framed_drawing_space(build, language):
    with pdfplumber.open(build(language)) as pdf:
        frames = [r for page in pdf.pages for r in page.rects + page.curves
                  if r["height"] > 70 * MM and r["width"] > 100 * MM]
        labels = [page for page in pdf.pages
                  if page.search("Draw it here" if language == "en" else "Dibújalo aquí")]
    assert frames and labels


@pytest.mark.parametrize("large_print", [False, True])
def test_fillable_fields_sit_where_the_lines_are(build, large_print):
    line = (10 if large_print else 6.5) * MM
    with pdfplumber.open(build(large_print=large_print)) as printed, \
            pdfplumber.open(build(large_print=large_print, fillable=True)) as fillable:
        fields = {}
        for page in fillable.pages:
            for annot in page.annots:
                fields[annot["data"].get("T", b"").decode()] = (page.page_number, annot)
        seen_print: dict = {}
        seen_fill: dict = {}
        for ritual, e, i, text, ks in _writing_items("en"):
            page, bottom = _label_position(printed, text, seen_print)
            fpage, fbottom = _label_position(fillable, text, seen_fill)
            for k in ks:
                number, annot = fields[f"{ritual}.p{k}.extra-{e}.item-{i}"]
                assert number == fpage.page_number, (ritual, e, i, k)
                rules = [r for r in _rules(page) if bottom < r[0] < bottom + 5 * line
                         and annot["x0"] - 4 < r[1] < annot["x1"]]
                tops = _ruled(rules, line)
                assert tops, (ritual, e, i, k)
                # under its prompt, the field covers the three lines it stands for
                top, end = annot["top"] - fbottom, annot["bottom"] - fbottom
                assert tops[0] - bottom - line - 3 < top < tops[0] - bottom, (ritual, e, i, k)
                assert abs(end - (tops[-1] - bottom)) < 2 * MM, (ritual, e, i, k)
