"""The practice folder (handouts init) and the save hook that keeps client data out of workbooks."""

from __future__ import annotations

import json
import stat

import nbformat
import pytest

from handouts.core.resources import workbook_path
from handouts.ui.cli import main
from handouts.ui.lab import app_command, init_folder, lab_command, strip_for_save

CANARY = "Zebulon-Canary"


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_a_private_practice_folder(tmp_path, capsys):
    folder = tmp_path / "practice"
    assert main(["init", str(folder)]) == 0
    for name in ("connection", "quick", "own-module", "caseload", "form"):
        assert (folder / f"{name}.ipynb").is_file()
    practice = (folder / "practice.yaml").read_text()
    assert practice.startswith("# EDIT ME") and "FICTIONAL" in practice
    assert (folder / "logo.svg").is_file()
    assert (folder / "clients").is_dir() and (folder / "clients" / "README.txt").is_file()
    assert (folder / ".gitignore").read_text().split("\n")[1:4] == [
        "output/", "clients/", ".ipynb_checkpoints/"]
    for path in [folder, *folder.rglob("*")]:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert "next: edit" in capsys.readouterr().out


def test_init_refuses_to_overwrite_in_one_line(tmp_path, capsys):
    folder = tmp_path / "practice"
    folder.mkdir()
    (folder / "practice.yaml").write_text("practice_name: Mine\n")
    assert main(["init", str(folder)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not overwritten" in err and "practice.yaml" in err
    assert (folder / "practice.yaml").read_text() == "practice_name: Mine\n"
    assert not (folder / "connection.ipynb").exists()


def _executed_with_client(name: str) -> dict:
    """The bundled workbook as a therapist leaves it: client parameters, outputs, widgets."""
    nb = nbformat.read(workbook_path(name), as_version=4)  # as Jupyter Server gives it
    for cell in nb["cells"]:
        if "parameters" in cell["metadata"].get("tags", []):
            cell["source"] = f'client_id = "c-77"\npartners = [{{"name": "{CANARY}"}}]\n'
        if "add_section(" in cell["source"]:  # the therapist's own words for this client
            cell["source"] = (f'session.add_section(title="For {CANARY}", after="end",\n'
                              f'    text="""{CANARY} and Sam agreed to a walk on Sunday.""")')
        if cell["cell_type"] == "code":
            cell["execution_count"] = 3
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"text/plain": CANARY, "image/png": "iVBORw0KGgo="}}]
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"x": {"state": {"value": CANARY}}}, "version_major": 2, "version_minor": 0}}
    return nb


@pytest.mark.parametrize("name", ["connection", "quick"])
def test_save_hook_stores_the_bundled_parameters_and_no_outputs(name):
    model = {"type": "notebook", "content": _executed_with_client(name)}
    strip_for_save(model, path=f"{name}.ipynb", contents_manager=None)
    saved = json.dumps(model["content"])
    assert CANARY not in saved and "c-77" not in saved
    bundled = nbformat.read(workbook_path(name), as_version=4)
    assert [c["source"] for c in model["content"]["cells"]] == [c.source for c in bundled.cells]
    for cell in model["content"]["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    nbformat.validate(nbformat.from_dict(model["content"]))


def test_save_hook_clears_the_own_words_the_therapist_wrote_for_a_client():
    nb = _executed_with_client("connection")
    assert any(CANARY in c["source"] and "add_section" in c["source"] for c in nb["cells"])
    model = {"type": "notebook", "content": nb}
    strip_for_save(model, path="connection.ipynb")
    own = [c["source"] for c in model["content"]["cells"] if "add_section(" in c["source"]]
    assert own and CANARY not in json.dumps(model["content"])
    assert 'text="""\n"""' in own[0]  # the bundled empty section, ready for the next client


def test_save_hook_finds_the_workbook_whatever_the_file_is_called():
    model = {"type": "notebook", "content": _executed_with_client("connection")}
    strip_for_save(model, path="renamed copy.ipynb")
    assert CANARY not in json.dumps(model["content"])


def test_save_hook_leaves_other_files_alone():
    model = {"type": "file", "format": "text", "content": CANARY}
    strip_for_save(model, path="notes.txt")
    assert model["content"] == CANARY


def test_servers_listen_on_loopback_with_the_hook(tmp_path):
    lab = lab_command(tmp_path, port=9999, browser=False)
    assert "--ServerApp.ip=127.0.0.1" in lab
    assert "--ContentsManager.pre_save_hook=handouts.ui.lab.strip_for_save" in lab
    assert not any("token=" in arg.lower() for arg in lab)  # the token is in the environment
    app = app_command(tmp_path, port=9998, browser=False)
    assert "--Voila.ip=127.0.0.1" in app and "handouts.ui.appserver" in app
    assert not any("token" in arg.lower() for arg in app)  # the token is in the environment
    assert str(tmp_path / "form.ipynb") in app
    assert init_folder  # imported for the CLI
