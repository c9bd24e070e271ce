"""The Spanish edition: every module, the same shape as the English, easy to read, in print."""

from __future__ import annotations

import re

import pdfplumber
import pikepdf
import pytest
from helpers import normalise, reader_text

from handouts import load_library, render_html, validate, write_pdf
from handouts.content.module import MATTER_IDS
from handouts.content.parity import library_parity
from handouts.content.readability import fernandez_huerta
from handouts.plan.assemble import assemble
from handouts.plan.reading import read_profile
from handouts.ui.cli import main

ENGLISH = load_library(language="en")
IDS = sorted(ENGLISH.modules)


@pytest.fixture(scope="module")
def spanish():
    return load_library(language="es")


def editions(module):
    """Every edition a client can be handed: each reader, on paper and fillable."""
    return [(module.for_reader(a, f), f"{module.id}[{a}{'-fillable' if f else ''}]")
            for a in module.audiences for f in (False, True)]


def test_every_english_module_has_a_spanish_edition_of_the_same_shape(spanish):
    problems = library_parity(ENGLISH, spanish)
    assert not problems, "\n".join(f"{k}: {'; '.join(v)}" for k, v in problems.items())


def test_topics_recommend_the_same_modules(spanish):
    assert spanish.topics.keys() == ENGLISH.topics.keys()
    for key, topic in ENGLISH.topics.items():
        other = spanish.topics[key]
        assert (other.modules, other.rituals, other.scripts) == (
            topic.modules, topic.rituals, topic.scripts), key
        assert other.title != topic.title, f"{key}: the title is not translated"


@pytest.mark.parametrize("module_id", IDS)
def test_spanish_reads_as_bastante_facil_or_easier(spanish, module_id):
    for edition, name in editions(spanish.get(module_id)):
        score = fernandez_huerta(edition.plain_text())
        assert score >= 70, f"{name} ({edition.path}): Fernández-Huerta {score}, needs 70+"


# Words and forms a Latin-American reader would stumble on, or that break the register:
# tú for one reader, ustedes (never vosotros) for the couple, no "-x"/"@" endings.
SPAIN_ONLY = re.compile(r"\b(vosotr[oa]s|vuestr[oa]s?|nevera|ordenador|móvil|zumo|gafas|"
                        r"coger|cogido|vale\.)", re.IGNORECASE)
NOT_TU = re.compile(r"\busted\b", re.IGNORECASE)
MARKED = re.compile(r"\b\w+[x@]s?\b|\b(todes|elles|nosotres|amigues)\b", re.IGNORECASE)
ALLOWED_X = {"sex", "relax", "box"}


@pytest.mark.parametrize("module_id", IDS)
def test_neutral_latin_american_spanish_in_one_register(spanish, module_id):
    for edition, name in editions(spanish.get(module_id)):
        text = edition.plain_text()
        assert not SPAIN_ONLY.findall(text), f"{name}: {SPAIN_ONLY.findall(text)}"
        assert not NOT_TU.search(text), f"{name}: 'usted' (use tú, or ustedes for two)"
        marked = {m.group(0) for m in MARKED.finditer(text)} - ALLOWED_X
        assert not marked, f"{name}: {marked}; rephrase instead of -x/@/-e endings"


CARE_RULES = [
    (r"\b(tocar|toque|toques|caricias?|sexo|sexual|sexuales|beso|besos|besar)\b",
     r"ahora no|no es para mí|consentimiento|pregúntame primero|decir que no",
     "mentions touch or sex without a consent line"),
    (r"\b(dolor|dolores|medicamentos?|medicinas?|medicación)\b",
     r"médic[oa]|profesional de (la )?salud",
     "mentions pain or medication without a medical-check note"),
]


@pytest.mark.parametrize("module_id", IDS)
def test_spanish_care_notes_stand_where_they_are_needed(spanish, module_id):
    for edition, name in editions(spanish.get(module_id)):
        text = edition.plain_text().lower()
        for mention, required, problem in CARE_RULES:
            if re.search(mention, text):
                assert re.search(required, text), f"{name} {problem}"


