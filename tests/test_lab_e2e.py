"""End to end: JupyterLab on localhost, the connection workbook run in headless Chromium.

Needs the `e2e` extra and Debian's chromium (/usr/bin/chromium); `.ci/run` installs both
and sets HANDOUTS_REQUIRE_E2E=1 so a missing piece fails there instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from handouts.core.resources import workbook_path

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


def _lab_state(page) -> str:
    """Describe what the lab shows: the status bar and any open dialog."""
    status = page.locator("#jp-main-statusbar").inner_text().replace("\n", " ")
    dialog = page.locator(".jp-Dialog")
    shown = dialog.first.inner_text().replace("\n", " / ") if dialog.count() else "none"
    return f"status bar: {status!r}; dialog: {shown!r}"


def _wait_for_kernel(page) -> None:
    """Wait until the notebook's kernel has started and is idle.

    The toolbar's execution indicator says idle while the kernel is still initializing;
    a Run All Cells then opens "Select Kernel" or runs nothing. The status bar's kernel
    item ("Python 3 (ipykernel) | Idle") is only idle once the kernel answers.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=90_000)
    try:
        page.wait_for_function(
            "() => /\\| Idle\\b/.test("
            "document.querySelector('#jp-main-statusbar')?.innerText || '')",
            timeout=90_000)
    except PlaywrightTimeout:
        pytest.fail(f"the kernel did not become idle within 90 s; {_lab_state(page)}")


def _run_all(page, wait_for: str, tmp_path: Path, timeout: float = 60_000) -> None:
    """Click Run > Run All Cells until *wait_for* appears; fail saying what Lab shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(3):  # the menu bar can swallow a click while Lab settles
        page.click("li[role='menuitem'] >> text=Run")
        page.click("li[role='menuitem'] >> text=Run All Cells")
        try:
            page.wait_for_selector(wait_for, timeout=timeout)
            return
        except PlaywrightTimeout:
            continue
    page.screenshot(path=str(tmp_path / "lab-failed.png"))
    pytest.fail(f"{wait_for} did not appear after Run All Cells; {_lab_state(page)}")


def test_run_all_in_jupyterlab_shows_the_preview_and_writes_the_pdf(lab, tmp_path):
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
            _wait_for_kernel(page)
            _run_all(page, ".handouts-preview img", tmp_path)
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


def _browser(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync"])


def _wait_for_server(server, url: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail(f"server did not start within 90 s ({url.split('?')[0]})")
            time.sleep(0.5)


def private_env(tmp_path) -> dict[str, str]:
    home = tmp_path / "home"
    env = {"HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "run"),
           "HANDOUTS_TOKEN": "e2e-token"}
    os.environ.pop("HANDOUTS_FRONT_END", None)
    return env


@pytest.fixture
def practice_lab(tmp_path):
    """`handouts lab FOLDER` as a therapist starts it: a new practice folder, the save hook."""
    missing = _missing()
    if missing:
        if REQUIRED:
            pytest.fail(f"end-to-end test cannot run: {missing}")
        pytest.skip(missing)
    from handouts.ui.lab import serve

    folder = tmp_path / "practice"
    port = _free_port()
    server = serve(folder, "lab", port=port, browser=False, env=private_env(tmp_path))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(server, f"{base}/api/status?token=e2e-token")
        yield base, "e2e-token", folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _built_from_a_profile(folder: Path, out: Path, **changes) -> bytes:
    """Build the workbook's own parameters, with *changes*, as a profile with the CLI."""
    import ast

    import yaml

    from handouts.plan.profile import Profile
    from handouts.ui.cli import main

    notebook = json.loads((folder / "connection.ipynb").read_text())
    cell = next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))
    values = {node.target.id: ast.literal_eval(node.value)
              for node in ast.parse("".join(cell["source"])).body
              if isinstance(node, ast.AnnAssign) and node.value is not None}
    fields = set(Profile.model_fields)  # the cell also holds workbook-only settings
    values = {k: v for k, v in {**values, **changes}.items() if v is not None and k in fields}
    values["practice"] = str(folder / "practice.yaml")
    profile = out / "client.yaml"
    out.mkdir()
    profile.write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    assert main(["build", str(profile), "-o", str(out), "--no-record"]) == 0
    return next(out.rglob("*.pdf")).read_bytes()


def _pdf_words(path: Path) -> str:
    import pypdf

    return " ".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


