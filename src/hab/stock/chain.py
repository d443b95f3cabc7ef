"""The ledger's hash chain, as pure functions (no Django, no I/O).

Each entry's hash is SHA-256 over its content and the previous entry's hash in the
clinic's chain. Changing a stored entry changes its hash; inserting or deleting one breaks
the sequence or the link to the previous hash. ``first_break`` names the first entry where
the stored chain stops being what was written.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

GENESIS = "0" * 64

# The content that is hashed, in this order. Adding a field would be a new chain version.
FIELDS = (
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


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:.1f}"
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return value


def entry_hash(content: Mapping, prev_hash: str) -> str:
    """The hash of one entry: its content (``FIELDS``) and the hash before it."""
    data = {name: _plain(content[name]) for name in FIELDS}
    data["prev_hash"] = prev_hash
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Break:
    seq: int | None  # the first entry that does not fit
    problem: str  # "changed", "missing", "inserted", "link" (to the previous hash), "head"


def first_break(
    entries: Iterable[Mapping], head_seq: int, head_hash: str
) -> tuple[int, Break | None]:
    """Walks a clinic's entries in ``seq`` order. Returns how many were checked and the
    first break, or None when the chain is whole up to the head."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    for entry in entries:
        seq = entry["seq"]
        if seq < expected_seq:
            return checked, Break(seq, "inserted")
        if seq > expected_seq:
            return checked, Break(seq, "missing")
        if entry["prev_hash"] != prev:
            return checked, Break(seq, "link")
        if entry_hash(entry, prev) != entry["hash"]:
            return checked, Break(seq, "changed")
        checked += 1
        prev = entry["hash"]
        expected_seq += 1
    if checked > head_seq:  # rows appended behind the writers' backs
        return checked, Break(head_seq + 1, "inserted")
    if checked < head_seq:  # the newest rows are gone
        return checked, Break(checked + 1, "missing")
    if prev != head_hash:
        return checked, Break(checked or None, "head")
    return checked, None
