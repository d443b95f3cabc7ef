"""The ledger's signed checkpoints as pure functions (hab.stock.checkpoint): no database,
so that the mutation run (scripts/mutation) checks each of their rules in milliseconds.
The signed text and the signatures are written out here from the documented format, not
taken from the module under test; test_checkpoints.py does the tamperings on a database."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from hab.stock import checkpoint
from hab.stock.chain import GENESIS, entry_hash

KEY = "ledger-key-for-these-tests-only-0123456789"
OSLO_WINTER = timezone(timedelta(hours=1))
SIGNED_AT = datetime(2026, 11, 20, 23, 55, 1, 42, tzinfo=OSLO_WINTER)
HEAD = "ab" * 32
FIELDS = {"clinic": 3, "day": date(2026, 11, 20), "seq": 5, "head_hash": HEAD}
# The signed text: one field a line, the moment in UTC to the microsecond.
TEXT = (
    f"hab-ledger-checkpoint/1\n3\n2026-11-20\n5\n{HEAD}\n2026-11-20T22:55:01.000042+00:00"
).encode()


def hmac_of(key: str, text: bytes) -> str:
    return hmac.new(key.encode(), text, hashlib.sha256).hexdigest()


def stored(**overrides) -> dict:
    """A checkpoint row as the database keeps it."""
    row = {
        **FIELDS,
        "created_at": SIGNED_AT,
        "key_id": hashlib.sha256(KEY.encode()).hexdigest()[:16],
        "signature": hmac_of(KEY, TEXT),
    }
    row.update(overrides)
    return row


def test_a_key_is_named_by_the_start_of_its_hash() -> None:
    assert checkpoint.key_id(KEY) == hashlib.sha256(KEY.encode()).hexdigest()[:16]
    assert len(checkpoint.key_id("other")) == 16
    assert checkpoint.key_id("other") != checkpoint.key_id(KEY)


def test_the_signed_text_has_one_field_a_line() -> None:
    assert checkpoint.message(created_at=SIGNED_AT, **FIELDS) == TEXT
    same_moment = SIGNED_AT.astimezone(UTC)
    assert checkpoint.message(created_at=same_moment, **FIELDS) == TEXT


def test_the_signature_is_hmac_sha256_of_the_text_under_the_key() -> None:
    assert checkpoint.sign(KEY, created_at=SIGNED_AT, **FIELDS) == hmac_of(KEY, TEXT)


def test_a_checkpoint_as_signed_holds() -> None:
    assert checkpoint.check(KEY, stored(), HEAD) is None


def test_a_checkpoint_of_another_key_says_so_before_anything_else() -> None:
    assert checkpoint.check("another-key", stored(), None) == "key"


@pytest.mark.parametrize(
    "change",
    [
        {"clinic": 4},
        {"day": date(2026, 11, 21)},
        {"seq": 6},
        {"head_hash": "cd" * 32},
        {"created_at": SIGNED_AT + timedelta(microseconds=1)},
        {"signature": hmac_of("another-key", TEXT)},
    ],
)
def test_a_checkpoint_with_any_signed_field_changed_is_forged(change: dict) -> None:
    row = stored(**change)

    assert checkpoint.check(KEY, row, row["head_hash"]) == "signature"


def test_a_chain_that_no_longer_reaches_the_signed_head() -> None:
    assert checkpoint.check(KEY, stored(), None) == "missing"


def test_a_chain_whose_entry_at_the_signed_number_is_another() -> None:
    assert checkpoint.check(KEY, stored(), "cd" * 32) == "changed"


def chained(count: int, start_seq: int = 0, start_hash: str = GENESIS) -> list[dict]:
    entries, prev = [], start_hash
    for seq in range(start_seq + 1, start_seq + count + 1):
        row = {
            "seq": seq,
            "clinic": 3,
            "product": 5,
            "batch": 8,
            "kind": "waste",
            "quantity_mg": Decimal("-10"),
            "balance_mg": Decimal(1000 - seq),
            "at": SIGNED_AT,
            "recorded_by": 11,
            "witness": 12,
            "reason": "Søl",
            "reference": "",
            "administration": None,
            "transfer_from": None,
            "count": None,
            "prev_hash": prev,
        }
        row["hash"] = entry_hash(row, prev)
        prev = row["hash"]
        entries.append(row)
    return entries


def test_a_whole_segment_from_a_good_head_to_the_current_head() -> None:
    entries = chained(6)
    head = entries[-1]

    assert checkpoint.segment_break(entries[2:], 2, entries[1]["hash"], 6, head["hash"]) is None
    assert checkpoint.segment_break(entries, 0, GENESIS, 6, head["hash"]) is None
    # Nothing written since the last checkpoint.
    assert checkpoint.segment_break([], 6, head["hash"], 6, head["hash"]) is None


def test_a_segment_with_a_missing_entry_breaks_there() -> None:
    entries = chained(6)
    del entries[3]

    assert checkpoint.segment_break(entries[2:], 2, entries[1]["hash"], 6, entries[-1]["hash"]) == 5


def test_a_segment_that_does_not_start_from_the_good_head_breaks_at_its_first_entry() -> None:
    entries = chained(6)

    assert checkpoint.segment_break(entries[2:], 2, "cd" * 32, 6, entries[-1]["hash"]) == 3
    assert checkpoint.segment_break(entries[3:], 2, entries[1]["hash"], 6, entries[-1]["hash"]) == 4


def test_a_segment_with_a_changed_entry_breaks_there() -> None:
    entries = chained(6)
    entries[4]["quantity_mg"] = Decimal("-700")

    assert checkpoint.segment_break(entries, 0, GENESIS, 6, entries[-1]["hash"]) == 5


def test_a_segment_that_ends_before_the_head_breaks_after_its_last_entry() -> None:
    entries = chained(6)

    assert checkpoint.segment_break(entries[:4], 0, GENESIS, 6, entries[-1]["hash"]) == 5
    assert checkpoint.segment_break(entries, 0, GENESIS, 5, entries[4]["hash"]) == 7
    assert checkpoint.segment_break(entries, 0, GENESIS, 6, "cd" * 32) == 7


def test_a_renumbered_entry_breaks_where_its_number_is_wrong() -> None:
    entries = chained(6)
    entries[2]["seq"] = 10
    entries[2]["hash"] = entry_hash(entries[2], entries[1]["hash"])

    assert checkpoint.segment_break(entries, 0, GENESIS, 6, entries[-1]["hash"]) == 10
