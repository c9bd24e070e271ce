"""The package's shape: subpackages in pipeline order, imports flowing one way, no cycle,
no hidden import inside a function, and no module over 400 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "handouts"
# Imported inside a function only: optional extras, and libraries that take seconds to load
# that only one kind of work needs. Each such import carries its reason in a comment.
LAZY = {"weasyprint", "papermill", "nbformat", "nbclient", "jupyter_client", "traitlets",
        "IPython", "ipywidgets", "matplotlib", "pikepdf", "pypdfium2", "fontTools", "pyphen",
        "fontpkg", "voila", "jupyter_server", "ebooklib", "lxml"}


def test_the_layer_contracts_hold():
    # In a process of its own: import-linter configures logging in a way that silences
    # every logger already made (the CLI's notes among them) for the rest of the run.
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
         f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, "
         "no_cache=True, no_logo=True))"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def _cycles(graph) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(module):
        index[module] = low[module] = counter[0]
        counter[0] += 1
        stack.append(module)
        on.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                other = stack.pop()
                on.discard(other)
                group.append(other)
                if other == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("handouts")  # every import, inside functions too
    # A package's own __init__ naming its public API is not a cycle of its modules.
    for package in [m for m in graph.modules if graph.find_children(m)]:
        for child in graph.find_children(package):
            if graph.direct_import_exists(importer=package, imported=child):
                graph.remove_import(importer=package, imported=child)
    assert _cycles(graph) == []


def _function_imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    yield inner


def test_imports_inside_functions_are_only_optional_or_slow_libraries_with_a_reason():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in _function_imports(path):
            name = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(node, ast.ImportFrom) and node.level or (name or "").split(".")[0] \
                    not in LAZY:
                wrong.append(f"{where}: import {name} belongs at the top of the module")
            elif "#" not in lines[node.lineno - 1] and not lines[node.lineno - 2].strip(
                    ).startswith("#"):
                wrong.append(f"{where}: import {name} inside a function needs its reason")
    assert not wrong, "\n".join(wrong)


def test_each_subpackage_names_its_public_api_and_no_module_is_over_400_lines():
    for package in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()):
        text = (package / "__init__.py").read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), f"{package.name}: say what the layer does"
        assert "__all__" in text, f"{package.name}/__init__.py: name its public API"
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, f"split these modules: {long}"
