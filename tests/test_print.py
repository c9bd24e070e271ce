"""Print design, checked from the PDF's structure: pages, fields, tags, sizes, layout."""

from __future__ import annotations

import re

import pdfplumber
import pikepdf
import pypdf
import pypdfium2
import pytest
from helpers import normalise, starts_fresh
from PIL import ImageChops

from handouts import load_library, load_profile, render_html, validate, write_pdf
from handouts.plan.assemble import assemble
from handouts.plan.reading import read_profile

MM = 72 / 25.4


@pytest.fixture(scope="module")
def render(tmp_path_factory, examples):
    """Render the example couple with options; cache each variant for the module."""
    cache = {}

    def _render(client="sample-couple", **options):
        key = (client, *sorted(options.items()))
        if key not in cache:
            raw = read_profile(examples / "clients" / f"{client}.yaml")
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


def expected_fields(profile, lib) -> dict[str, str]:
    """The documented field names (docs/form-fields.md, schema 2) and their types."""
    partners = 1 if profile.reader == "individual" else len(profile.partners)
    expected = {}
    for ritual in profile.rituals:
        module = lib.get(ritual).for_reader(profile.reader, fillable=True)
        expected[f"{ritual}.names"] = "/Tx"
        expected[f"{ritual}.week-of"] = "/Tx"
        for k in range(1, partners + 1):
            if module.private and partners > 1:  # each partner's own page: their name is
                expected[f"{ritual}.p{k}.week-of"] = "/Tx"  # printed, not a field
                expected.pop(f"{ritual}.names", None)
                expected.pop(f"{ritual}.week-of", None)
            expected.update({f"{ritual}.p{k}.day-{d}": "/Btn" for d in range(1, 8)})
            expected.update({f"{ritual}.p{k}.prompt-{n}": "/Tx"
                             for n in range(1, len(module.prompts) + 1)})
            for e, extra in enumerate(module.extras, start=1):
                for i, item in enumerate(extra.items, start=1):
                    if not extra.choices and item.rstrip().endswith("___"):
                        expected[f"{ritual}.p{k}.extra-{e}.item-{i}"] = "/Tx"
                    for j in range(1, len(extra.choices) + 1):
                        expected[f"{ritual}.p{k}.extra-{e}.item-{i}.choice-{j}"] = "/Btn"
    return expected


@pytest.mark.parametrize("client", ["sample-couple", "sample-individual", "sample-group"])
def test_fillable_pdf_has_one_set_of_named_fields_per_partner(render, examples, client):
    profile = load_profile(examples / "clients" / f"{client}.yaml")
    fields = pypdf.PdfReader(str(render(client, fillable=True))).get_fields()
    assert {name: str(f.get("/FT")) for name, f in fields.items()} == expected_fields(
        profile, load_library())
    # no field name carries a name: partners are p1, p2, ...
    for name in fields:
        for partner in profile.names:
            assert partner.lower() not in name.lower(), name
    # names and dates are pre-filled
    first = profile.rituals[0]
    *others, last = profile.names
    assert fields[f"{first}.names"].get("/V") == (  # "Noor, Tomás & Kai"
        f"{', '.join(others)} & {last}" if others else last)
    # reflection prompts are multi-line text fields
    assert int(fields[f"{first}.p1.prompt-1"].get("/Ff", 0)) & (1 << 12)


def test_couple_fields_are_prefilled(render):
    fields = pypdf.PdfReader(str(render(fillable=True))).get_fields()
    assert fields["six-second-kiss.names"].get("/V") == "Alex & Sam"
    assert fields["six-second-kiss.week-of"].get("/V") == "November 24, 2026"


def test_every_pdf_carries_the_form_schema_marker_and_no_client_data(render):
    for options in ({}, {"fillable": True}):
        with pikepdf.open(render(**options)) as pdf:
            # The schema and an opaque id for reading a filled copy back; nothing else.
            assert re.fullmatch(r"handouts-form-schema-2 handouts-id-[0-9a-f]{20}",
                                str(pdf.docinfo.get("/Keywords")))
            meta = " ".join(str(v) for v in pdf.docinfo.values())
            with pdf.open_metadata() as xmp:
                assert "handouts-form-schema-2" in str(xmp)
                meta += " " + str(xmp)
        for name in ("Alex", "Sam", "sample-couple", "2026-11-24"):
            assert name not in meta


def test_plain_pdf_has_no_form_fields(render):
    reader = pypdf.PdfReader(str(render(fillable=False)))
    assert not reader.get_fields()
    assert "/AcroForm" not in reader.trailer["/Root"]