def test_every_spanish_touch_table_offers_a_lasting_no(spanish):
    tables = [(m.id, e) for m in spanish.modules.values() for e in m.extras if e.choices]
    assert tables
    for module_id, extra in tables:
        assert {"ahora no", "no es para mí"} <= {c.lower() for c in extra.choices}, module_id


def test_matter_pages_exist_in_spanish(spanish):
    assert set(MATTER_IDS) <= set(spanish.ids("matter"))


@pytest.fixture(scope="module")
def built(tmp_path_factory, examples, spanish):
    """The example couple as one fillable handout in Spanish and in English."""
    raw = read_profile(examples / "clients" / "sample-couple.yaml")
    out = {}
    for language, library in (("es", spanish), ("en", ENGLISH)):
        profile = validate({**raw, "language": language, "fillable": True,
                            "topics": ["mismatched-desire"]})
        path = tmp_path_factory.mktemp(language) / "h.pdf"
        out[language] = write_pdf(render_html(assemble(profile, library)), path,
                                  fillable=True, extra_files=[profile.practice_logo])
    return out


def test_a_spanish_pdf_is_read_back_exactly_like_an_english_one(built):
    fields = {}
    for language, path in built.items():
        with pikepdf.open(path) as pdf:
            fields[language] = sorted(f.fully_qualified_name for f in pdf.acroform.fields)
    assert fields["es"] and fields["es"] == fields["en"]


def test_the_spanish_pdf_speaks_spanish_throughout(built, examples):
    with pikepdf.open(built["es"]) as pdf:
        assert str(pdf.Root.Lang) == "es"
    with pdfplumber.open(built["es"]) as pdf:
        text = normalise(" ".join(p.extract_text() or "" for p in pdf.pages))
    assert "24 de noviembre de 2026" in text  # the session date, as Spanish writes it
    assert "«" in text and "»" in text
    assert "“" not in text and "”" not in text  # worksheets' prompts too, not only articles
    first, second = (p["name"] for p in read_profile(
        examples / "clients" / "sample-couple.yaml")["partners"][:2])
    # names joined the Spanish way, on the cover and the worksheets
    assert f" y {second}" in text
    assert not re.search(rf"{first}(?: \([^)]*\))? & {second}", text)
    assert "marca el 2" in text and "800-799-7233" in text  # crisis lines offer Spanish
    for english in ("What to do", "Why it helps", "This week", "Ways to begin",
                    "If you are in crisis", "Prepared for"):
        assert english not in text, english
    spanish = load_library(language="es")
    for module_id in ("barometer", "six-second-kiss", "desire-differences"):
        title = normalise(spanish.get(module_id).for_reader("couple").title)
        assert title in text, title


def test_library_command_lists_the_spanish_edition(capsys, spanish):
    assert main(["library", "--language", "es"]) == 0
    out = capsys.readouterr().out
    for module in spanish.of_kind("worksheet"):
        assert module.id in out
    assert spanish.topics["connection"].title in out


def test_three_names_in_a_spanish_field_read_as_a_list(tmp_path, spanish):
    profile = validate({"client_id": "names-es", "language": "es", "fillable": True,
                        "session_date": "2026-12-01",
                        "partners": [{"name": "Ren"}, {"name": "Ali"}, {"name": "Joss"}],
                        "rituals": ["love-maps-check-in"]})
    path = write_pdf(render_html(assemble(profile, spanish)), tmp_path / "h.pdf",
                     fillable=True)
    with pikepdf.open(path) as pdf:
        values = {f.fully_qualified_name: str(f.value) for f in pdf.acroform.fields}
    assert values["love-maps-check-in.names"] == "Ren, Ali y Joss"


