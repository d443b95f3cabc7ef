"""Finding a patient on the dosing board (hab.dosing.search): what the nurse types."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hab.dosing.search import Candidate, Query, fold, matches

RUNE = Candidate("Rune", "Amundsen", date(1979, 3, 14), "14037912345")

# Names as the Norwegian population register writes them: letters including æ, ø, å,
# capitalised, sometimes a hyphen in the family name.
LETTERS = "abcdefghijklmnopqrstuvwxyzæøå"
words = st.text(alphabet=LETTERS, min_size=2, max_size=12).map(str.capitalize)
family_names = st.lists(words, min_size=1, max_size=2).map("-".join)
birth_dates = st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31))
patients = st.builds(Candidate, given_name=words, family_name=family_names, birth_date=birth_dates)


def shuffle_case(text: str, flips: list[bool]) -> str:
    return "".join(c.upper() if flip else c.lower() for c, flip in zip(text, flips, strict=False))


@pytest.mark.parametrize(
    "typed",
    [
        "Amundsen, Rune",  # as the board's list writes the name
        "Amundsen,Rune",
        "  amundsen ,  rune ",
        "Rune Amundsen",  # as it is spoken
        "rune amundsen",
        "RUNE",
        "amu",  # the start of a name
        "ru am",
        "mund",  # three letters or more: inside a name too
        "RA",  # the initials on the photo placeholder
        "ra",
        "140379",  # ddmmyy
        "14031979",  # ddmmyyyy
        "14.03.1979",  # dd.mm.yyyy
        "14.3.79",
        "14/03/1979",
        "1403",  # the start of the birth date
        "14037912345",  # the national id
        "Rune 140379",  # a name and a date together
    ],
)
def test_the_forms_the_nurse_types_find_the_patient(typed):
    assert matches(typed, RUNE)


@pytest.mark.parametrize(
    "typed",
    [
        "Amundsen, Kari",  # every part must match
        "un",  # two letters match only at the start of a name
        "RK",  # other initials
        "AR",  # the initials the other way round
        "150379",  # another day
        "14031980",  # another year
        "14.03.1980",
        "14.04.1979",
        "99",
        "Hansen",
    ],
)
def test_what_is_not_the_patient_does_not_find_them(typed):
    assert not matches(typed, RUNE)


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Ødegård", ("Åse", "Ødegård")),
        ("ødegård", ("Åse", "Ødegård")),
        ("ØDEGÅRD", ("Åse", "Ødegård")),
        ("odegard", ("Åse", "Ødegård")),  # a keyboard without Norwegian letters
        ("Odegaard", ("Åse", "Ødegård")),  # the old spelling
        ("ÅØ", ("Åse", "Ødegård")),  # initials in Norwegian letters
        ("åø", ("Åse", "Ødegård")),
        ("saether", ("Per", "Sæther")),
        ("Sæther, Per", ("Per", "Sæther")),
        ("Haakon", ("Håkon", "Berg")),
        ("olsen", ("Kari", "Berg-Olsen")),  # each part of a double name
        ("Berg-Olsen, Kari", ("Kari", "Berg-Olsen")),
        ("rene", ("René", "Dahl")),
    ],
)
def test_norwegian_letters_and_spellings_find_the_name(typed, name):
    given_name, family_name = name
    assert matches(typed, Candidate(given_name, family_name, date(1980, 1, 1)))


def test_an_empty_query_finds_everyone():
    assert not Query.parse("  , ")
    assert matches("", RUNE)


@given(patients, st.lists(st.booleans(), min_size=40, max_size=40))
def test_the_name_as_the_list_shows_it_finds_the_patient_in_any_case(patient, flips):
    listed = f"{patient.family_name}, {patient.given_name}"
    assert matches(shuffle_case(listed, flips), patient)


@given(patients, st.lists(st.booleans(), min_size=40, max_size=40))
def test_the_name_as_spoken_finds_the_patient_in_any_case(patient, flips):
    spoken = f"{patient.given_name} {patient.family_name}"
    assert matches(shuffle_case(spoken, flips), patient)


@given(patients, st.data())
def test_the_start_of_any_part_of_the_name_finds_the_patient(patient, data):
    part = data.draw(st.sampled_from([patient.given_name, *patient.family_name.split("-")]))
    length = data.draw(st.integers(min_value=1, max_value=len(part)))
    assert matches(part[:length], patient)


@given(patients)
def test_the_initials_on_the_photo_find_the_patient(patient):
    initials = patient.given_name[:1] + patient.family_name[:1]
    assert matches(initials.upper(), patient)
    assert matches(initials.lower(), patient)


@given(patients)
def test_the_birth_date_in_each_written_form_finds_the_patient(patient):
    born = patient.birth_date
    for typed in (
        born.strftime("%d%m%y"),
        born.strftime("%d%m%Y"),
        born.strftime("%d.%m.%Y"),
        born.strftime("%d.%m.%y"),
        f"{born.day}.{born.month}.{born.year}",
    ):
        assert matches(typed, patient), typed


@given(patients, birth_dates)
def test_another_birth_date_does_not_find_the_patient(patient, other):
    if other == patient.birth_date:
        return
    assert not matches(other.strftime("%d.%m.%Y"), patient)
    assert not matches(other.strftime("%d%m%Y"), patient)
    if other.strftime("%d%m%y") != patient.birth_date.strftime("%d%m%y"):
        assert not matches(other.strftime("%d%m%y"), patient)


@given(st.text(alphabet=LETTERS + LETTERS.upper() + " -", max_size=20))
def test_folding_is_idempotent_and_case_blind(text):
    assert fold(fold(text)) == fold(text)
    assert fold(text.upper()) == fold(text.lower())
