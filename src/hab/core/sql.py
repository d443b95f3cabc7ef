"""Helpers for the few reads done in plain SQL (the dosing board's hot paths)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet


def among(column: str, ids: Iterable[int]) -> tuple[str, list]:
    """``column`` is one of ``ids``: the condition and its parameters. One array parameter
    on PostgreSQL (its driver would otherwise spell out hundreds of them), a list of
    parameters on SQLite."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


@contextmanager
def serial() -> Iterator:
    """A cursor whose queries PostgreSQL plans without parallel workers.

    For the board's few-millisecond reads of a few hundred patients' rows: the planner,
    expecting to read thousands of rows from disk, sometimes chose workers whose start
    cost more than the whole read. The setting is local to a transaction (or savepoint)
    that is rolled back after the read, so nothing else runs under it. Nothing on SQLite
    (no parallel plans, and its transactions take the write lock)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield cursor
        transaction.set_rollback(True)


def not_corrected(records: QuerySet) -> QuerySet:
    """The records no correction has replaced: the current version of each, for a model
    whose corrections are new rows pointing at what they replace (``corrects``).

    Spelt ``corrects IS NOT NULL`` inside, which changes nothing in the answer but tells
    PostgreSQL to find the few corrections through their index instead of hashing every
    record of the table (tens of millions of doses at national scale) to look for them."""
    corrections = records.model.objects.filter(corrects=OuterRef("pk"), corrects__isnull=False)
    return records.exclude(Exists(corrections))
