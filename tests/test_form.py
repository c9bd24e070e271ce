"""The client form (handouts app), driven without a browser: the widgets a therapist fills."""

from __future__ import annotations

import stat

import pikepdf
import pypdf
import pytest
from helpers import pdf_text

pytest.importorskip("ipywidgets")

from handouts.plan.validation import load_profile
from handouts.ui.form import Form  # noqa: E402
from handouts.ui.lab import init_folder  # noqa: E402


@pytest.fixture
def form(tmp_path):
    folder = tmp_path / "practice"
    init_folder(folder)
    text = (folder / "practice.yaml").read_text()
    (folder / "practice.yaml").write_text(
        text.replace("Harbor Light Couples Therapy", "Tidewater Practice")
            .replace("paper: letter", "paper: a4"))
    return Form(folder)


def _fill(form, name="Oona", client_id="c-1042"):
    form.client_id.value = client_id
    form.partner_rows[0][0].value = name
    form.partner_rows[0][1].value = "she/her"
    form.add_partner("No")
    form.session_date.value = "2026-11-24"
    form.lists["modules"].value = "barometer"
    form.lists["rituals"].value = "six-second-kiss"
    form.note.value = "Start with **one** ritual."


def test_the_practice_file_is_loaded_and_shown(form):
    heading = form.widget.children[0].value
    assert "Tidewater Practice" in heading and "paper a4" in heading
    assert form.paper.value == "a4"


def test_a_module_typo_shows_unknown_id_at_once(form):
    _fill(form)
    form.lists["modules"].value = "barometr, emotional-safety"
    shown = form.problems_html.value
    assert "modules: unknown id &#x27;barometr&#x27; (did you mean &#x27;barometer&#x27;?)" \
        in shown
    assert shown.count("<div") == 1  # one line, for that field only


def test_each_problem_is_one_line_naming_its_field(form):
    form.client_id.value = "Oona Smith"
    form.session_date.value = "next tuesday"
    lines = form.problems()
    assert any(line.startswith("client_id:") for line in lines)
    assert any(line.startswith("session_date:") for line in lines)
    assert any(line.startswith("partners:") for line in lines)
    assert all("\n" not in line and "Oona" not in line for line in lines)


def test_removing_a_partner_row_removes_it_from_the_profile(form):
    _fill(form)
    assert [p["name"] for p in form.values()["partners"]] == ["Oona", "No"]
    form.partner_rows[1][2].click()
    assert [p["name"] for p in form.values()["partners"]] == ["Oona"]


def test_build_writes_a_profile_that_handouts_build_accepts_and_shows_the_pages(form):
    _fill(form)
    form.add_section("A plan for this week", "Walk on Sunday.", "end")
    form.cards.value = True
    form.password.value = "s3cret-pw"
    pdf_path = form.build()
    assert pdf_path is not None, form.status.value
    saved = form.folder / "clients" / "c-1042.yaml"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    text = saved.read_text()
    assert "s3cret-pw" not in text and "password" not in text
    profile = load_profile(saved)
    assert [p.name for p in profile.partners] == ["Oona", "No"]  # "No" stays a name
    assert profile.practice_name == "Tidewater Practice" and profile.paper == "a4"
    assert profile.own_sections[0].title == "A plan for this week" and profile.cards
    reader = pypdf.PdfReader(pdf_path)
    assert reader.is_encrypted
    reader.decrypt("s3cret-pw")
    words = " ".join(page.extract_text() for page in reader.pages)
    assert "Oona" in words and "Tidewater Practice" in words
    assert (pdf_path.parent / pdf_path.name.replace(".pdf", ".ipynb")).is_file()
    assert "s3cret-pw" not in (pdf_path.with_suffix(".ipynb")).read_text()
    assert form.page_label.value.endswith(f"page 1 of {len(reader.pages)}</span>")
    assert form.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    form.next.click()
    assert f"page 2 of {len(reader.pages)}" in form.page_label.value
    assert form.previous.disabled is False