def test_a_therapist_edits_runs_reruns_and_saves_in_handouts_lab(practice_lab, tmp_path):
    """Edit the client name, Run All; run the print cell alone after changing the
    parameters (refused, one line); break the parameters cell (one sentence, no PDF for the
    wrong client); save: the workbook and its checkpoint hold no client data."""
    from playwright.sync_api import sync_playwright

    base, token, folder = practice_lab
    pdf = folder / "output" / "sample-couple" / "2026-11-24-connection.pdf"
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/lab/tree/connection.ipynb?token={token}")
            _wait_for_kernel(page)
            params = page.locator(".jp-CodeCell").filter(has_text="# Parameters of this handout")
            printer = page.locator(".jp-CodeCell").filter(has_text="session.write(handout)")

            def append_to_parameters(line: str) -> None:
                params.locator(".cm-content").click()
                page.keyboard.press("Control+End")
                page.keyboard.insert_text("\n" + line)

            def run_all(wait_for: str) -> None:
                _run_all(page, wait_for, tmp_path, timeout=90_000)

            # 1. Edit the parameters (the client's name), Run All: the PDF names her.
            append_to_parameters('partners = [{"name": "Wren Okafor"}]\nnote = "See you soon."')
            run_all(".handouts-preview img")
            assert "Wren Okafor" in _pdf_words(pdf)
            assert "Alex" not in _pdf_words(pdf)
            first = pdf.read_bytes()
            # No toast asks the therapist about Jupyter's news feed (no calls out of Lab).
            assert "Jupyter news" not in page.locator("body").inner_text()
            # The same client through `handouts build` gives the very same PDF.
            assert _built_from_a_profile(folder, partners=[{"name": "Wren Okafor"}],
                                         note="See you soon.", out=tmp_path / "b") == first

            # 1b. Edit the note and Run All again: the kernel lays out only the changed
            # part (its last build is kept), and the PDF is still what a build prints.
            append_to_parameters('note = "See you soon. Bring the tracker."')
            run_all(".handouts-preview img")
            deadline = time.monotonic() + 90
            while pdf.read_bytes() == first and time.monotonic() < deadline:
                time.sleep(0.5)
            page.wait_for_selector(".handouts-preview img", timeout=90_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            assert "Bring the tracker." in " ".join(_pdf_words(pdf).split())
            first = pdf.read_bytes()
            assert _built_from_a_profile(folder, partners=[{"name": "Wren Okafor"}],
                                         note="See you soon. Bring the tracker.",
                                         out=tmp_path / "b2") == first

            # 2. Change the parameters, run that cell alone, then only the print cell.
            append_to_parameters('partners = [{"name": "Ivo Marsh"}]')
            params.locator(".cm-content").click()
            page.keyboard.press("Control+Enter")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            printer.locator(".cm-content").click()
            page.keyboard.press("Control+Enter")
            refusal = printer.locator(".jp-OutputArea-output").filter(has_text="run all cells")
            refusal.wait_for(timeout=60_000)
            shown = refusal.inner_text().strip()
            assert "parameters cell ran again" in shown and "\n" not in shown
            assert "Traceback" not in printer.inner_text()
            assert pdf.read_bytes() == first  # not rebuilt, for anyone

            # 3. A syntax error in the parameters cell: one plain sentence, no PDF for Ivo.
            append_to_parameters('partners = [{"name": "Quill"')
            # Lab's Run All stops at the parameters cell or runs on to the session cell;
            # either way the syntax error is one sentence and no PDF is made.
            run_all(".jp-CodeCell .jp-OutputArea-output:has-text('put text in quotes')")
            sentence = page.locator(".jp-OutputArea-output").filter(
                has_text="put text in quotes").first
            sentence.scroll_into_view_if_needed()
            page.mouse.wheel(0, -250)
            page.screenshot(path=str(tmp_path / "lab.png"))
            if os.environ.get("HANDOUTS_SCREENSHOTS"):
                shutil.copy(tmp_path / "lab.png", Path(os.environ["HANDOUTS_SCREENSHOTS"]))
            shown = sentence.inner_text().strip()
            assert "parameters cell: line " in shown and "\n" not in shown
            notebook_text = page.locator(".jp-Notebook").inner_text()
            assert "Traceback" not in notebook_text and "SyntaxError" not in notebook_text
            assert pdf.read_bytes() == first
            assert not any("Quill" in _pdf_words(p) or "Ivo" in _pdf_words(p)
                           for p in (folder / "output").rglob("*.pdf"))

            # 4. Save: no outputs, no client parameters, in the file and its checkpoint.
            page.keyboard.press("Control+s")
            checkpoint = folder / ".ipynb_checkpoints" / "connection-checkpoint.ipynb"
            deadline = time.monotonic() + 30
            while not checkpoint.exists() and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            browser.close()
    import stat

    for saved in (folder / "connection.ipynb", checkpoint):
        text = saved.read_text()
        for name in ("Wren", "Ivo", "Quill", "image/png"):
            assert name not in text, f"{saved.name} holds {name}"
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600, saved
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
