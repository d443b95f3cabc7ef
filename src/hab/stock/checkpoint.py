"""Signed checkpoints of the ledger's hash chain, as pure functions (no Django, no I/O).

The hash chain shows that the stored entries follow one another, but someone who can
write to the database can rewrite an entry and re-hash every entry after it, or delete
the newest entries and wind the chain head back: the chain then verifies again. Each day
HAB therefore signs every clinic's head (its number and hash) with HMAC-SHA256 under
``HAB_LEDGER_KEY``, a key kept outside the database. A later chain must still pass
through every signed head; without the key nobody can sign a head that suits a rewrite.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Iterable, Mapping

from hab.stock.chain import entry_hash

FORMAT = "hab-ledger-checkpoint/1"


def key_id(key: str) -> str:
    """Names a key without revealing it: the first 16 hex digits of its SHA-256. A
    checkpoint keeps the id of the key that signed it, so a restore on a server that has
    another key says so instead of calling every checkpoint forged."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def message(
    *, clinic: int, day: datetime.date, seq: int, head_hash: str, created_at: datetime.datetime
) -> bytes:
    """What is signed: the format, the clinic, the day, the head's number and hash, and the
    moment, one field a line."""
    moment = created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    lines = [FORMAT, str(clinic), day.isoformat(), str(seq), head_hash, moment]
    return "\n".join(lines).encode()


def sign(key: str, **fields) -> str:
    return hmac.new(key.encode(), message(**fields), hashlib.sha256).hexdigest()


def check(key: str, checkpoint: Mapping, stored_hash: str | None) -> str | None:
    """What is wrong with one checkpoint, or None. ``checkpoint`` has the signed fields
    (clinic, day, seq, head_hash, created_at) and its key_id and signature; ``stored_hash``
    is the hash the stored chain has at the checkpoint's number (None when no entry has
    that number; GENESIS for number 0).

    "key": signed with another key than this server's; "signature": the signature does
    not match its fields (forged, or a field changed); "missing": the chain no longer
    reaches the signed head (the newest entries were deleted); "changed": the entry at
    that number is not the one signed (entries rewritten and re-hashed)."""
    if checkpoint["key_id"] != key_id(key):
        return "key"
    fields = {name: checkpoint[name] for name in ("clinic", "day", "seq", "head_hash")}
    expected = sign(key, created_at=checkpoint["created_at"], **fields)
    if not hmac.compare_digest(expected, checkpoint["signature"]):
        return "signature"
    if stored_hash is None:
        return "missing"
    if stored_hash != checkpoint["head_hash"]:
        return "changed"
    return None


def segment_break(
    entries: Iterable[Mapping], start_seq: int, start_hash: str, head_seq: int, head_hash: str
) -> int | None:
    """Walks the entries after ``start_seq`` (in ``seq`` order) from a head already known
    to be good, up to the current head. Returns the number of the first entry that does not
    follow, or None when the segment is whole: what must hold before a new head is signed.
    """
    expected_seq, prev = start_seq + 1, start_hash
    for entry in entries:
        if entry["seq"] != expected_seq or entry["prev_hash"] != prev:
            return entry["seq"]
        if entry_hash(entry, prev) != entry["hash"]:
            return entry["seq"]
        prev = entry["hash"]
        expected_seq += 1
    if expected_seq - 1 != head_seq or prev != head_hash:
        return expected_seq
    return None