def test_build_with_a_problem_writes_nothing(form):
    _fill(form)
    form.lists["rituals"].value = "six-second-kis"
    assert form.build() is None
    assert "fix the lines above" in form.status.value
    assert not list((form.folder / "clients").glob("*.yaml"))
    assert not list((form.folder / "output").rglob("*.pdf"))


def test_an_empty_form_shows_no_problems_until_something_is_typed(form):
    assert form.problems_html.value == ""  # not a wall of red before the first key
    form.client_id.value = "Oona Smith"
    assert "client_id:" in form.problems_html.value


def test_modules_are_picked_from_the_library_by_title(form):
    picker = form.pickers["rituals"]
    labels = dict((value, label) for label, value in picker.options)
    kiss = form.library.get("six-second-kiss")
    assert labels["six-second-kiss"] == f"{kiss.title} (six-second-kiss)"
    assert set(labels) - {""} == set(form.library.ids("worksheet"))  # rituals only
    picker.value = "six-second-kiss"
    picker.value = "appreciation-ritual"
    picker.value = "six-second-kiss"  # picked twice, listed once
    assert form.lists["rituals"].value == "six-second-kiss, appreciation-ritual"
    assert picker.value == ""  # ready for the next pick
    assert form.problems() == [line for line in form.problems()
                               if not line.startswith("rituals")]


def test_topics_are_picked_by_title_like_modules(form):
    labels = dict((value, label) for label, value in form.topic_picker.options)
    assert set(labels) - {""} == set(form.library.topics)
    desire = form.library.topics["mismatched-desire"]
    assert labels["mismatched-desire"] == f"{desire.title} (mismatched-desire)"
    form.topic_picker.value = "mismatched-desire"
    form.topic_picker.value = "mismatched-desire"  # picked twice, listed once
    assert form.topics.value == "mismatched-desire"
    assert form.topic_picker.value == ""
    _fill(form)
    form.topics.value = "mismatched-desire"
    assert form.values()["topics"] == ["mismatched-desire"]
    assert not [line for line in form.problems() if line.startswith("topics")]


def test_a_bilingual_household_gets_both_editions_from_the_form(form):
    assert form.language.value == "en"  # the practice's language
    _fill(form)
    form.language.value = "es+en"
    assert form.values()["languages"] == ["es", "en"] and "language" not in form.values()
    pdf_path = form.build()
    assert pdf_path is not None, form.status.value
    editions = {}
    for path in sorted(pdf_path.parent.glob("*.pdf")):
        with pikepdf.open(path) as pdf:
            editions[str(pdf.Root.Lang)] = path
    assert set(editions) == {"es", "en"}
    assert "Qué hacer" in pdf_text(editions["es"]) and "What to do" in pdf_text(editions["en"])
    again = Form(form.folder)  # reopened, the choice is still both
    again.opener.value = "c-1042.yaml"
    assert again.language.value == "es+en"
    form.language.value = "es"
    assert form.values()["language"] == "es" and "languages" not in form.values()


def test_a_saved_client_opens_back_into_the_form(form, tmp_path):
    _fill(form)
    form.add_section("A plan for this week", "Walk on Sunday.", "barometer")
    form.fillable.value = True
    form.save()
    saved = form.values()
    again = Form(form.folder)  # the next morning
    assert ("c-1042", "c-1042.yaml") in again.opener.options
    again.opener.value = "c-1042.yaml"
    assert again.values() == saved
    assert again.partner_rows[1][0].value == "No"  # a YAML keyword stays a name
    assert "Opened" in again.status.value and again.problems() == []


def test_a_hand_written_profile_opens_too(form):
    (form.folder / "clients" / "c-77.yaml").write_text(
        "client_id: c-77\npartners: [Ari, {name: On, pronouns: they/them}]\n"
        "session_date: 2026-12-03\nrituals: six-second-kiss, appreciation-ritual\n"
        "large_print: yes\n")
    form.open(form.folder / "clients" / "c-77.yaml")
    values = form.values()
    assert values["partners"] == [{"name": "Ari"}, {"name": "On", "pronouns": "they/them"}]
    assert values["rituals"] == ["six-second-kiss", "appreciation-ritual"]
    assert values["large_print"] is True and values["session_date"] == "2026-12-03"


