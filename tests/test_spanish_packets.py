"""Spanish and bilingual packets: crisis lines as data, a note and pronouns per language."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from helpers import normalise, pdf_text, write_profile

from handouts.content.crisis import bundled_lines
from handouts.core.resources import workbook_path
from handouts.ui.cli import main

PAPERMILL = str(Path(sys.executable).with_name("papermill"))
NOTES = {"en": "Start with the kiss on Monday.", "es": "Empiecen con el beso el lunes."}


def _profile(folder: Path, examples: Path, extra: str = "") -> Path:
    shutil.copy(examples / "practice.yaml", folder / "practice.yaml")
    shutil.copy(examples / "logo.svg", folder / "logo.svg")
    return write_profile(folder, f"""\
practice: practice.yaml
client_id: two-langs
partners:
  - name: Marisol
    pronouns: {{es: ella, en: she/her}}
  - name: Lucía
    pronouns: {{es: ella, en: she/her}}
session_date: 2026-11-24
rituals: [six-second-kiss]
{extra}""")


def _pages(pdf: Path) -> list[str]:
    return [normalise(p.extract_text() or "") for p in pypdf.PdfReader(str(pdf)).pages]


def _build(profile: Path, out: Path) -> dict[str, Path]:
    assert main(["build", str(profile), "-o", str(out), "--no-record"]) == 0
    return {pdf.stem.rsplit("-", 1)[-1]: pdf for pdf in (out / "two-langs").glob("*.pdf")}


def test_a_bilingual_build_prints_each_note_and_pronoun_in_its_own_half(tmp_path, examples):
    profile = _profile(tmp_path, examples, "languages: [es, en]\n"
                       f"note:\n  en: {NOTES['en']}\n  es: {NOTES['es']}\n")
    pdfs = _build(profile, tmp_path / "out")
    assert set(pdfs) == {"en", "es"}
    for language, other in (("en", "es"), ("es", "en")):
        text = normalise(pdf_text(pdfs[language]))
        assert NOTES[language] in text and NOTES[other] not in text
    english_cover, spanish_cover = _pages(pdfs["en"])[0], _pages(pdfs["es"])[0]
    assert "(she/her)" in english_cover and "ella" not in english_cover
    assert "(ella)" in spanish_cover and "she/her" not in spanish_cover
    # The contents say why the two editions' page numbers differ.
    assert "Each edition numbers its own pages" in normalise(pdf_text(pdfs["en"]))
    assert "Cada edición numera sus propias páginas" in normalise(pdf_text(pdfs["es"]))


def test_a_plain_note_still_prints_in_both_halves(tmp_path, examples):
    profile = _profile(tmp_path, examples, "languages: [es, en]\nnote: Hasta pronto.\n")
    for pdf in _build(profile, tmp_path / "out").values():
        assert "Hasta pronto." in normalise(pdf_text(pdf))


def test_papermill_cli_takes_a_note_per_language(tmp_path, examples):
    profile = _profile(tmp_path, examples)
    note = f"note: {{en: '{NOTES['en']}', es: '{NOTES['es']}'}}"
    for language in ("es", "en"):
        result = subprocess.run(
            [PAPERMILL, str(workbook_path("connection")), f"run-{language}.ipynb",
             "-f", profile.name, "-y", note, "-p", "language", language,
             "-p", "output_dir", f"pm-{language}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        text = normalise(pdf_text(next((tmp_path / f"pm-{language}").rglob("*.pdf"))))
        other = "en" if language == "es" else "es"
        assert NOTES[language] in text and NOTES[other] not in text


def _safety(pdf: Path, heading: str) -> str:
    pages = _pages(pdf)
    start = next(i for i, page in enumerate(pages) if heading in page)
    return " ".join(pages[start:start + 2])


def test_the_spanish_safety_page_gives_phone_text_and_chat(tmp_path, examples):
    profile = _profile(tmp_path, examples, "language: es\n")
    safety = _safety(_build(profile, tmp_path / "out")["connection"], "Si estás en crisis")
    assert "988 Línea de Prevención del Suicidio y Crisis" in safety
    assert "marca el 2" in safety and "AYUDA por mensaje de texto al 988" in safety
    assert "988lineadevida.org" in safety
    assert "Línea Nacional contra la Violencia Doméstica" in safety
    assert "1-800-799-7233" in safety and "START por mensaje de texto al 88788" in safety
    assert "espanol.thehotline.org" in safety
    for line in bundled_lines()["US"]["es"]:  # the data, every field of it, is what prints
        for part in (line.label, line.number, line.text, line.chat, line.hours):
            assert normalise(part) in safety, part
    assert "situación migratoria" not in safety  # only where the practice opts in


def test_a_practice_adds_its_own_country_s_line(tmp_path, examples):
    profile = _profile(tmp_path, examples, "language: es\n")
    practice = tmp_path / "practice.yaml"
    own = ("crisis_lines:\n  es:\n    - label: Línea de la Vida (México)\n"
           "      number: 800 911 2000\n      hours: Gratis, a cualquier hora.")
    text = practice.read_text(encoding="utf-8").replace("crisis_lines:", own, 1)
    practice.write_text(text + "immigration_note: true\n", encoding="utf-8")
    pdf = _build(profile, tmp_path / "out")["connection"]
    safety = _safety(pdf, "Si estás en crisis")
    assert "Línea de la Vida (México)" in safety and "800 911 2000" in safety
    assert "Esta consulta no pregunta por tu situación migratoria." in safety
    before_you_begin = next(p for p in _pages(pdf) if "Antes de empezar" in p)
    assert "situación migratoria" in before_you_begin


@pytest.mark.parametrize(("entry", "field", "valid"), [
    ("- label: X\n      phone: '555'", "crisis_lines.es.0.phone", "chat, hours, label"),
    ("- number: '555'", "crisis_lines.es.0.label", "chat, hours, label"),
])
def test_a_malformed_crisis_line_names_the_file_field_and_choices(tmp_path, examples, capsys,
                                                                   entry, field, valid):
    profile = _profile(tmp_path, examples, "language: es\n")
    practice = tmp_path / "practice.yaml"
    text = practice.read_text(encoding="utf-8")
    practice.write_text(text.replace("crisis_lines:", f"crisis_lines:\n  es:\n    {entry}",
                                     1), encoding="utf-8")
    assert main(["build", str(profile), "-o", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(practice) in err and field in err and valid in err
