"""Every append-only table refuses to change a row, even outside the application."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from hab.core.append_only import TABLES

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("table", TABLES)
def test_the_table_has_its_trigger(table):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
        else:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
        triggers = [row[0] for row in cursor.fetchall()]

    assert triggers, f"{table} has no append-only trigger"


def test_an_update_is_refused(make_patient):
    make_patient()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_accesslog SET username = 'x'")
