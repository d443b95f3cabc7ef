"""``hab check-deploy`` looks at the database: migrations applied, HAB's indexes present."""

from __future__ import annotations

import pytest
from django.db import connection

from hab.core.checks_database import check_database, expected_indexes

pytestmark = pytest.mark.django_db


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_a_migrated_database_passes():
    assert not [m for m in check_database(databases=["default"]) if m.id.startswith("hab.E")]


def test_the_checks_know_the_indexes_of_the_hot_paths():
    expected = expected_indexes()
    assert "ledger_batch_seq" in expected["stock_ledgerentry"]
    assert "admin_one_per_slot" in expected["dosing_administration"]


def test_a_dropped_index_is_named():
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX ledger_batch_seq")  # rolled back with the test
    found = check_database(databases=["default"])
    assert "hab.E012" in ids(found)
    assert "stock_ledgerentry.ledger_batch_seq" in next(m.msg for m in found if m.id == "hab.E012")


def test_without_the_databases_nothing_is_asked_of_them():
    assert check_database() == []
