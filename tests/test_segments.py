"""A rebuild lays out again only what changed, and prints what a whole build prints."""

from __future__ import annotations

import io
import os
import shutil

import pypdf
import pytest

import handouts
from handouts import load_library, render_html
from handouts.plan.assemble import assemble
from handouts.plan.renderkey import render_key
from handouts.render import segments
from handouts.render.pdf import render_pdf


@pytest.fixture(autouse=True)
def no_earlier_build():
    segments._LAST.clear()
    yield
    segments._LAST.clear()


def build(profile, reuse: bool, template: str = "handout") -> bytes:
    html = render_html(assemble(profile, load_library()), template=template)
    return render_pdf(html, fillable=profile.fillable, source_date=profile.session_date,
                      extra_files=[profile.practice_logo] if profile.practice_logo else [],
                      reuse_layout=reuse, key=render_key(profile, template))


def text_of(data: bytes) -> str:
    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def load(examples, name: str):
    return handouts.load_profile(examples / "clients" / f"{name}.yaml")


def kept_pages() -> list:
    return [segment.pages for segment in segments._LAST[0].segments]


def test_editing_the_note_lays_out_only_the_front_and_prints_the_same_bytes(examples):
    couple = load(examples, "sample-couple")
    assert build(couple, reuse=True) == build(couple, reuse=False)
    before = kept_pages()
    assert len(before) >= 4  # cover, front, the run-on parts (readings to back matter), cards

    edited = couple.model_copy(update={"note": couple.note + "\nWe meet again on Tuesday."})
    rebuilt = build(edited, reuse=True)
    assert rebuilt == build(edited, reuse=False)
    assert "We meet again on Tuesday." in " ".join(text_of(rebuilt).split())
    after = kept_pages()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a is not b]
    assert changed == [1]  # the front (the note's part); every other part was reused


def test_reordering_the_rituals_prints_what_a_whole_build_prints_with_the_new_form_id(examples):
    couple = load(examples, "sample-couple")
    build(couple, reuse=True)
    # The practices run on after the readings and the cards follow their order, so a swap
    # lays those parts out again; what matters is that the reused build is the fresh one.
    first, second, *rest = couple.rituals
    edited = couple.model_copy(update={"rituals": (second, first, *rest)})
    rebuilt = build(edited, reuse=True)
    assert rebuilt == build(edited, reuse=False)
    keywords = pypdf.PdfReader(io.BytesIO(rebuilt)).metadata["/Keywords"]
    form_id = assemble(edited, load_library()).form_id
    assert form_id != assemble(couple, load_library()).form_id
    assert f"handouts-id-{form_id}" in keywords


@pytest.mark.parametrize("edit", [
    pytest.param({"rituals": ("six-second-kiss", "gentle-touch-moments", "appreciation-ritual",
                              "love-maps-check-in")}, id="rituals-reordered"),
    pytest.param({"scripts": ("missing-closeness",)}, id="fewer-scripts"),
    pytest.param({"cards": False}, id="no-cards"),
    pytest.param({"names": ("Noor", "Ezra")}, id="other-names"),
    pytest.param({"note": "A note long enough to need more room. " * 60}, id="long-note"),
])
def test_every_kind_of_edit_prints_what_a_whole_build_prints(examples, edit):
    couple = load(examples, "sample-couple")
    build(couple, reuse=True)
    if "names" in edit:  # the partners themselves, not only their display names
        edit = {"partners": tuple(partner.model_copy(update={"name": name}) for partner, name
                                  in zip(couple.partners, edit["names"], strict=True))}
    edited = couple.model_copy(update=edit)
    assert build(edited, reuse=True) == build(edited, reuse=False)
    assert build(couple, reuse=True) == build(couple, reuse=False)  # and back again


@pytest.mark.parametrize("name", ["sample-individual", "sample-group", "sample-bilingual"])
def test_each_example_rebuilds_to_the_same_bytes(examples, name):
    profile = load(examples, name)
    assert build(profile, reuse=True) == build(profile, reuse=False)
    note = profile.note  # one text, or one per language
    note = ({lang: text + "\nSee you soon." for lang, text in note.items()}
            if isinstance(note, dict) else note + "\nSee you soon.")
    edited = profile.model_copy(update={"note": note})
    assert build(edited, reuse=True) == build(edited, reuse=False)
    assert segments._LAST, "the example was not split into parts: nothing would be reused"


@pytest.mark.parametrize("options", [
    {"fillable": True}, {"large_print": True}, {"paper": "a4", "language": "es"},
    {"practice_name": 'Dr "Q" & Co \\ <Ltd>   Counselling'},  # the running header's text
])
def test_print_options_rebuild_to_the_same_bytes(examples, options):
    couple = load(examples, "sample-couple").model_copy(update=options)
    assert build(couple, reuse=True) == build(couple, reuse=False)
    assert segments._LAST, "not split into parts: nothing would be reused"
    edited = couple.model_copy(update={"note": "Short note."})
    assert build(edited, reuse=True) == build(edited, reuse=False)