def test_a_note_and_pronouns_per_language_survive_the_form(form):
    (form.folder / "clients" / "c-5.yaml").write_text(
        "client_id: c-5\npartners: [{name: Ana, pronouns: {en: she/her, es: ella}}, Bo]\n"
        "session_date: 2026-12-03\nrituals: [six-second-kiss]\nlanguages: [es, en]\n"
        "note: {en: See you Tuesday., es: Nos vemos el martes.}\n", encoding="utf-8")
    form.open(form.folder / "clients" / "c-5.yaml")
    assert form.note.value == "Nos vemos el martes."  # the Spanish edition comes first
    saved = form.save()
    profile = load_profile(saved)  # saved untouched: neither language lost
    assert profile.note == {"en": "See you Tuesday.", "es": "Nos vemos el martes."}
    assert profile.partners[0].pronouns == {"en": "she/her", "es": "ella"}
    form.note.value = "Nos vemos el jueves."  # an edit changes only the language shown
    profile = load_profile(form.save())
    assert profile.note == {"en": "See you Tuesday.", "es": "Nos vemos el jueves."}


def test_nothing_of_one_client_stays_for_the_next(form):
    _fill(form)
    form.add_section("Ours", "Private words.", "end")
    form.fillable.value = True
    form.password.value = "pw"
    form.save()
    form.new_client.click()
    values = form.values()
    assert values["client_id"] == "" and values["partners"] == []
    assert "note" not in values and "own_sections" not in values
    assert not any(values[name] for name in form.lists)
    assert values["fillable"] is False and values["paper"] == "a4"  # the practice's
    assert form.password.value == "" and form.viewer.layout.display == "none"
    form.opener.value = "c-1042.yaml"  # and back: the saved client is whole again
    assert form.values()["note"] == "Start with **one** ritual.\n"
    (form.folder / "clients" / "c-9.yaml").write_text(
        "client_id: c-9\npartners: [Lee]\nsession_date: 2026-12-01\n")
    form.open(form.folder / "clients" / "c-9.yaml")  # opening is a fresh start too
    values = form.values()
    assert values["fillable"] is False and "note" not in values
    assert values["partners"] == [{"name": "Lee"}] and not values["modules"]


def test_practice_yes_no_settings_tick_the_boxes_as_written(tmp_path):
    folder = tmp_path / "practice"
    init_folder(folder)
    with (folder / "practice.yaml").open("a") as f:
        f.write("fillable: false\nlarge_print: yes\n")  # read as text, like every scalar
    form = Form(folder)
    assert form.fillable.value is False and form.large_print.value is True
    form.fillable.value = True
    form.new_client.click()
    assert form.fillable.value is False and form.large_print.value is True


def test_a_copy_per_partner_is_a_choice_that_builds_one_pdf_each(form):
    _fill(form)
    assert ("A copy per partner", "per-partner") in form.copies.options
    form.copies.value = "per-partner"
    pdf_path = form.build()
    assert pdf_path is not None, form.status.value
    assert load_profile(form.folder / "clients" / "c-1042.yaml").copies == "per-partner"
    built = sorted(p.name for p in (form.folder / "output" / "c-1042").glob("*.pdf"))
    assert built == ["2026-11-24-connection-partner-1.pdf",
                     "2026-11-24-connection-partner-2.pdf"]
    assert all(name in form.status.value for name in built)
    assert "THIS COPY IS FOR No" in " ".join(pdf_text(form.folder / "output" / "c-1042" /
                                                      built[1]).split())
    form.new_client.click()  # the next client starts with one shared copy
    assert form.copies.value == "shared"
