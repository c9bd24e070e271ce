"""End to end: JupyterLab on localhost, the connection workbook run in headless Chromium.

Needs the `e2e` extra and Debian's chromium (/usr/bin/chromium); `.ci/run` installs both
and sets HANDOUTS_REQUIRE_E2E=1 so a missing piece fails there instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from handouts.resources import workbook_path

CHROMIUM = os.environ.get("HANDOUTS_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("HANDOUTS_REQUIRE_E2E") == "1"


def _missing() -> str | None:
    try:
        import ipywidgets  # noqa: F401
        import jupyterlab  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"pip install '.[e2e]' ({exc.name} missing)"
    if not Path(CHROMIUM).exists():
        return f"apt install chromium ({CHROMIUM} missing)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    missing = _missing()
    if missing:
        if REQUIRED:
            pytest.fail(f"end-to-end test cannot run: {missing}")
        pytest.skip(missing)
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(workbook_path("connection"), root / "connection.ipynb")
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "run")}
    env.pop("HANDOUTS_FRONT_END", None)
    port, token = _free_port(), "e2e-token"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--ServerApp.port_retries=0"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("JupyterLab did not start within 90 s")
                time.sleep(0.5)
        yield base, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def test_run_all_in_jupyterlab_shows_the_preview_and_writes_the_pdf(lab, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    base, token, root = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/connection.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                                   timeout=90_000)
            for attempt in range(3):  # the menu bar can swallow a click while Lab settles
                page.click("li[role='menuitem'] >> text=Run")
                page.click("li[role='menuitem'] >> text=Run All Cells")
                try:
                    page.wait_for_selector(".handouts-preview img", timeout=60_000)
                    break
                except PlaywrightTimeout:
                    if attempt == 2:
                        raise
            page.wait_for_selector(".jupyter-widgets button:has-text('Build and preview')",
                                   timeout=60_000)
            thumbnails = page.locator(".handouts-preview img").count()
            page.screenshot(path=str(tmp_path / "lab.png"))
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/"
                                  "vnd.jupyter.stderr']").count()
        finally:
            browser.close()
    pdfs = list((root / "output").rglob("*.pdf"))
    assert len(pdfs) == 1
    import pypdf

    assert thumbnails == len(pypdf.PdfReader(str(pdfs[0])).pages)  # every page, in a lab
    assert errors == 0
