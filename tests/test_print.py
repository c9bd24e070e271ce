"""Print design, checked from the PDF's structure: pages, fields, tags, sizes, layout."""

from __future__ import annotations

import re

import pdfplumber
import pikepdf
import pypdf
import pypdfium2
import pytest
from helpers import normalise
from PIL import ImageChops

from handouts import assemble, load_library, load_profile, render_html, validate, write_pdf
from handouts.profile import read_profile

MM = 72 / 25.4


@pytest.fixture(scope="module")
def render(tmp_path_factory, examples):
    """Render the example couple with options; cache each variant for the module."""
    cache = {}

    def _render(**options):
        key = tuple(sorted(options.items()))
        if key not in cache:
            raw = read_profile(examples / "clients" / "sample-couple.yaml")
            profile = validate({**raw, **options})
            html = render_html(assemble(profile, load_library()))
            out = tmp_path_factory.mktemp("print") / "h.pdf"
            cache[key] = write_pdf(html, out, fillable=profile.fillable,
                                   extra_files=[profile.practice_logo])
        return cache[key]

    return _render


def body_text(page) -> str:
    """Text between the running header and footer."""
    return (page.crop((0, 20 * MM, page.width, page.height - 20 * MM)).extract_text() or "")


@pytest.mark.parametrize(("paper", "size"), [("letter", (612, 792)), ("a4", (595, 842))])
def test_every_page_has_the_paper_size(render, paper, size):
    for page in pypdf.PdfReader(str(render(paper=paper))).pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == size


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_nothing_is_clipped_outside_the_page(render, paper):
    with pdfplumber.open(render(paper=paper)) as pdf:
        for page in pdf.pages:
            for char in page.chars:
                assert 0 <= char["x0"] and char["x1"] <= page.width, char["text"]
                assert 0 <= char["top"] and char["bottom"] <= page.height, char["text"]


def test_fillable_pdf_has_named_fields_of_the_right_types(render, examples):
    profile = load_profile(examples / "clients" / "sample-couple.yaml")
    lib = load_library()
    fields = pypdf.PdfReader(str(render(fillable=True))).get_fields()
    expected = {}
    for ritual in profile.rituals:
        expected.update({f"{ritual}.day-{d}": "/Btn" for d in range(1, 8)})
        expected.update({f"{ritual}.prompt-{n}": "/Tx"
                         for n in range(1, len(lib.get(ritual).prompts) + 1)})
        expected[f"{ritual}.names"] = "/Tx"
        expected[f"{ritual}.week-of"] = "/Tx"
    assert {name: str(f.get("/FT")) for name, f in fields.items()} == expected
    # names and dates are pre-filled
    first = profile.rituals[0]
    assert fields[f"{first}.names"].get("/V") == "Alex & Sam"
    assert fields[f"{first}.week-of"].get("/V") == "November 24, 2026"
    # reflection prompts are multi-line text fields
    assert int(fields[f"{first}.prompt-1"].get("/Ff", 0)) & (1 << 12)


def test_plain_pdf_has_no_form_fields(render):
    reader = pypdf.PdfReader(str(render(fillable=False)))
    assert not reader.get_fields()
    assert "/AcroForm" not in reader.trailer["/Root"]


def test_filled_answers_stick(render, tmp_path):
    reader = pypdf.PdfReader(str(render(fillable=True)))
    writer = pypdf.PdfWriter(clone_from=reader)
    answer = "We laughed more than usual."
    for page in writer.pages:
        writer.update_page_form_field_values(
            page, {"six-second-kiss.prompt-1": answer, "six-second-kiss.day-3": "/on"},
            auto_regenerate=False)
    filled = tmp_path / "filled.pdf"
    with open(filled, "wb") as handle:
        writer.write(handle)
    fields = pypdf.PdfReader(str(filled)).get_fields()
    assert fields["six-second-kiss.prompt-1"].get("/V") == answer
    assert fields["six-second-kiss.day-3"].get("/V") == "/on"
    assert fields["six-second-kiss.day-4"].get("/V") in (None, "/Off")


def test_tagged_with_language_and_a_neutral_title(render):
    with pikepdf.open(render()) as pdf:
        root = pdf.Root
        assert "/StructTreeRoot" in root
        assert str(root.Lang) == "en"
        assert root.MarkInfo.Marked
        title = str(pdf.docinfo.get("/Title", ""))
        assert title == "Connection workbook"
        meta = " ".join(str(v) for v in pdf.docinfo.values())
        with pdf.open_metadata() as xmp:
            meta += " " + str(xmp)
    for name in ("Alex", "Sam", "sample-couple"):
        assert name not in meta


