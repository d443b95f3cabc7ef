"""What someone with write access to the database could do behind HAB's back: lift the
append-only triggers, change or delete ledger rows, and re-hash the chain so that it
verifies again. The tests of the chain, the checkpoints and the reconciliation use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from hab.stock import chain, services
from hab.stock.models import LedgerEntry


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@contextmanager
def triggers_off(*tables: str) -> Iterator[None]:
    """The append-only triggers of ``tables`` lifted for the block, put back after it."""
    tables = tables or ("stock_ledgerentry",)
    saved: list[str] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks of this transaction must run before ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        else:
            for table in tables:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [table],
                )
                for name, text in cursor.fetchall():
                    cursor.execute(f'DROP TRIGGER "{name}"')
                    saved.append(text)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in tables:
                    cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
            for text in saved:
                cursor.execute(text)


def rehash(clinic, from_seq: int) -> None:
    """Recomputes every hash from ``from_seq`` on and moves the head to the new last hash:
    the stored chain verifies again after a change (triggers must be off)."""
    before = LedgerEntry.objects.filter(clinic=clinic, seq=from_seq - 1).first()
    prev = before.hash if before else chain.GENESIS
    for entry in LedgerEntry.objects.filter(clinic=clinic, seq__gte=from_seq).order_by("seq"):
        digest = chain.entry_hash(services.content_of(entry), prev)
        sql(
            "UPDATE stock_ledgerentry SET prev_hash = %s, hash = %s WHERE id = %s",
            [prev, digest, entry.pk],
        )
        prev = digest
    sql("UPDATE stock_ledgerhead SET hash = %s WHERE clinic_id = %s", [prev, clinic.pk])


def rewind(clinic, to_seq: int) -> None:
    """Deletes the entries after ``to_seq`` and winds the head back to it."""
    last = LedgerEntry.objects.get(clinic=clinic, seq=to_seq)
    with triggers_off():
        sql("DELETE FROM stock_ledgerentry WHERE clinic_id = %s AND seq > %s", [clinic.pk, to_seq])
    sql(
        "UPDATE stock_ledgerhead SET seq = %s, hash = %s WHERE clinic_id = %s",
        [to_seq, last.hash, clinic.pk],
    )
