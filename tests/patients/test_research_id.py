"""The research pseudonym: stable, keyed, short, and not the national id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from django import conf
from hypothesis import given
from hypothesis import strategies as st

from hab.patients.services import research_id_for

ids = st.text(alphabet="0123456789", min_size=11, max_size=11)


@given(ids)
def test_it_is_stable_and_the_keyed_hash_of_the_id_in_base32(value):
    pseudonym = research_id_for(value)
    keyed = hmac.new(conf.settings.RESEARCH_KEY.encode(), value.encode(), hashlib.sha256).digest()

    assert pseudonym == research_id_for(value)
    assert re.fullmatch(r"R[A-Z2-7]{12}", pseudonym)
    assert pseudonym == "R" + base64.b32encode(keyed).decode()[:12]


def test_it_stays_the_same_across_releases(settings):
    """Exports of different years are joined on the research id: a change to how it is
    made would split every patient in two."""
    settings.RESEARCH_KEY = "a-fixed-key-for-this-test-only-0123456789"

    assert research_id_for("01010112345") == "RUJVQJF27XWEZ"
    assert research_id_for("01010112346") == "R742HWFAW3ZSB"


@given(ids, ids)
def test_different_people_get_different_pseudonyms(first, second):
    if first != second:
        assert research_id_for(first) != research_id_for(second)


def test_it_depends_on_the_key(settings):
    before = research_id_for("01010112345")
    settings.RESEARCH_KEY = "another-key-" + "z" * 40

    assert research_id_for("01010112345") != before
