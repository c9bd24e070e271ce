"""Random edits, one after another: a rebuild that reuses layout prints what a fresh build prints.

Each example is a sequence of edits a therapist makes in a notebook (partners, practice,
note, modules, language, paper, print size, fillable...). After every edit the handout is
built twice: once reusing the last build's layout, once from nothing. The two PDFs must
hold the same text on every page and the same bytes (stricter than page images within a
tolerance). The sequence runs derandomized, so CI sees the same examples every run.
"""

from __future__ import annotations

import io

import pypdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import handouts
from handouts import load_library, render_html
from handouts.plan.assemble import assemble
from handouts.plan.renderkey import render_key
from handouts.render import segments
from handouts.render.pdf import render_pdf

NAMES = ("Ana", "Bo", "Chidi", "Dana", "Émile", "Farah")


def _partners(profile, names):
    return tuple(partner.model_copy(update={"name": name})
                 for partner, name in zip(profile.partners, names, strict=False))


def _drop_first(field):
    def edit(profile):
        items = getattr(profile, field)
        return {field: items[1:]} if len(items) > 1 else {field: tuple(reversed(items))}
    return edit


EDITS = {
    "names": st.permutations(NAMES).map(lambda names: lambda p: {"partners": _partners(p, names)}),
    "practice": st.sampled_from(["Harbour Counselling", "Ríos & Co", "A Much Longer Practice "
                                 "Name For The Running Header"]).map(
        lambda name: lambda p: {"practice_name": name}),
    "note": st.sampled_from(["", "See you Tuesday.", "A longer note that needs room. " * 40]).map(
        lambda note: lambda p: {"note": note}),
    "therapist": st.sampled_from(["Dr. Lee", "Sam Ortiz, LMFT"]).map(
        lambda name: lambda p: {"therapist": name}),
    "modules": st.sampled_from(["modules", "rituals", "scripts"]).map(_drop_first),
    "language": st.sampled_from(["en", "es"]).map(lambda lang: lambda p: {"language": lang}),
    "paper": st.sampled_from(["letter", "a4"]).map(lambda paper: lambda p: {"paper": paper}),
    "print size": st.booleans().map(lambda big: lambda p: {"large_print": big}),
    "fillable": st.booleans().map(lambda fill: lambda p: {"fillable": fill}),
    "cards": st.booleans().map(lambda cards: lambda p: {"cards": cards}),
    "ink saver": st.booleans().map(lambda ink: lambda p: {"ink_saver": ink}),
}
edit_sequences = st.lists(st.one_of(*EDITS.values()), min_size=1, max_size=3)


def _build(profile, reuse: bool) -> bytes:
    handout = assemble(profile, load_library(None, profile.language))
    html = render_html(handout)
    return render_pdf(html, fillable=profile.fillable, source_date=profile.session_date,
                      extra_files=[profile.practice_logo] if profile.practice_logo else [],
                      reuse_layout=reuse, key=render_key(profile, "handout"))


def _page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


@settings(max_examples=5, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edits=edit_sequences)
def test_random_edits_rebuild_to_what_a_fresh_build_prints(examples, edits):
    segments._LAST.clear()
    profile = handouts.load_profile(examples / "clients" / "sample-couple.yaml")
    _build(profile, reuse=True)
    for edit in edits:
        profile = profile.model_copy(update=edit(profile))
        reused, fresh = _build(profile, reuse=True), _build(profile, reuse=False)
        assert _page_texts(reused) == _page_texts(fresh)
        assert reused == fresh
    # A note edit at the end must reuse parts: the harness proves reuse, not two fresh builds.
    before = [segment.pages for segment in segments._LAST[0].segments]
    profile = profile.model_copy(update={"note": profile.note + " One more line."})
    assert _build(profile, reuse=True) == _build(profile, reuse=False)
    after = [segment.pages for segment in segments._LAST[0].segments]
    assert any(a is b for a, b in zip(before, after, strict=False)), "nothing was reused"
    segments._LAST.clear()