def test_filled_answers_stick_to_the_partner_who_wrote_them(render, tmp_path):
    reader = pypdf.PdfReader(str(render(fillable=True)))
    writer = pypdf.PdfWriter(clone_from=reader)
    answer = "We laughed more than usual."
    touch = "gentle-touch-moments.p2.extra-1.item-1.choice-4"  # "not for me"
    for page in writer.pages:
        writer.update_page_form_field_values(
            page, {"six-second-kiss.p1.prompt-1": answer, "six-second-kiss.p2.day-3": "/on",
                   touch: "/on"},
            auto_regenerate=False)
    filled = tmp_path / "filled.pdf"
    with open(filled, "wb") as handle:
        writer.write(handle)
    fields = pypdf.PdfReader(str(filled)).get_fields()
    assert fields["six-second-kiss.p1.prompt-1"].get("/V") == answer
    assert fields["six-second-kiss.p2.prompt-1"].get("/V") in (None, "")
    assert fields["six-second-kiss.p2.day-3"].get("/V") == "/on"
    assert fields["six-second-kiss.p1.day-3"].get("/V") in (None, "/Off")
    assert fields[touch].get("/V") == "/on"
    assert fields[touch.replace(".p2.", ".p1.")].get("/V") in (None, "/Off")


def _widgets(path, prefix):
    """(page, x0, y0, x1, y1, name) of every form widget whose name starts with prefix."""
    found = []
    for page in pypdf.PdfReader(str(path)).pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            name = str(annot.get("/T", ""))
            if name.startswith(prefix):
                x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
                found.append((page, min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), name))
    return found


@pytest.mark.parametrize(("client", "paper"), [
    ("sample-couple", "letter"), ("sample-couple", "a4"),
    ("sample-group", "letter"), ("sample-group", "a4")])
def test_choice_table_fits_a_portrait_page(render, client, paper):
    """4 choices for each of 2 (one table) or 3 partners (a table each) stay inside the margins."""
    boxes = [b for b in _widgets(render(client, paper=paper, fillable=True),
                                 "gentle-touch-moments.p") if ".extra-1." in b[5]]
    partners = 2 if client == "sample-couple" else 3
    assert len(boxes) == partners * 8 * 4  # 8 items, 4 choices, each partner
    for page, x0, y0, x1, y1, name in boxes:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert height > width  # portrait
        assert 12 * MM <= x0 and x1 <= width - 12 * MM, name
        assert 18 * MM <= y0 and y1 <= height - 18 * MM, name
        assert (x1 - x0) >= 3 * MM, name  # a box a finger can tick
    # the boxes of one row do not overlap
    row = sorted(b[1] for b in boxes if ".item-1." in b[5] and b[0] is boxes[0][0]
                 and (partners == 2 or ".p1." in b[5]))
    assert all(b - a >= 3 * MM for a, b in zip(row, row[1:], strict=False)), row


def _tracker_rows(path):
    """The row labels of the tracker on the page after a worksheet's title."""
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for table in page.extract_tables():
                header = [c or "" for c in table[0]]
                if header[1:] == [f"Day {d}" for d in range(1, 8)]:
                    yield page.page_number, [(r[0] or "").replace("\n", " ") for r in table[1:]]


@pytest.mark.parametrize(("client", "rows"), [
    ("sample-couple", ["Alex", "Sam"]), ("sample-individual", ["J. R."]),
    ("sample-group", ["Noor", "Tomás", "Kai"])])
def test_tracker_has_one_row_per_partner(render, examples, client, rows):
    trackers = list(_tracker_rows(render(client)))
    profile = load_profile(examples / "clients" / f"{client}.yaml")
    lib = load_library()
    # A private worksheet gives each partner a tracker of their own, on their own page.
    expected = [labels for ritual in profile.rituals
                for labels in ([[name] for name in rows]
                               if lib.get(ritual).private and len(rows) > 1 else [rows])]
    assert [labels for _, labels in trackers] == expected, trackers


def _column_text(pdf) -> str:
    """The body text page by page, the left half of each page before its right half, so
    that one writer's prompts, two to a row, read one after the other."""
    out = []
    for page in pdf.pages:
        for x0, x1 in ((0, page.width / 2), (page.width / 2, page.width)):
            out.append(page.crop((x0, 20 * MM, x1, page.height - 20 * MM)).extract_text() or "")
    return normalise(" ".join(out))


