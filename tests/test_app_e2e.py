"""End to end: `handouts app` (Voilà) in headless Chromium, as a therapist uses the form.

Fill the form, see "unknown id" for a typo at once, build, page through the large view,
then check the PDF and the saved profile. Skips like tests/test_lab_e2e.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest
from test_lab_e2e import _browser, _free_port, _missing, _pdf_words, private_env

from handouts.content.library import load_library
from handouts.plan.validation import load_profile

REQUIRED = os.environ.get("HANDOUTS_REQUIRE_E2E") == "1"


def _wait_for_port(server, port: int) -> None:
    import socket
    import time

    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail("Voilà did not start within 90 s")
            time.sleep(0.5)


def _ready() -> None:
    """Skip (or fail, when end-to-end tests are required) without Chromium or Voilà."""
    missing = _missing()
    try:
        import voila  # noqa: F401
    except ImportError:
        missing = missing or "pip install '.[e2e]' (voila missing)"
    if missing:
        if REQUIRED:
            pytest.fail(f"end-to-end test cannot run: {missing}")
        pytest.skip(missing)


def _stop(server) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture
def app(tmp_path):
    _ready()
    from handouts.ui.lab import serve

    folder = tmp_path / "practice"
    port = _free_port()
    server = serve(folder, "app", port=port, browser=False, env=private_env(tmp_path))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_port(server, port)
        yield base, "e2e-token", folder
    finally:
        _stop(server)


@contextlib.contextmanager
def _form_page(app):
    """Yield the app's form in Chromium, loaded and ready, as the therapist sees it."""
    from playwright.sync_api import sync_playwright

    base, token, _ = app
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(f"{base}/?token={token}")
            page.wait_for_selector("button:has-text('Build the handout')", timeout=120_000)
            yield page
        finally:
            browser.close()


def _get(url: str) -> tuple[int, bytes, str]:
    """GET *url* without following redirects; return the status, body and Location."""
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=120) as response:
            return response.status, response.read(), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Location") or ""


def _refused(status: int, body: bytes, location: str) -> bool:
    return status in (401, 403) or (status in (301, 302, 303, 307) and
                                    location.startswith("/login"))


def test_every_route_of_the_app_needs_the_token(app):
    import re

    base, token, folder = app
    chart = folder / "output" / "c-7" / "progress.png"  # as `handouts progress --chart` saves it
    chart.parent.mkdir(mode=0o700)
    chart.write_bytes(b"\x89PNG\r\n\x1a\n practice days of c-7")
    chart.with_suffix(".svg").write_text("<svg><text>practice days of c-7</text></svg>")
    status, page, _ = _get(f"{base}/?token={token}")
    assert status == 200 and b"voila.js" in page
    kernel = re.search(rb'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', page)
    assert kernel, "the form's page names its kernel"
    routes = ["/", "/voila/files/output/c-7/progress.png",
              "/voila/files/output/c-7/progress.svg", "/voila/files/logo.svg",
              "/voila/static/voila.js", "/voila/templates/lab/static/voila.js",
              "/voila/labextensions/@voila-dashboards/jupyterlab-preview/package.json",
              "/voila/api/themes/@jupyterlab/theme-light-extension/index.css",
              f"/api/kernels/{kernel.group(0).decode()}"]
    for route in routes:
        status, body, location = _get(base + route)
        assert _refused(status, body, location), f"{route} answered {status} without the token"
        assert b"c-7" not in body and b"Build the handout" not in body and len(body) < 100
        status, body, _ = _get(f"{base}{route}?token={token}")
        assert status == 200 and body, f"{route} answered {status} with the token"
    assert b"practice days of c-7" in _get(
        f"{base}/voila/files/output/c-7/progress.svg?token={token}")[1]


def test_the_url_the_app_opens_logs_the_therapist_in(tmp_path):
    """`handouts app FOLDER` as a therapist starts it: the browser it opens shows the form."""
    import sys

    _ready()
    from playwright.sync_api import sync_playwright

    opened = tmp_path / "opened.txt"
    browser_script = tmp_path / "browser.sh"  # stands in for the desktop's browser
    browser_script.write_text(f'#!/bin/sh\nprintf %s "$1" > {opened}\n')
    browser_script.chmod(0o700)
    env = {**os.environ, **private_env(tmp_path), "BROWSER": f"{browser_script} %s"}
    env.pop("HANDOUTS_TOKEN")  # the app makes its own token, as for a therapist
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "handouts", "app", str(tmp_path / "practice"),
         "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        printed = ""
        while "?token=" not in printed:
            line = server.stderr.readline()
            if not line:
                pytest.fail("the app ended before printing its address")
            printed = line.strip() if f":{port}/" in line else printed
        _wait_for_port(server, port)
        deadline = time.monotonic() + 30
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        with sync_playwright() as p:
            browser = _browser(p)
            try:
                for url in (opened.read_text(), printed):
                    page = browser.new_page()
                    page.goto(url)
                    page.wait_for_selector("button:has-text('Build the handout')",
                                           timeout=120_000)
                    assert "/login" not in page.url
                    assert "Harbor Light Couples Therapy" in page.inner_text("body")
                    page.close()
            finally:
                browser.close()
        token = printed.split("?token=", 1)[1]
        processes = _tree(server.pid)  # the CLI, Voilà and the form's kernels
        assert len(processes) >= 3 and token
        for pid in processes:  # no other local user can read the token off a process
            assert token.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    finally:
        _stop(server)
        server.stderr.close()


