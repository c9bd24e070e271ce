"""The screen editions (issue 34): the demo couple as one web page and as an EPUB, built
from the CLI; the page opened in Chromium at phone size with 200 % text, scanned with
axe-core, filled, saved and harvested; the e-book read with ebooklib.

The Chromium test needs playwright, axe-playwright-python (the `e2e` extra) and the
system Chromium; it skips like tests/test_lab_e2e.py (and fails under
HANDOUTS_REQUIRE_E2E=1).
"""

from __future__ import annotations

import json
import os
import re
import stat
import zipfile
from pathlib import Path

import pytest
from lxml import html as lxml_html

from handouts.core.files import output_paths
from handouts.plan.assemble import plan_packets
from handouts.plan.validation import load_profile
from handouts.render.html import render_html
from handouts.ui.cli import main

CHROMIUM = os.environ.get("HANDOUTS_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("HANDOUTS_REQUIRE_E2E") == "1"
NAMES = ("Alex", "Sam", "Robin Example")  # the demo couple and their therapist
# Every way a page could ask for something outside itself.
_REFERENCE = re.compile(r"""(?:\b(?:src|href|action|poster|data|srcset)\s*=\s*["']?([^"'\s>]*))"""
                        r"""|url\(\s*["']?([^"')]*)|@import\s+["']?([^"';]*)""", re.I)


@pytest.fixture(scope="module")
def built(tmp_path_factory, examples):
    """The demo couple built from the CLI as a web page and as an e-book."""
    out = tmp_path_factory.mktemp("screen") / "output"
    profile = examples / "clients" / "sample-couple.yaml"
    for kind in ("html", "epub"):
        assert main(["build", str(profile), "-o", str(out), "--format", kind]) == 0
    folder = out / "sample-couple"
    return out, folder / "2026-11-24-connection.html", folder / "2026-11-24-connection.epub"


def _headings(tree) -> list[int]:
    return [int(h.tag[1]) for h in tree.iter("h1", "h2", "h3", "h4", "h5", "h6")]


def test_the_web_page_is_self_contained_structured_and_has_the_pdfs_fields(built, examples):
    out, page, _ = built
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    text = page.read_text(encoding="utf-8")
    scripts = re.findall(r"<script>(.*?)</script>", text, flags=re.S)
    assert len(scripts) == 1  # the page's own: it saves a file and sends nothing
    assert not re.search(r"https?:|fetch\(|XMLHttpRequest|sendBeacon|WebSocket|localStorage"
                         r"|indexedDB|document\.cookie", scripts[0])
    markup = text.replace(scripts[0], "")
    references = [next(g for g in m.groups() if g is not None)
                  for m in _REFERENCE.finditer(markup)]
    assert references, "the check found no references at all"
    outside = [r for r in references if not (r.startswith(("#", "data:")) or r == "")]
    assert outside == [], f"the page refers outside itself: {outside[:5]}"
    assert "<link" not in markup and not re.search(r"<script[^>]*\bsrc", markup)
    tree = lxml_html.fromstring(text)
    assert tree.get("lang") == "en"
    policy = tree.find(".//meta[@http-equiv='Content-Security-Policy']").get("content")
    assert "default-src 'none'" in policy and "form-action 'none'" in policy
    assert len(tree.findall(".//main")) == 1
    nav = tree.find(".//main//nav")
    assert nav is not None and len(nav.findall(".//a")) >= 10
    levels = _headings(tree)
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    assert all(img.get("alt") for img in tree.iter("img"))
    # Nothing personal in the title or the file name; the names only where the PDF has them.
    title = tree.findtext(".//title")
    assert title == "Connection workbook" and not any(n in page.name for n in NAMES)
    cover = tree.find_class("cover")[0].text_content()
    assert "Alex" in cover and "Sam" in cover
    # The same field ids as the fillable PDF (its prefilled names and dates are text here).
    pdf_profile = load_profile(examples / "clients" / "sample-couple.yaml").model_copy(
        update={"fillable": True})
    pdf_html = render_html(plan_packets(pdf_profile)[0].handout)
    pdf_fields = {n for n in re.findall(r'<(?:input|textarea)[^>]*\bname="([^"]+)"', pdf_html)
                  if not n.endswith((".names", ".week-of"))}
    page_fields = {el.get("name") for el in tree.iter("input", "textarea") if el.get("name")}
    assert page_fields == pdf_fields and len(page_fields) > 100
    # Every field has a visible label or is named by one.
    for field in tree.iter("textarea"):
        labelled = field.get("aria-labelledby", "").split()
        assert labelled and all(tree.get_element_by_id(i) is not None for i in labelled)


def test_the_ebook_has_navigation_language_and_no_personal_metadata(built):
    from ebooklib import epub

    _, _, book_path = built
    with zipfile.ZipFile(book_path) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        opf = archive.read("EPUB/content.opf").decode("utf-8")
        pages = {n: archive.read(n).decode("utf-8") for n in archive.namelist()
                 if n.endswith(".xhtml")}
    book = epub.read_epub(str(book_path), {"ignore_ncx": True})
    assert book.get_metadata("DC", "title")[0][0] == "Connection workbook"
    assert book.get_metadata("DC", "language")[0][0] == "en"
    assert not book.get_metadata("DC", "creator")
    metadata = opf.split("<manifest")[0]
    assert not any(name in metadata for name in (*NAMES, "Harbor Light")), metadata
    assert "nav.xhtml" in pages["EPUB/nav.xhtml"] or 'epub:type="toc"' in pages["EPUB/nav.xhtml"]
    chapters = [n for n in pages if "/part-" in n]
    assert len(chapters) >= 15  # cover, front, each article, practice and script, back
    assert all('lang="en"' in pages[n] and 'xml:lang="en"' in pages[n] for n in chapters)
    body = "".join(pages[n] for n in chapters)
    assert "Alex" in body and "A six-second pause to greet each other" in body
    assert 'href="part-2.xhtml#safety"' in body  # the contents point into the chapters
    assert not re.search(r"""(?:src|href)=["']https?:""", body)


def test_a_discreet_web_page_is_neutral_in_its_name_and_title(examples, tmp_path):
    profile = load_profile(examples / "clients" / "sample-couple.yaml").model_copy(
        update={"format": "html", "discreet": True})
    packet = plan_packets(profile)[0]
    path, record = output_paths(tmp_path, packet.profile, "connection")
    assert path.name == "2026-11-24-notes.html" and record.name.endswith(".html.ipynb")
    tree = lxml_html.fromstring(render_html(packet.handout, screen="html"))
    assert tree.findtext(".//title") == "Reading notes"
    assert "Harbor Light" not in lxml_html.tostring(tree.find(".//header"), encoding="unicode")


def _answers(handout: str, fields: dict) -> dict:
    return {"format": "handouts-answers", "version": 1, "form_schema": "2",
            "handout": handout, "fields": fields}


def test_hostile_answers_files_fail_alone_with_one_line(built, tmp_path, capsys):
    out, page, _ = built
    handout = re.search(r'data-handout="([0-9a-f]{20})"', page.read_text()).group(1)
    secret = "my-private-words"
    cases = {
        "not-json.json": b"{ this is " + secret.encode(),
        "huge.json": b"{" + b" " * 2_000_001 + b"}",
        "deep.json": b"[" * 100_000 + b"]" * 100_000,
        "twice.json": b'{"format": "handouts-answers", "format": "x"}',
        "stranger.json": json.dumps({"format": "something-else"}).encode(),
        "unknown-field.json": json.dumps(_answers(handout, {"six-second-kiss.p1.secret-9":
                                                            secret})).encode(),
        "text-in-a-tick.json": json.dumps(_answers(handout, {"six-second-kiss.p1.day-1":
                                                             secret})).encode(),
        "bad-name.json": json.dumps(_answers(handout, {f"<{secret}>": True})).encode(),
        "too-long.json": json.dumps(_answers(handout, {"six-second-kiss.p1.prompt-1":
                                                       "x" * 6000})).encode(),
        "other-packet.json": json.dumps(_answers("0" * 20, {})).encode(),
        "uploaded.pdf": json.dumps({"format": "handouts-answers"}).encode(),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    capsys.readouterr()
    assert main(["harvest", *(str(tmp_path / n) for n in cases), "-o", str(out)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(cases), lines
    for name, line in zip(cases, lines, strict=True):
        assert line.startswith(f"failed: {tmp_path / name}"), line
        assert secret not in line and len(line) < 400, line


def _ready() -> None:
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        missing = f"pip install '.[e2e]' ({exc.name} missing)"
    else:
        missing = None if Path(CHROMIUM).exists() else f"apt install chromium ({CHROMIUM} missing)"
    if missing:
        if REQUIRED:
            pytest.fail(f"end-to-end test cannot run: {missing}")
        pytest.skip(missing)


def test_on_a_phone_at_200_percent_the_page_reads_fills_saves_and_is_harvested(
        built, tmp_path, capsys, monkeypatch):
    _ready()
    monkeypatch.setenv("COLUMNS", "200")  # the progress tables on one line a row
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    out, page_path, _ = built
    url = page_path.as_uri()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844},
                                          accept_downloads=True)
            page = context.new_page()
            requests, errors = [], []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            page.wait_for_load_state("load")
            page.evaluate("document.documentElement.style.fontSize = '200%'")
            sizes = page.evaluate("[document.documentElement.scrollWidth, "
                                  "document.documentElement.clientWidth, "
                                  "parseFloat(getComputedStyle(document.querySelector('main p'))"
                                  ".fontSize)]")
            font = page.evaluate("document.fonts.check('16px \"Atkinson Hyperlegible\"')")
            page.screenshot(path=str(tmp_path / "phone.png"))
            violations = [v for v in Axe().run(page).response["violations"]
                          if v["impact"] in ("serious", "critical")]
            page.check("input[name='six-second-kiss.p1.day-1']")
            page.check("input[name='six-second-kiss.p2.day-3']")
            page.fill("textarea[name='six-second-kiss.p1.prompt-1']", "We laughed at the timer")
            with page.expect_download() as download:
                page.click("#save-answers")
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
            status = page.inner_text("#save-status")
            # Another day: the saved answers come back into a fresh page.
            again = context.new_page()
            again.goto(url)
            again.set_input_files("#load-answers", str(saved))
            again.wait_for_function("document.getElementById('save-status').textContent")
            restored = again.is_checked("input[name='six-second-kiss.p2.day-3']")
        finally:
            browser.close()
    assert requests == [url], f"the page asked for more than itself: {requests[:5]}"
    assert sizes[0] <= sizes[1] == 390, f"wider than the phone: {sizes}"
    assert sizes[2] >= 32  # 200 % of 16 px
    assert font, "the page's own font did not load"
    assert violations == [], [(v["id"], v["impact"], len(v["nodes"])) for v in violations]
    assert errors == [] and saved.name in status and restored
    assert saved.name == "2026-11-24-answers.json" and saved.stat().st_size < 20_000
    answers = json.loads(saved.read_text())
    assert answers["fields"]["six-second-kiss.p1.day-1"] is True
    assert not any(name in saved.read_text() for name in NAMES)

    capsys.readouterr()
    assert main(["harvest", str(saved), "-o", str(out)]) == 0
    assert "added" in capsys.readouterr().out
    assert main(["progress", "sample-couple", "-o", str(out)]) == 0
    report = capsys.readouterr().out
    assert "We laughed at the timer" in report
    assert re.search(r"six-second pause.*│\s*1\s*│\s*1\s*│", report), report
