"""Report on the Spanish edition: shape against the English one and reading ease.

    python tools/spanish_report.py [MODULE_ID ...]

For each module: the problems that make it differ in shape from the English original,
and the Fernández-Huerta reading ease of every reader's edition (70 or more is needed).
"""

from __future__ import annotations

import sys

from handouts.content.library import _load_flags, _load_sources, load_library
from handouts.content.parity import parity_problems
from handouts.content.parse import parse_module
from handouts.content.readability import fernandez_huerta
from handouts.core.resources import library_dir


def main(argv: list[str]) -> int:
    english = load_library(language="en")
    root = library_dir()
    sources, flags = _load_sources(root / "sources.yaml"), _load_flags(root / "flags.yaml")
    spanish = {p.stem: p for p in sorted((root / "es").rglob("*.md"))}
    failed = 0
    for module_id in argv or sorted(english.modules):
        original = english.get(module_id)
        path = spanish.get(module_id)
        if path is None:
            print(f"{module_id}: MISSING")
            failed += 1
            continue
        try:
            edition = parse_module(path, sources, flags)
        except Exception as exc:  # noqa: BLE001 - a report, not a build
            print(f"{module_id}: INVALID {exc}")
            failed += 1
            continue
        problems = parity_problems(original, edition)
        if edition.language != "es":
            problems.append("language: must be es")
        scores = {f"{a}{'-f' if f else ''}": fernandez_huerta(
            edition.for_reader(a, f).plain_text()) for a in edition.audiences
            for f in (False, True)}
        low = min(scores.values())
        status = "ok" if not problems and low >= 70 else "FIX"
        failed += status != "ok"
        print(f"{module_id}: {status} lowest Fernández-Huerta {low} "
              + " ".join(f"{k}={v}" for k, v in scores.items()))
        for problem in problems:
            print(f"    {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
