"""The one rule for people's names: a letter, nothing invisible, one spelling (NFC)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hab.core.names import PersonNameError, person_name

LIMIT = 100


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Kari", "Kari"),
        ("Åse Ødegård", "Åse Ødegård"),
        ("Bjørn-Æge", "Bjørn-Æge"),
        ("Áile Ŋ", "Áile Ŋ"),
        ("Máret Sárá Čeavlluš", "Máret Sárá Čeavlluš"),
        ("Anne-Marit O'Brien", "Anne-Marit O'Brien"),
        ("D\u2019Souza", "D\u2019Souza"),
        ("Ola Jr.", "Ola Jr."),
        ("  Kari   Nordmann  ", "Kari Nordmann"),
        ("Kari\tNordmann\n", "Kari Nordmann"),
        ("Nguyễn", "Nguyễn"),
        ("Ольга", "Ольга"),
        ("李", "李"),
        ("x", "x"),
    ],
)
def test_it_accepts_the_names_people_have(typed, stored):
    assert person_name(typed, max_length=LIMIT) == stored


def test_a_decomposed_name_is_stored_composed():
    # "Å" pasted from a Mac: A and a combining ring; "ø" has no decomposition.
    typed = "A\u030ase \u00d8deg\u00e5rd"
    stored = person_name(typed, max_length=LIMIT)

    assert stored == "\u00c5se \u00d8deg\u00e5rd"
    assert len(stored) == len(typed) - 1
    assert person_name("Åse Ødegård", max_length=LIMIT) == stored


@pytest.mark.parametrize(
    ("typed", "char"),
    [
        ("\u200b\u200b", "U+200B"),
        ("\u202eevil", "U+202E"),
        ("Kari\u200bNordmann", "U+200B"),
        ("Kari\u200d", "U+200D"),
        ("\ufeffKari", "U+FEFF"),
        ("Kari\u2066", "U+2066"),
        ("Kari\x00", "U+0000"),
        ("Kari\x07", "U+0007"),
        ("Kari\x7f", "U+007F"),
        ("Kari\u00ad", "U+00AD"),
        ("Kari\ue000", "U+E000"),
        ("Kari\ud800", "U+D800"),
    ],
)
def test_it_refuses_invisible_and_direction_changing_characters(typed, char):
    with pytest.raises(PersonNameError) as refused:
        person_name(typed, max_length=LIMIT)

    assert refused.value.code == "invisible"
    assert refused.value.char == char


@pytest.mark.parametrize("typed", ["-", "'", "...", "123", "- 42", "\u0301", "🙂", "@@"])
def test_it_refuses_a_name_without_a_letter(typed):
    with pytest.raises(PersonNameError) as refused:
        person_name(typed, max_length=LIMIT)

    assert refused.value.code == "no_letter"


@pytest.mark.parametrize("typed", ["", " ", "   \t  ", "\n"])
def test_it_refuses_an_empty_name(typed):
    with pytest.raises(PersonNameError) as refused:
        person_name(typed, max_length=LIMIT)

    assert refused.value.code == "empty"


def test_the_length_is_counted_after_normalising():
    assert person_name("a" * LIMIT, max_length=LIMIT) == "a" * LIMIT
    assert person_name("a" * (LIMIT - 1), max_length=LIMIT) == "a" * (LIMIT - 1)
    # Spaces around and a decomposed letter do not count against the limit.
    assert person_name(" " + "a" * (LIMIT - 1) + "A\u030a ", max_length=LIMIT).endswith("Å")
    with pytest.raises(PersonNameError) as refused:
        person_name("a" * (LIMIT + 1), max_length=LIMIT)
    assert refused.value.code == "too_long"


@given(st.text(max_size=40))
def test_any_accepted_name_is_composed_with_a_letter_and_nothing_invisible(typed):
    try:
        stored = person_name(typed, max_length=LIMIT)
    except PersonNameError:
        return
    assert unicodedata.is_normalized("NFC", stored)
    assert any(unicodedata.category(c).startswith("L") for c in stored)
    assert not any(unicodedata.category(c).startswith("C") for c in stored)
    assert stored == stored.strip() and "  " not in stored
    assert 0 < len(stored) <= LIMIT
    # Storing a stored name again changes nothing.
    assert person_name(stored, max_length=LIMIT) == stored


@given(st.text(max_size=40), st.sampled_from(["\u200b", "\u202e", "\u2066", "\x00", "\ufeff"]))
def test_one_invisible_character_anywhere_refuses_the_name(typed, invisible):
    at = len(typed) // 2
    with pytest.raises(PersonNameError):
        person_name(typed[:at] + invisible + typed[at:], max_length=LIMIT)


NORWEGIAN = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzæøåABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅáčđŋšŧžÁČĐŊŠŦŽ",
    min_size=1,
    max_size=20,
)


@given(st.lists(NORWEGIAN, min_size=1, max_size=3), st.sampled_from([" ", "-", "'"]))
def test_every_norwegian_and_sami_name_is_accepted_as_typed(parts, joiner):
    typed = joiner.join(parts)
    assume(len(typed) <= LIMIT)
    assert person_name(typed, max_length=LIMIT) == typed
