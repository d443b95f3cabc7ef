"""A clinic under write load, for the crash and backup tests: Oslo with a diacetylmorphine
batch in the book and patients in maintenance, and helpers that read a database with its
own driver (never through Django), so two databases compare like with like."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import timedelta
from decimal import Decimal

import pytest

from hab.core.access import Actor
from hab.core.backup import Database
from hab.core.models import Clinic
from hab.stock import services as stock
from hab.stock.models import Kind, LedgerEntry
from tests.dosing.helpers import TODAY

RECEIVED_MG = Decimal(1_000_000)


@pytest.fixture
def ward(products, on_prescription, staff):
    """Patient ids of ``n`` patients of HAB Oslo on 200 mg twice a day (ten days of
    history), and a batch BIG of 1,000,000 mg to dose from."""

    def make(n: int) -> list[int]:
        patients = [on_prescription(daily=450)["patient"] for _ in range(n)]
        stock.receipt_record(
            actor=Actor.system(staff["nurse.oslo"]),
            clinic=Clinic.objects.get(code="oslo"),
            product="dam-inj",
            batch="BIG",
            quantity_mg=RECEIVED_MG,
            expires_on=TODAY + timedelta(days=365),
        )
        return patients

    return make


def sessions(days: int):
    """(day, slot, hour) of the sessions from today on, in order."""
    for offset in range(days):
        day = TODAY + timedelta(days=offset)
        yield day, "morning", 9
        yield day, "afternoon", 15


def assert_ledger_exact(clinic: Clinic) -> None:
    """Every batch ends at receipts minus debits, each entry's balance is the running sum,
    every dose given has exactly one debit of its amount, and the hash chain verifies."""
    running: dict[int, Decimal] = {}
    for entry in LedgerEntry.objects.filter(clinic=clinic).order_by("seq"):
        running[entry.batch_id] = running.get(entry.batch_id, Decimal(0)) + entry.quantity_mg
        assert entry.balance_mg == running[entry.batch_id], f"entry {entry.seq}"
    seqs = list(LedgerEntry.objects.filter(clinic=clinic).values_list("seq", flat=True))
    assert sorted(seqs) == list(range(1, len(seqs) + 1))
    from hab.dosing.models import Administration

    given = Administration.objects.filter(clinic=clinic, day__gte=TODAY, status="given")
    debits = LedgerEntry.objects.filter(clinic=clinic, kind=Kind.ADMINISTRATION)
    assert sorted(debits.values_list("administration_id", flat=True)) == sorted(
        given.values_list("pk", flat=True)
    )
    by_dose = dict(given.values_list("pk", "dose_mg"))
    for administration_id, quantity in debits.values_list("administration_id", "quantity_mg"):
        assert quantity == -Decimal(by_dose[administration_id])
    verified = stock.verify(clinic)
    assert verified.ok, verified.broken


# --- reading a database with its own driver ------------------------------------------------


def connect(db: Database):
    if db.vendor == "sqlite":
        return closing(sqlite3.connect(db.name))
    import psycopg

    return psycopg.connect(**db.libpq())


def primary_key(con, vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        info = con.execute(f'PRAGMA table_info("{table}")').fetchall()
        return [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5]]
    rows = con.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
        [f'"{table}"'],
    ).fetchall()
    return [name for (name,) in rows]


def table_rows(db: Database, table: str) -> dict[tuple, tuple]:
    """Every row of ``table`` by its primary key."""
    with connect(db) as con:
        key = primary_key(con, db.vendor, table)
        cursor = con.execute(f'SELECT * FROM "{table}"')
        columns = [d[0] for d in cursor.description]
        positions = [columns.index(name) for name in key] or list(range(len(columns)))
        return {tuple(row[i] for i in positions): tuple(row) for row in cursor.fetchall()}
