"""Client profiles and practice settings: types, inheritance, errors that name the field."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import write_profile

from handouts import ProfileError, load_profile

BASE = """\
client_id: c-0042
partners:
  - name: Robin
session_date: 2026-12-01
modules: [barometer]
"""


def test_example_profile_inherits_the_practice_file(examples):
    profile = load_profile(examples / "clients" / "sample-couple.yaml")
    assert profile.practice_name == "Harbor Light Couples Therapy"
    assert profile.therapist == "Robin Example, LMFT"
    assert profile.practice_logo.endswith("logo.svg")
    assert profile.session_date == dt.date(2026, 11, 24)
    assert [p.name for p in profile.partners] == ["Alex", "Sam"]


def test_profile_overrides_a_practice_setting(client_dir):
    path = write_profile(client_dir / "clients", "practice: ../practice.yaml\n" + BASE
                         + "accent_color: '#AA3355'\npaper: a4\n")
    profile = load_profile(path)
    assert profile.accent_color == "#aa3355"
    assert profile.paper == "a4"
    assert profile.practice_name == "Harbor Light Couples Therapy"


@pytest.mark.parametrize("value", ["00123", "No", "on", "null", "1e3", "0x1F", "~"])
def test_string_values_stay_strings(tmp_path, value):
    text = BASE.replace("client_id: c-0042", "client_id: c-1").replace(
        "name: Robin", f"name: {value}") + f"therapist: {value}\nnote: {value}\n"
    profile = load_profile(write_profile(tmp_path, text))
    assert profile.partners[0].name == value
    assert profile.therapist == value
    assert profile.note == value


def test_numeric_client_id_keeps_its_leading_zeros(tmp_path):
    profile = load_profile(write_profile(tmp_path, BASE.replace("c-0042", "00123")))
    assert profile.client_id == "00123"


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("yes", True), ("on", True),
                                                  ("false", False), ("no", False)])
def test_boolean_fields_accept_yaml_words(tmp_path, value, expected):
    profile = load_profile(write_profile(tmp_path, BASE + f"large_print: {value}\n"))
    assert profile.large_print is expected


@pytest.mark.parametrize(
    ("extra", "field", "fragment"),
    [
        ("paper: legal\n", "paper", "valid: a4, letter"),
        ("language: fr\n", "language", "valid: en, es"),
        ("fillable: maybe\n", "fillable", "valid: false, true"),
        ("colour: blue\n", "", "unknown parameter 'colour'"),
        ("langauge: es\n", "", "unknown parameter 'langauge' (did you mean 'language'?)"),
        ("accent_color: teal\n", "accent_color", "must be a colour"),
        ("session_date: next week\n", "session_date", "is not a date"),
        ("note: {fr: Bonjour}\n", "note.fr", "valid: en, es"),  # a note per language
        ("note: {es: [1, 2]}\n", "note.es", "valid string"),
    ],
)
def test_bad_values_name_the_field(tmp_path, extra, field, fragment):
    text = BASE.replace("session_date: 2026-12-01\n", "") if field == "session_date" else BASE
    path = write_profile(tmp_path, text + extra)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert f"{path}: {field}" in str(info.value) if field else str(path) in str(info.value)
    assert fragment in str(info.value)


def test_missing_client_id_is_named(tmp_path):
    path = write_profile(tmp_path, BASE.replace("client_id: c-0042\n", ""))
    with pytest.raises(ProfileError, match="client_id: required field is missing"):
        load_profile(path)


@pytest.mark.parametrize("client_id", ["../x", "Alex Smith", "a/b", "x" * 65, ""])
def test_client_id_must_be_a_safe_slug(tmp_path, client_id):
    path = write_profile(tmp_path, BASE.replace("c-0042", repr(client_id)))
    with pytest.raises(ProfileError, match="client_id"):
        load_profile(path)


def test_partners_must_be_a_list_of_names(tmp_path):
    path = write_profile(tmp_path, BASE.replace("partners:\n  - name: Robin", "partners: 3"))
    with pytest.raises(ProfileError, match="partners"):
        load_profile(path)


def test_unknown_practice_setting_lists_valid_settings(tmp_path):
    (tmp_path / "practice.yaml").write_text("practice_nme: Typo\n")
    path = write_profile(tmp_path, BASE)
    with pytest.raises(ProfileError, match=r"practice_nme: is not a practice setting \(valid:"):
        load_profile(path)


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    path = write_profile(tmp_path, "client_id: c-1\npartners: [{name: A}\n")
    with pytest.raises(ProfileError, match=r"malformed YAML") as info:
        load_profile(path)
    assert str(path) in str(info.value) and "line" in str(info.value)
