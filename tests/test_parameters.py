"""One definition of the parameters: the workbooks and the docs follow the schema."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from handouts.core.resources import workbooks_dir
from handouts.plan.parameters import CELL_FIELDS, table
from handouts.plan.profile import Profile

ROOT = Path(__file__).resolve().parents[1]


def generator():
    spec = importlib.util.spec_from_file_location("make_workbooks",
                                                  ROOT / "tools" / "make_workbooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["connection", "quick", "own-module", "caseload"])
def test_committed_workbooks_match_the_generator(name):
    committed = json.loads((workbooks_dir() / f"{name}.ipynb").read_text(encoding="utf-8"))
    expected = generator().expected()[name]
    assert [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
            for c in committed["cells"]] == [c.source for c in expected.cells], \
        f"workbooks/{name}.ipynb drifted: run python tools/make_workbooks.py"
    assert [c["metadata"].get("tags", []) for c in committed["cells"]] == \
        [c.metadata.get("tags", []) for c in expected.cells]
    assert all(not c.get("outputs") for c in committed["cells"])


@pytest.mark.parametrize("name", ["connection", "quick"])
def test_client_workbooks_list_every_parameter_with_its_help(name):
    import papermill

    found = papermill.inspect_notebook(str(workbooks_dir() / f"{name}.ipynb"))
    for field in CELL_FIELDS:
        assert field in found, f"{name}: {field} missing from the parameters cell"
        assert found[field]["help"] == table_help(field)
    assert "password" not in found  # never a notebook value
    assert {"practice", "output_dir"} <= set(found)


def table_help(field: str) -> str:
    from handouts.plan.parameters import describe

    return describe(field)


def test_docs_parameter_page_is_the_schema():
    page = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert table() in page, "docs/parameters.md drifted: run python tools/make_docs.py"
    for name in Profile.model_fields:
        assert f"| `{name}` |" in page


def test_the_docs_generator_finds_its_pages_current():
    # A Profile field or a flag rule added without regenerating the pages fails here.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_docs.py"), "--check"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr


def test_cli_prints_the_same_table(capsys):
    from handouts.ui.cli import main

    assert main(["parameters"]) == 0
    assert capsys.readouterr().out == table()