# Plural forms that speak to two or more readers at once: ustedes, a plural command
# starting a sentence or clause ("Tomen una pausa, hagan algo..."), or one with a pronoun
# attached ("Pónganse", "tómenlo").
PLURAL_YOU = re.compile(
    r"\bustedes\b|(?:^|[.!?:;,]\s+|\by\s+)(?:usen|tomen|hagan|pidan|paren|lean|vuelvan|"
    r"avisen|decidan|acuerden|planeen|guarden|elijan|prueben|hablen|marquen|comparen|"
    r"escojan|escriban|pregunten|digan|busquen|miren|sigan|traten|intenten|recuerden)\b|"
    r"\b\w*[áéíóú]\w*(?:an|en)(?:se|lo|la|los|las|le|les|nos)\b", re.IGNORECASE)
# What two people do together, in the ustedes forms (present, subjunctive, command) that
# shared text slips into: "En los primeros pasos, acuerdan...", "si hacen prácticas",
# "Si se preguntan seguido", "y contesten más tarde". Verbs that mostly take a third-person
# subject (poder, tener, querer, estar...) are left out: they would flag sound sentences.
JOINT_ACTION = (
    "acuerdan acuerden preguntan pregunten contestan contesten responden respondan hacen "
    "hagan hablan hablen paran paren detienen detengan toman tomen usan usen eligen elijan "
    "escogen escojan prueban prueben deciden decidan buscan busquen escriben escriban leen "
    "lean anotan anoten marcan marquen comparan comparen planean planeen guardan guarden "
    "avisan avisen vuelven vuelvan piden pidan dicen digan miran miren siguen sigan tratan "
    "traten intentan intenten recuerdan recuerden practican practiquen esperan esperen viven "
    "vivan empiezan empiecen turnan turnen abrazan abracen besan besen comparten compartan "
    "cuentan cuenten revisan revisen").split()
PLURAL_VERB = re.compile(
    r"(?:^|[.!?:;,¿¡]\s*|\b(?:y|o|si|aunque|mientras|cuando)\s+)"
    r"(?:(?:se|no|lo|la|los|las|le|les|nos)\s+)*"
    rf"({'|'.join(JOINT_ACTION)})\b(?! falta)", re.IGNORECASE)
# ...unless its sentence names who does it ("Las personas de la relación aprenden... y miran").
NAMED_PEOPLE = re.compile(r"\b(?:personas|parejas|quienes|ambas|ambos|las dos|los dos|"
                          r"ellas|ellos|tú y tu pareja)\b", re.IGNORECASE)


def plural_you(text: str) -> list[str]:
    """Return where *text* speaks to its reader in the plural."""
    hits = {m.end(): m.start() for m in PLURAL_YOU.finditer(text)}
    for m in PLURAL_VERB.finditer(text):
        opening = max(text.rfind(end, 0, m.start(1)) for end in ".!?")
        if not NAMED_PEOPLE.search(text[opening + 1:m.start(1)]):
            hits.setdefault(m.end(1), m.start(1))
    return [text[max(0, a - 40):b + 30] for b, a in sorted(hits.items())]


# In Spanish "la pareja" is both the couple and one partner: a group edition says which.
COUPLE_OR_PARTNER = re.compile(r"\b(?:la pareja|ser pareja|en pareja)\b", re.IGNORECASE)


def couple_or_partner(text: str) -> list[str]:
    """Return where *text* says an ambiguous «la pareja»."""
    return [text[max(0, m.start() - 40):m.end() + 30] for m in COUPLE_OR_PARTNER.finditer(text)]


WRONG_FOR_READER = {"individual": (plural_you, "plural 'you' for one reader"),
                    "group": (couple_or_partner, "'la pareja' (the couple or one partner?)")}


@pytest.mark.parametrize("reader", sorted(WRONG_FOR_READER))
@pytest.mark.parametrize("module_id", IDS)
def test_each_reader_edition_speaks_to_its_reader(spanish, module_id, reader):
    """One reader is never 'ustedes'; a group edition never says an ambiguous 'la pareja'."""
    module = spanish.get(module_id)
    if reader not in module.audiences:
        return
    find, problem = WRONG_FOR_READER[reader]
    for fillable in (False, True):
        hits = find(reader_text(module, reader, fillable))
        assert not hits, f"{module_id}[{reader}]: {problem}: {hits}"
