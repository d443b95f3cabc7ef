"""The ledger's hash chain as pure functions (hab.stock.chain): no database, so that the
mutation run (scripts/mutation) can check every change to the chain's rules in
milliseconds. The expected hashes are worked out here from the written format, not by
calling the module under test."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hab.stock import chain
from hab.stock.chain import GENESIS, Break, entry_hash, first_break

OSLO_WINTER = timezone(timedelta(hours=1))


def content(seq: int = 1, **overrides) -> dict:
    """One entry's hashed content: a waste of 7.5 mg at 09:30:05.000123 Oslo time."""
    values = {
        "seq": seq,
        "clinic": 3,
        "product": 5,
        "batch": 8,
        "kind": "waste",
        "quantity_mg": Decimal("-7.50"),
        "balance_mg": Decimal("992.5"),
        "at": datetime(2026, 11, 20, 9, 30, 5, 123, tzinfo=OSLO_WINTER),
        "recorded_by": 11,
        "witness": 12,
        "reason": "Søl",
        "reference": "",
        "administration": None,
        "transfer_from": None,
        "count": None,
    }
    values.update(overrides)
    return values


# The same entry written out by hand: keys sorted, no spaces, UTF-8 kept as is, amounts
# with one decimal, the time in UTC to the microsecond, and the previous hash last in order.
WRITTEN = (
    '{"administration":null,"at":"2026-11-20T08:30:05.000123+00:00","balance_mg":"992.5",'
    '"batch":8,"clinic":3,"count":null,"kind":"waste","prev_hash":"%s","product":5,'
    '"quantity_mg":"-7.5","reason":"Søl","recorded_by":11,"reference":"","seq":1,'
    '"transfer_from":null,"witness":12}'
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chained(count: int) -> list[dict]:
    """``count`` stored entries (seq 1..count) as the database holds them."""
    entries, prev = [], GENESIS
    for seq in range(1, count + 1):
        row = content(seq, balance_mg=Decimal(1000 - seq))
        row["prev_hash"] = prev
        row["hash"] = entry_hash(row, prev)
        prev = row["hash"]
        entries.append(row)
    return entries


def test_the_genesis_hash_is_64_zeros() -> None:
    assert GENESIS == "0000000000000000000000000000000000000000000000000000000000000000"


def test_every_field_of_an_entry_is_hashed_in_a_fixed_order() -> None:
    assert chain.FIELDS == (
        "seq",
        "clinic",
        "product",
        "batch",
        "kind",
        "quantity_mg",
        "balance_mg",
        "at",
        "recorded_by",
        "witness",
        "reason",
        "reference",
        "administration",
        "transfer_from",
        "count",
    )


def test_the_hash_is_sha256_of_the_written_format() -> None:
    assert entry_hash(content(), GENESIS) == sha(WRITTEN % GENESIS)
    prev = "ab" * 32
    assert entry_hash(content(), prev) == sha(WRITTEN % prev)


def test_the_hash_does_not_depend_on_the_entry_s_time_zone_or_extra_keys() -> None:
    same_instant = datetime(2026, 11, 20, 8, 30, 5, 123, tzinfo=UTC)
    assert entry_hash(content(at=same_instant), GENESIS) == sha(WRITTEN % GENESIS)
    # The stored row also carries its own hashes; they are not part of the content.
    row = content(prev_hash="x", hash="y", id=99)
    assert entry_hash(row, GENESIS) == sha(WRITTEN % GENESIS)


def test_a_time_on_the_whole_second_keeps_its_microseconds() -> None:
    whole = content(at=datetime(2026, 11, 20, 9, 30, 5, tzinfo=OSLO_WINTER))
    expected = WRITTEN.replace("08:30:05.000123", "08:30:05.000000") % GENESIS
    assert entry_hash(whole, GENESIS) == sha(expected)


@pytest.mark.parametrize(
    ("amount", "written"),
    [(Decimal("150"), "150.0"), (Decimal("7.24"), "7.2"), (Decimal("0.06"), "0.1")],
)
def test_amounts_are_hashed_to_one_decimal(amount: Decimal, written: str) -> None:
    expected = WRITTEN.replace('"quantity_mg":"-7.5"', f'"quantity_mg":"{written}"')
    assert entry_hash(content(quantity_mg=amount), GENESIS) == sha(expected % GENESIS)


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 2},
        {"clinic": 4},
        {"product": 6},
        {"batch": 9},
        {"kind": "receipt"},
        {"quantity_mg": Decimal("-7.6")},
        {"balance_mg": Decimal("992.4")},
        {"at": datetime(2026, 11, 20, 9, 30, 5, 124, tzinfo=OSLO_WINTER)},
        {"recorded_by": 13},
        {"witness": None},
        {"reason": "Sol"},
        {"reference": "Levering 4711"},
        {"administration": 1},
        {"transfer_from": 1},
        {"count": 1},
    ],
)
def test_changing_any_field_changes_the_hash(change: dict) -> None:
    assert entry_hash(content(**change), GENESIS) != entry_hash(content(), GENESIS)