@pytest.mark.parametrize(("client", "names"), [
    ("sample-couple", ["Alex", "Sam"]), ("sample-group", ["Noor", "Tomás", "Kai"])])
def test_each_prompt_gives_each_partner_a_labelled_space(render, examples, client, names):
    profile = load_profile(examples / "clients" / f"{client}.yaml")
    lib = load_library()
    with pdfplumber.open(render(client)) as pdf:
        text = normalise(" ".join(body_text(p) for p in pdf.pages))
        columns = _column_text(pdf)
    for ritual in profile.rituals:
        for prompt in lib.get(ritual).for_reader(profile.reader).prompts:
            if lib.get(ritual).private:  # once on each partner's own page, unlabelled
                assert columns.count(normalise(prompt)) == len(names), prompt
                continue
            after = text.split(normalise(prompt), 1)
            assert len(after) == 2, prompt
            assert after[1].strip().startswith(" ".join(names)), (prompt, after[1][:60])


def test_individual_prompts_have_one_unlabelled_space(render, examples):
    profile = load_profile(examples / "clients" / "sample-individual.yaml")
    module = load_library().get(profile.rituals[0]).for_reader("individual")
    with pdfplumber.open(render("sample-individual")) as pdf:
        text = _column_text(pdf)  # one writer: the prompts sit two to a row
    after = text.split(normalise(module.prompts[0]), 1)[1]
    assert not after.startswith("J. R."), after[:40]
    assert normalise(module.prompts[1]) in after


def test_tracker_hint_counts_practice_never_a_score():
    from handouts.render.html import labels

    for language in ("en", "es"):
        hint = labels(language)["tracker_hint"].lower()
        assert not re.search(r"\b(goal|streak|miss(ed)?|fail|should|must|owe)", hint), hint
        assert "score" in hint or "puntuación" in hint


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


def test_the_practices_follow_the_readings_and_each_title_keeps_its_reading(render, examples):
    lib = load_library()
    modules = [lib.get(i).for_reader("couple") for i in load_profile(
        examples / "clients" / "sample-couple.yaml").rituals]
    with pdfplumber.open(render()) as pdf:
        pages = [normalise(body_text(p)) for p in pdf.pages]
    pages = [t for t in pages if "IN THIS WORKBOOK" not in t.upper()]  # not the contents
    # the practices run on after the readings, their part label over the first title
    first = next(t for t in pages if normalise(modules[0].title) in t)
    assert "PRACTICES TO TRY" in first.split(normalise(modules[0].title))[0][-40:], first[:80]
    for module in modules:
        hits = [t for t in pages if normalise(module.title) in t]
        assert hits, module.title
        # never a title alone at the foot of a page: its first lines follow on that page
        opening = normalise(module.body.split("\n\n")[0])[:40]
        assert opening in hits[0].split(normalise(module.title), 1)[1], module.title


