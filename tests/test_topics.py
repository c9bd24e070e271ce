"""The second wave of the library (issue 14): one example handout per topic, and flags.

Each example in ``examples/topics/`` chooses one topic; its PDF must carry the title of
every module the topic recommends (minus any the profile's flags rule out). A profile
whose flags rule out a module it names explicitly must fail with one clear line.
"""

from __future__ import annotations

import re
import shutil

import pikepdf
import pytest
from helpers import normalise, pdf_text

from handouts import ProfileError, load_library, load_profile, write_handout
from handouts.core.resources import examples_dir
from handouts.plan.assemble import assemble

LIBRARY = load_library()
TOPICS = ("mismatched-desire", "pursue-withdraw", "sensate-focus", "trauma-and-intimacy",
          "illness-pain-disability", "after-an-affair",
          # wave 3
          "sexual-agreements", "shame-and-body-image", "sexual-function", "life-stages",
          "conflict", "attachment-injuries")
# Wording that reads wrong for a reader (it names the wrong number of people).
WRONG_FOR = {
    "individual": ("both of you", "each of you", "you both", "the two of you",
                   "your partners"),
    "group": ("both of you", "the two of you", "you both"),
    "couple": ("your partners",),
}


def _recommended(topic_id: str, flags: tuple[str, ...]) -> list[str]:
    topic = LIBRARY.topics[topic_id]
    ids = [*topic.modules, *topic.rituals, *topic.scripts]
    return [i for i in ids if not set(LIBRARY.modules[i].contraindications) & set(flags)]


def test_every_new_topic_has_an_example():
    assert set(TOPICS) <= set(LIBRARY.topics)
    found = {p.stem for p in (examples_dir() / "topics").glob("*.yaml")}
    assert set(TOPICS) <= found


def test_examples_cover_every_kind_of_reader():
    readers = {load_profile(examples_dir() / "topics" / f"{t}.yaml").reader for t in TOPICS}
    assert readers == {"couple", "individual", "group"}


@pytest.mark.parametrize("topic_id", TOPICS)
def test_new_topic_modules_read_right_for_each_reader(topic_id):
    topic = LIBRARY.topics[topic_id]
    for module_id in [*topic.modules, *topic.rituals, *topic.scripts]:
        module = LIBRARY.modules[module_id]
        assert module.topic in LIBRARY.topics, module_id
        for audience in module.audiences:
            for fillable in (False, True):
                text = module.for_reader(audience, fillable).plain_text().lower()
                wrong = [w for w in WRONG_FOR[audience] if w in text]
                assert not wrong, f"{module_id}[{audience}] says {wrong}"


@pytest.mark.parametrize("topic_id", TOPICS)
def test_topic_example_builds_with_every_recommended_title(topic_id, tmp_path):
    folder = tmp_path / "practice"
    shutil.copytree(examples_dir(), folder)
    profile = load_profile(folder / "topics" / f"{topic_id}.yaml")
    handout = assemble(profile, LIBRARY)
    expected = _recommended(topic_id, profile.flags)
    assert expected, topic_id
    assert [m.id for m in handout.sections] == expected
    pdf = write_handout(handout, tmp_path / f"{topic_id}.pdf")
    text = normalise(pdf_text(pdf))
    squeezed = re.sub(r"\s+", "", text)
    for module in handout.sections:
        title = normalise(module.title)
        # Long titles may break across lines or hyphenate; compare without spaces then.
        assert title in text or re.sub(r"\s+", "", title) in squeezed, \
            f"{topic_id}: {module.id} title {title!r} missing from the PDF"
    # The handout is titled by its topic (in the PDF's metadata and running header), not
    # by the connection theme it has nothing to do with.
    topic_title = LIBRARY.topics[topic_id].title
    with pikepdf.open(pdf) as doc:
        assert str(doc.docinfo["/Title"]) == topic_title
    assert "Connection workbook" not in text


def test_affair_crisis_keeps_desire_and_touch_pages_out_of_a_topic():
    assert _recommended("mismatched-desire", ("affair-crisis",)) == []
    assert "sensate-focus-steps" not in _recommended("sensate-focus", ("affair-crisis",))
    assert _recommended("after-an-affair", ("affair-crisis",))
    for module_id in ("desire-differences", "brakes-accelerators-map", "start-pause-decline",
                      "sensate-focus-explained", "sensate-focus-steps"):
        assert {"ongoing-affair", "affair-crisis"} <= set(
            LIBRARY.modules[module_id].contraindications), module_id


def test_sensate_focus_with_coercion_concern_fails_with_one_clear_line(tmp_path):
    folder = tmp_path / "practice"
    shutil.copytree(examples_dir(), folder)
    path = folder / "topics" / "flagged.yaml"
    path.write_text(
        "practice: ../practice.yaml\n"
        "client_id: topic-flagged\n"
        "partners: [{name: Ren}, {name: Ali}]\n"
        "session_date: 2026-12-07\n"
        "modules: [sensate-focus-explained]\n"
        "rituals: [sensate-focus-steps]\n"
        "flags: [coercion-concern]\n",
        encoding="utf-8")
    profile = load_profile(path)
    with pytest.raises(ProfileError) as caught:
        assemble(profile, LIBRARY, file=path)
    message = str(caught.value)
    assert "sensate-focus" in message and "coercion-concern" in message
    assert len(message.strip().splitlines()) == 1


def test_a_flagged_topic_leaves_out_only_what_the_flag_rules_out():
    # With unassessed pain, every page that invites sexual activity stays out (the
    # sensate focus worksheet and its article); the script for stopping stays in.
    ids = _recommended("sensate-focus", ("unassessed-pain",))
    assert "sensate-focus-steps" not in ids
    assert "sensate-focus-explained" not in ids
    assert "when-something-shifts" in ids