def test_an_empty_chain_with_an_empty_head_is_whole() -> None:
    assert first_break([], 0, GENESIS) == (0, None)


def test_a_whole_chain_is_checked_to_its_head() -> None:
    entries = chained(4)
    assert first_break(entries, 4, entries[-1]["hash"]) == (4, None)


def test_a_changed_entry_is_named() -> None:
    entries = chained(4)
    entries[2]["quantity_mg"] = Decimal("-700")

    assert first_break(entries, 4, entries[-1]["hash"]) == (2, Break(3, "changed"))


def test_a_rehashed_entry_breaks_the_link_of_the_next() -> None:
    entries = chained(4)
    entries[1]["quantity_mg"] = Decimal("-700")
    entries[1]["hash"] = entry_hash(entries[1], entries[1]["prev_hash"])

    assert first_break(entries, 4, entries[-1]["hash"]) == (2, Break(3, "link"))


def test_a_deleted_entry_is_missing() -> None:
    entries = chained(4)
    del entries[1]

    assert first_break(entries, 4, entries[-1]["hash"]) == (1, Break(3, "missing"))


def test_a_deleted_first_entry_is_missing() -> None:
    entries = chained(3)
    del entries[0]

    assert first_break(entries, 3, entries[-1]["hash"]) == (0, Break(2, "missing"))


def test_a_repeated_seq_is_an_insertion() -> None:
    entries = chained(3)
    entries.insert(2, dict(entries[1]))

    assert first_break(entries, 3, entries[-1]["hash"]) == (2, Break(2, "inserted"))


def test_entries_past_the_head_were_added_outside_hab() -> None:
    entries = chained(5)

    assert first_break(entries, 4, entries[3]["hash"]) == (5, Break(5, "inserted"))
    assert first_break(entries, 3, entries[2]["hash"]) == (5, Break(4, "inserted"))


def test_deleted_newest_entries_are_missing_against_the_head() -> None:
    entries = chained(5)

    assert first_break(entries[:4], 5, entries[4]["hash"]) == (4, Break(5, "missing"))
    assert first_break(entries[:3], 5, entries[4]["hash"]) == (3, Break(4, "missing"))
    assert first_break([], 2, entries[1]["hash"]) == (0, Break(1, "missing"))


def test_a_head_that_does_not_end_the_chain_is_reported() -> None:
    entries = chained(3)

    assert first_break(entries, 3, entries[1]["hash"]) == (3, Break(3, "head"))
    # With no entries there is no seq to name.
    assert first_break([], 0, entries[0]["hash"]) == (0, Break(None, "head"))


def test_the_first_entry_must_link_to_genesis() -> None:
    entries = chained(2)
    entries[0]["prev_hash"] = "1" * 64
    entries[0]["hash"] = entry_hash(entries[0], entries[0]["prev_hash"])

    assert first_break(entries, 2, entries[-1]["hash"]) == (0, Break(1, "link"))


def test_entries_are_read_once_and_lazily() -> None:
    # The database rows arrive as a generator (server-side cursor); one pass must do.
    entries = chained(3)
    assert first_break(iter(entries), 3, entries[-1]["hash"]) == (3, None)


@settings(database=None, max_examples=60, deadline=None)
@given(
    length=st.integers(min_value=1, max_value=8),
    data=st.data(),
)
def test_any_single_changed_entry_is_found_where_it_was_changed(length: int, data) -> None:
    entries = chained(length)
    at = data.draw(st.integers(min_value=0, max_value=length - 1))
    field = data.draw(st.sampled_from([name for name in chain.FIELDS if name != "seq"]))
    entries[at][field] = "tampered"

    checked, broken = first_break(entries, length, entries[-1]["hash"])

    assert (checked, broken) == (at, Break(at + 1, "changed"))