@pytest.mark.parametrize("options", [{}, {"paper": "a4"}, {"fillable": True}])
def test_no_page_is_only_a_heading_or_nearly_empty(render, examples, options):
    names = load_profile(examples / "clients" / "sample-couple.yaml").names
    with pdfplumber.open(render(**options)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            text = body_text(page).strip()
            lines = [line for line in text.splitlines() if line.strip()]
            assert len(lines) > 1, f"page {number} holds only {lines}"
            bottom = max((c["bottom"] for c in page.chars
                          if c["top"] < page.height - 20 * MM), default=0)
            # Nearly empty only where the next page must start fresh (docs/layout.md).
            following = body_text(pdf.pages[number]) if number < len(pdf.pages) else ""
            assert bottom > page.height * 0.3 or number == len(pdf.pages) or starts_fresh(
                following, names), f"page {number} is nearly empty: {lines[:3]}"


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
        # cards sit three to a row between 15 mm margins: read each column separately
        top, bottom = 20 * MM, pages[0].height - 20 * MM
        edges = [15 * MM + k * (pages[0].width - 30 * MM) / 3 for k in range(4)]
        text = normalise(" ".join(
            p.crop((left, top, right, bottom)).extract_text() or ""
            for p in pdf.pages[pdf.pages.index(pages[0]):]
            for left, right in zip(edges, edges[1:], strict=False)))
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


def _card_pages(pdf):
    first = next(i for i, p in enumerate(pdf.pages) if "Cards to cut out" in body_text(p))
    return [p for p in pdf.pages[first:] if "References" not in body_text(p)
            and "Where these ideas come from" not in body_text(p)]


@pytest.mark.parametrize("options", [{}, {"paper": "a4"}, {"large_print": True}])
def test_cut_out_cards_are_all_the_same_size(render, options):
    with pdfplumber.open(render(**options)) as pdf:
        for page in _card_pages(pdf):
            kinds = sorted({(round(w["top"], 1), round(w["x0"], 1)) for w in page.extract_words()
                            if w["text"] in ("DAILY", "A") and w["top"] > 20 * MM
                            and page.crop((w["x0"], w["top"] - 1, page.width, w["bottom"] + 1))
                            .extract_text().startswith(("DAILY RITUAL", "A WAY TO BEGIN"))})
            tops = sorted({top for top, _ in kinds})
            lefts = sorted({left for _, left in kinds})
            pitches = [round(b - a, 1) for a, b in zip(tops, tops[1:], strict=False)]
            assert not pitches or max(pitches) - min(pitches) <= 0.5, f"uneven rows: {pitches}"
            columns = [round(b - a, 1) for a, b in zip(lefts, lefts[1:], strict=False)]
            assert not columns or max(columns) - min(columns) <= 0.5, f"uneven: {columns}"


def test_card_words_never_break_at_their_hyphen(render):
    """A card never prints "six-" at a line's end and "second" on the next."""
    with pdfplumber.open(render(large_print=True)) as pdf:
        for page in _card_pages(pdf):
            for line in (page.extract_text() or "").splitlines():
                assert not re.search(r"\w-$", line.strip()), line


def test_crisis_lines_of_the_language_are_printed(render, examples):
    profile = load_profile(examples / "clients" / "sample-couple.yaml")
    assert any("Domestic Violence" in line.label for line in profile.crisis)
    with pdfplumber.open(render()) as pdf:
        safety = next(normalise(body_text(p)) for p in pdf.pages
                      if "If you are in crisis" in body_text(p))
    for line in profile.crisis:
        assert normalise(line.label) in safety, line.label
        assert line.number in safety, line.number
        assert normalise(line.text) in safety, line.text
    assert "800-799-7233" in safety and "START to 88788" in safety


def test_a_practice_s_own_crisis_lines_replace_the_defaults(tmp_path, examples):
    raw = read_profile(examples / "clients" / "sample-individual.yaml")
    lines = [{"label": "Harbor Women's Shelter", "number": "555-0142", "text": "Day or night."},
             {"label": "Local crisis team", "number": "555-0199"}]
    profile = validate({**raw, "crisis_lines": {"en": lines}})
    out = write_pdf(render_html(assemble(profile, load_library())), tmp_path / "h.pdf",
                    extra_files=[profile.practice_logo])
    with pdfplumber.open(out) as pdf:
        text = normalise(" ".join(body_text(p) for p in pdf.pages))
    for line in lines:
        assert normalise(line["label"]) in text and line["number"] in text
    assert "988" not in text.split("If you are in crisis")[1][:300]


def test_closing_words_have_a_heading_and_follow_the_last_prompt(render, examples):
    profile = load_profile(examples / "clients" / "sample-couple.yaml")
    lib = load_library()
    closing = lib.get("rituals-closing")
    last_prompt = lib.get(profile.rituals[-1]).for_reader("couple").prompts[-1]
    with pdfplumber.open(render()) as pdf:
        pages = [normalise(body_text(p)) for p in pdf.pages]
    hits = [i for i, p in enumerate(pages) if normalise(closing.title) in p]
    assert len(hits) == 1, "the closing words are printed once, under their heading"
    # after the last prompt: on its page, or (after a partner's own page, which holds only
    # what they fill in) at the top of the next
    last = max(i for i, p in enumerate(pages) if normalise(last_prompt) in p)
    at = hits[0]
    if at == last:
        assert pages[at].index(normalise(last_prompt)) < pages[at].index(normalise(closing.title))
    else:
        assert at == last + 1 and pages[at].startswith(normalise(closing.title)), pages[at][:80]


@pytest.mark.parametrize("client", ["sample-couple", "sample-individual", "sample-group"])
def test_looking_back_never_ends_a_page(render, client):
    with pdfplumber.open(render(client)) as pdf:
        for page in pdf.pages:
            lines = [line for line in body_text(page).splitlines() if line.strip()]
            if "Looking back" in lines:
                # the heading shares its page with at least its first prompt
                assert lines.index("Looking back") < len(lines) - 1, (page.page_number, lines[-3:])
