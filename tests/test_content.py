"""The content library: loading, practice overrides, and validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from handouts import LibraryError, load_library
from handouts.content.library import check_library
from handouts.render.html import markdown

ARTICLE = """\
---
id: {id}
kind: article
title: {title}
summary: A short test article.
minutes: 3
tags: [test]
sources: [johnson-2008]
version: "1.0"
language: en
---
Some *Markdown* text.
"""


def write_module(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_library_has_every_kind_with_complete_metadata():
    lib = load_library()
    assert len(lib.ids("article")) >= 1
    assert len(lib.ids("worksheet")) >= 1
    assert len(lib.ids("script")) >= 1
    for module in lib.modules.values():
        assert module.title and module.summary and module.version and module.tags
        assert module.language == "en"
        for key in module.sources:
            assert key in lib.sources, f"{module.id}: unknown source {key}"


def test_worksheets_are_structured_data():
    for w in load_library().of_kind("worksheet"):
        assert w.steps and w.why and w.making_it_yours and w.tracker and w.prompts, w.id


def test_markdown_is_rendered_by_a_commonmark_parser():
    html = markdown("A *b* **c**\n\n- one\n- two\n\n<script>x</script>")
    assert "<em>b</em>" in html and "<strong>c</strong>" in html
    assert "<ul>" in html and "<li>one</li>" in html
    assert "<script>" not in html  # raw HTML is never passed through


def test_practice_library_adds_and_overrides_by_id(tmp_path):
    write_module(tmp_path, "extra.md", ARTICLE.format(id="our-own-article", title="Our own"))
    write_module(tmp_path / "sub", "b.md", ARTICLE.format(id="barometer", title="Replaced"))
    lib = load_library(tmp_path)
    assert lib.get("our-own-article").title == "Our own"
    assert lib.get("barometer").title == "Replaced"
    assert load_library().get("barometer").title != "Replaced"


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        (("minutes: 3\n", ""), "minutes", "required field is missing"),
        (("kind: article", "kind: poem"), "kind", "valid: article, matter, script, worksheet"),
        (("sources: [johnson-2008]", "sources: [nobody-1999]"), "sources", "unknown source"),
        (("id: good-id", "id: Bad Id"), "id", "must be a slug"),
        (("tags: [test]\n", "tags: [test]\ncolour: red\n"), "colour", "is not a known field"),
        (("summary: A short test article.\n", ""), "summary", "required field is missing"),
    ],
)
def test_invalid_module_names_file_and_field(tmp_path, change, field, fragment):
    text = ARTICLE.format(id="good-id", title="T").replace(*change)
    path = write_module(tmp_path, "broken.md", text)
    with pytest.raises(LibraryError) as info:
        load_library(tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert f": {field}:" in message
    assert fragment in message


def test_malformed_front_matter_is_reported_with_the_file(tmp_path):
    path = write_module(tmp_path, "bad.md", "---\nid: [unclosed\n---\nbody\n")
    with pytest.raises(LibraryError, match="front matter is not valid YAML") as info:
        load_library(tmp_path)
    assert str(path) in str(info.value)


def test_worksheet_without_steps_fails(tmp_path):
    text = ARTICLE.format(id="ws", title="W").replace("kind: article", "kind: worksheet")
    path = write_module(tmp_path, "ws.md", text)
    with pytest.raises(LibraryError) as info:
        load_library(tmp_path)
    assert f"{path}: steps:" in str(info.value)


def test_check_library_collects_every_problem(tmp_path):
    write_module(tmp_path, "a.md", ARTICLE.format(id="a", title="A").replace("minutes: 3\n", ""))
    write_module(tmp_path, "b.md", ARTICLE.format(id="b", title="B").replace("kind: article",
                                                                             "kind: essay"))
    problems = [str(p) for p in check_library(tmp_path)]
    assert len(problems) == 2
    assert any("a.md: minutes:" in p for p in problems)
    assert any("b.md: kind:" in p for p in problems)


def test_unknown_language_lists_choices():
    with pytest.raises(LibraryError, match=r"valid: en, es"):
        load_library(language="fr")