def test_a_changed_logo_file_is_never_served_from_the_last_build(client_dir):
    profile = handouts.load_profile(client_dir / "clients" / "sample-couple.yaml")
    logo = profile.practice_logo
    assert logo
    first = build(profile, reuse=True)
    text = open(logo, encoding="utf-8").read()
    recoloured = text.replace("#", "#0", 1) if "fill=\"#" not in text else text.replace(
        'fill="#', 'fill="#1', 1)
    with open(logo, "w", encoding="utf-8") as handle:
        handle.write(recoloured if recoloured != text else text + "<!-- new -->")
    rebuilt = build(profile, reuse=True)
    assert rebuilt == build(profile, reuse=False)
    assert rebuilt != first


def test_the_quick_handout_and_other_templates_are_laid_out_whole(examples):
    couple = load(examples, "sample-couple")
    assert build(couple, reuse=True, template="quick") == build(couple, reuse=False,
                                                                template="quick")
    assert not segments._LAST  # the quick handout has no parts that start a page


def test_a_workbook_in_a_front_end_reuses_layout_and_a_papermill_run_does_not(
        client_dir, monkeypatch):
    import nbformat

    from handouts.core.resources import workbook_path
    from handouts.run import notebook

    cells = nbformat.read(workbook_path("connection"), as_version=4).cells
    parameters = next(c.source for c in cells if "parameters" in c.metadata.get("tags", []))
    seen = []
    monkeypatch.setattr(notebook, "write_handout",
                        lambda handout, path, template, reuse_layout: seen.append(reuse_layout))
    for front_end in ("1", "0"):
        monkeypatch.setenv("HANDOUTS_FRONT_END", front_end)
        shutil.rmtree(client_dir / "output", ignore_errors=True)
        namespace: dict = {}
        exec(parameters, namespace)  # noqa: S102 - the bundled workbook's own cell
        namespace.update(output_dir=str(client_dir / "output"),
                         practice=str(client_dir / "practice.yaml"))
        session = handouts.start(namespace, "connection")
        session.write(session.assemble())
    assert seen == [True, False]


def test_a_logo_removed_before_a_rebuild_is_a_plain_render_error(client_dir):
    profile = handouts.load_profile(client_dir / "clients" / "sample-couple.yaml")
    build(profile, reuse=True)
    os.remove(profile.practice_logo)
    with pytest.raises(handouts.RenderError) as raised:
        build(profile.model_copy(update={"note": "Edited."}), reuse=True)
    assert "logo" in str(raised.value)


def test_a_contents_anchor_that_is_not_a_plain_id_is_laid_out_whole(examples):
    from handouts.render.pdf import _split_stylesheet

    couple = load(examples, "sample-couple")
    body, style = _split_stylesheet(render_html(assemble(couple, load_library())))
    assert segments.split(body, style) is not None
    odd = body.replace('href="#barometer"', 'href="#bar&quot;]{x}"', 1)
    assert odd != body
    assert segments.split(odd, style) is None


def test_the_preview_after_a_rebuild_redraws_only_the_pages_that_changed(examples, tmp_path,
                                                                          monkeypatch):
    import importlib

    preview_module = importlib.import_module("handouts.render.preview")  # not the function
    drawn = []
    real = preview_module._thumbnail

    def counting(document, number, width):
        drawn.append(number)
        return real(document, number, width)

    monkeypatch.setattr(preview_module, "_thumbnail", counting)
    monkeypatch.setattr(preview_module, "_SHOWN", {})
    monkeypatch.setenv("HANDOUTS_FRONT_END", "1")  # every page, as in JupyterLab
    couple = load(examples, "sample-couple")
    out = tmp_path / "handout.pdf"
    out.write_bytes(build(couple, reuse=True))
    first = handouts.preview(out, width=120)
    assert drawn == list(range(1, first.total + 1))

    edited = couple.model_copy(update={"note": couple.note + "\nWe meet again on Tuesday."})
    out.write_bytes(build(edited, reuse=True))
    drawn.clear()
    again = handouts.preview(out, width=120)
    assert 0 < len(drawn) < again.total / 4  # the front pages with the note
    segments._LAST.clear()  # what a fresh kernel would show
    fresh = handouts.preview(out, width=120)
    assert again.images == fresh.images
    assert again.images != first.images

    drawn.clear()
    handouts.preview(out, width=160)  # another size: every page drawn again
    assert len(drawn) == again.total
    out.write_bytes(handouts.render.pdf.encrypt(out.read_bytes(), "pw"))  # not this build's bytes
    drawn.clear()
    handouts.preview(out, width=160, password="pw")
    assert len(drawn) == again.total