def _body_sizes(path):
    sizes = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages[4:8]:  # teaching text, past the cover and front matter
            sizes += [round(c["size"], 1) for c in page.chars if "Literata" in c["fontname"]
                      and 20 * MM < c["top"] < page.height - 20 * MM]
    return max(set(sizes), key=sizes.count)


def test_body_text_size(render):
    assert 11.5 <= _body_sizes(render()) <= 12.5
    assert _body_sizes(render(large_print=True)) >= 16


def test_measure_is_60_to_75_characters(render):
    with pdfplumber.open(render()) as pdf:
        lengths = []
        for page in pdf.pages[4:8]:
            for line in body_text(page).splitlines():
                lengths.append(len(line))
    full = sorted(lengths)[-len(lengths) // 3:]  # full lines, not paragraph ends
    average = sum(full) / len(full)
    assert 60 <= average <= 75, average


def test_worksheets_start_at_the_top_of_a_page(render, examples):
    lib = load_library()
    titles = [lib.get(i).title for i in load_profile(
        examples / "clients" / "sample-couple.yaml").rituals]
    with pdfplumber.open(render()) as pdf:
        for title in titles:
            hits = [p for p in pdf.pages
                    if normalise(title) in normalise(body_text(p)).split(" Names")[0][:120]]
            assert hits, title
            first_line = normalise(body_text(hits[0]))[:160]
            assert normalise(title) in first_line, (title, first_line)


@pytest.mark.parametrize("options", [{}, {"paper": "a4"}, {"fillable": True}])
def test_no_page_is_only_a_heading_or_nearly_empty(render, options):
    with pdfplumber.open(render(**options)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            text = body_text(page).strip()
            lines = [line for line in text.splitlines() if line.strip()]
            assert len(lines) > 1, f"page {number} holds only {lines}"
            bottom = max((c["bottom"] for c in page.chars
                          if c["top"] < page.height - 20 * MM), default=0)
            assert bottom > page.height * 0.3, f"page {number} is nearly empty: {lines[:3]}"


def _tint_share(path) -> list[float]:
    """Share of each page covered by light tinted fills (boxes, cards), rendered at 30 dpi."""
    pdf = pypdfium2.PdfDocument(str(path))
    shares = []
    for index in range(len(pdf)):
        image = pdf[index].render(scale=30 / 72).to_pil().convert("RGB")
        masks = [band.point(lambda v: 255 if 215 <= v <= 249 else 0) for band in image.split()]
        mask = ImageChops.multiply(ImageChops.multiply(masks[0], masks[1]), masks[2])
        shares.append(mask.histogram()[255] / (image.width * image.height))
    pdf.close()
    return shares


def test_ink_saver_drops_large_colour_fills(render):
    assert max(_tint_share(render())) > 0.10  # the safety note and script cards are tinted
    assert max(_tint_share(render(ink_saver=True))) < 0.06  # only text edges and rules remain


def test_cut_out_cards_page(render, examples):
    profile = load_profile(examples / "clients" / "sample-couple.yaml")
    lib = load_library()
    with pdfplumber.open(render(cards=True)) as pdf:
        pages = [p for p in pdf.pages if "Cards to cut out" in body_text(p)]
        assert pages
        # cards sit side by side: read the left and right columns separately
        top, bottom = 20 * MM, pages[0].height - 20 * MM
        text = normalise(" ".join(
            p.crop(box).extract_text() or "" for p in pdf.pages[pdf.pages.index(pages[0]):]
            for box in ((0, top, p.width / 2, bottom), (p.width / 2, top, p.width, bottom))))
        text = text.replace("- ", "-")  # a title may wrap after its hyphen
    for ritual in profile.rituals:
        assert normalise(lib.get(ritual).title) in text
    for script in profile.scripts:
        assert normalise(lib.get(script).openers[0])[:40] in text
    with pdfplumber.open(render(cards=False)) as pdf:
        assert not any("Cards to cut out" in body_text(p) for p in pdf.pages)


def test_running_header_has_practice_and_title_but_no_client_names(render):
    with pdfplumber.open(render()) as pdf:
        for page in pdf.pages[1:]:
            header = page.crop((0, 0, page.width, 20 * MM)).extract_text() or ""
            assert "Harbor Light Couples Therapy" in header
            assert "Connection workbook" in header
            assert not re.search(r"\b(Alex|Sam)\b", header)
            footer = page.crop((0, page.height - 20 * MM, page.width, page.height))
            assert re.search(r"Page \d+ of \d+", footer.extract_text() or "")
