"""The research pseudonym: stable, keyed, short, and not the national id."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hab.patients.services import research_id_for

ids = st.text(alphabet="0123456789", min_size=11, max_size=11)


@given(ids)
def test_it_is_stable_and_reveals_no_digits_of_the_id(value):
    pseudonym = research_id_for(value)

    assert pseudonym == research_id_for(value)
    assert len(pseudonym) == 13 and pseudonym.startswith("R")
    assert not any(ch.isdigit() and ch not in "234567" for ch in pseudonym[1:])


@given(ids, ids)
def test_different_people_get_different_pseudonyms(first, second):
    if first != second:
        assert research_id_for(first) != research_id_for(second)


def test_it_depends_on_the_key(settings):
    before = research_id_for("01010112345")
    settings.RESEARCH_KEY = "another-key-" + "z" * 40

    assert research_id_for("01010112345") != before