def _tree(pid: int) -> list[int]:
    """Return *pid* and its descendants (the CLI, Voilà, the kernels)."""
    found = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found += _tree(int(child))
    return found


def test_a_therapist_fills_the_form_builds_and_reads_the_pages(app, tmp_path):
    folder = app[2]
    with _form_page(app) as page:
        assert "Harbor Light Couples Therapy" in page.inner_text("body")  # the practice

        def field(label: str):
            return page.locator(f".widget-text:has(label:text-is('{label}')) input")

        field("Client id").fill("c-2001")
        field("Session date").fill("2026-12-01")
        page.locator("input[placeholder='name or initials']").first.fill("Marisol")
        page.locator("input[placeholder='pronouns (optional)']").first.fill("she/her")
        page.click("button:has-text('Add a partner')")
        page.locator("input[placeholder='name or initials']").nth(1).fill("On")
        kiss = load_library().get("six-second-kiss").title
        page.locator("select:has(option:text-is('Pick a ritual…'))").select_option(
            label=f"{kiss} (six-second-kiss)")  # picked from the list, not typed
        page.wait_for_function("""() => [...document.querySelectorAll('input')]
            .some(i => i.value === 'six-second-kiss')""")
        field("Modules").fill("barometr")
        page.get_by_text("unknown id 'barometr' (did you mean 'barometer'?)").wait_for()
        field("Modules").fill("barometer")
        page.get_by_text("unknown id 'barometr'").wait_for(state="detached")
        page.locator("textarea[placeholder^='Markdown; prints']").fill("See you on Monday.")
        page.locator("input[placeholder='optional; never saved']").fill("pw-never-saved")
        page.click("button:has-text('Build the handout')")
        page.wait_for_selector(".handouts-built", timeout=180_000)
        page.wait_for_selector(".handouts-page:has-text('page 1 of')")
        page.click("button:has-text('Next page')")
        page.wait_for_selector(".handouts-page:has-text('page 2 of')")
        page.locator(".handouts-built").scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "app.png"), full_page=False)
        if os.environ.get("HANDOUTS_SCREENSHOTS_APP"):
            shutil.copy(tmp_path / "app.png", Path(os.environ["HANDOUTS_SCREENSHOTS_APP"]))
        shown = page.locator(".widget-image img, img.widget-image").first
        assert shown.bounding_box()["width"] >= 700  # large enough to read
    saved = folder / "clients" / "c-2001.yaml"
    assert "pw-never-saved" not in saved.read_text()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    profile = load_profile(saved)  # what `handouts build` reads
    assert [p.name for p in profile.partners] == ["Marisol", "On"]
    assert profile.modules == ("barometer",) and profile.rituals == ("six-second-kiss",)
    pdf = folder / "output" / "c-2001" / "2026-12-01-connection.pdf"
    import pypdf

    reader = pypdf.PdfReader(str(pdf))
    assert reader.is_encrypted and reader.decrypt("pw-never-saved")
    words = " ".join(page.extract_text() for page in reader.pages)
    assert "Marisol" in words and "Harbor Light Couples Therapy" in words
    assert "pw-never-saved" not in pdf.with_suffix(".ipynb").read_text()
    assert _pdf_words  # shared helper


def test_the_app_reads_picked_filled_handouts_back(app, tmp_path):
    from test_harvest import build, fill_with_pypdf

    folder = app[2]
    blank = build(folder / "output", "2026-11-10")  # last week's fillable handout, c-7
    filled = fill_with_pypdf(blank, tmp_path / "came-back.pdf", {
        "six-second-kiss.p1.day-2": "/on", "six-second-kiss.p1.day-4": "/on",
        "six-second-kiss.p1.day-6": "/on", "six-second-kiss.p1.prompt-1": "Slower mornings."})
    stranger = tmp_path / "stranger.pdf"
    stranger.write_bytes(b"%PDF-1.4 not a handout")
    with _form_page(app) as page:
        page.wait_for_selector("text=Filled handouts and progress")
        with page.expect_file_chooser() as chooser:  # as a person picks files
            page.click("button:has-text('Pick filled handouts')")
        chooser.value.set_files([str(filled), str(stranger)])
        page.wait_for_selector(".handouts-harvested:has-text('added: came-back.pdf')",
                               timeout=60_000)
        page.wait_for_selector("text=Days practised", timeout=60_000)  # then the report
        shown = page.inner_text("body")
        assert "stranger.pdf" in shown  # the bad file is named; it fails alone
        assert "Days practised" in shown and "Slower mornings." in shown
        page.locator("text=Days practised").scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "progress.png"))
        if os.environ.get("HANDOUTS_SCREENSHOTS_PROGRESS"):
            shutil.copy(tmp_path / "progress.png",
                        Path(os.environ["HANDOUTS_SCREENSHOTS_PROGRESS"]))
    history = folder / "output" / "c-7" / "history.jsonl"
    assert "Slower mornings." in history.read_text()
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    assert not list(folder.rglob("came-back*")) and not list(folder.rglob("stranger*"))
