"""Every append-only table refuses to change or delete a row, even outside the application:
the database itself refuses UPDATE and DELETE, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime
import random
import re
import uuid

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from hab.core.append_only import TABLES

pytestmark = pytest.mark.django_db


def triggers_of(table: str) -> set[str]:
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
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize("table", TABLES)
def test_the_table_has_its_triggers(table):
    expected = (
        {f"{table}_no_update", f"{table}_no_delete"}
        if connection.vendor == "sqlite"
        else {f"{table}_append_only"}
    )

    assert expected <= triggers_of(table), f"{table} lacks an append-only trigger"


# --- a row in any table ---------------------------------------------------------------------


def _columns(cursor, table: str) -> list[tuple[str, str, bool]]:
    """(name, type, needs a value) of the columns a plain INSERT must name."""
    if connection.vendor == "sqlite":
        cursor.execute(f'PRAGMA table_info("{table}")')
        return [
            (name, kind.lower(), bool(notnull) and default is None)
            for _cid, name, kind, notnull, default, pk in cursor.fetchall()
            if not pk
        ]
    cursor.execute(
        "SELECT column_name, udt_name || coalesce('(' || character_maximum_length || ')', ''),"
        " is_nullable = 'NO' AND column_default IS NULL "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s AND is_identity = 'NO' "
        "AND coalesce(column_default, '') NOT LIKE 'nextval%%'",
        [table],
    )
    return list(cursor.fetchall())


def _value(kind: str):
    """A value of the column's type, unlikely to meet a unique constraint."""
    if "int" in kind:
        return random.randint(1000, 30000)  # fits a smallint
    if "bool" in kind:
        return True
    if any(word in kind for word in ("decimal", "numeric", "real", "float", "double")):
        return 1
    if "timestamp" in kind or "datetime" in kind:
        return datetime.datetime(2026, 1, 1, 9, tzinfo=datetime.UTC)
    if "date" in kind:
        return datetime.date(2026, 1, 1)
    if "time" in kind:
        return datetime.time(9)
    if "json" in kind:
        return "[]"
    if "inet" in kind:
        return "127.0.0.1"
    if "uuid" in kind:
        return str(uuid.uuid4())
    length = re.search(r"\((\d+)\)", kind)
    return uuid.uuid4().hex[: int(length.group(1)) if length else 32]


def _existing(table: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id FROM "{table}" ORDER BY id LIMIT 1')
        row = cursor.fetchone()
    return row[0] if row else None


def a_row(table: str, made: dict[str, int] | None = None) -> int:
    """A row of ``table``, whatever its columns: inserted with its CHECK constraints lifted
    for this test's transaction and its required foreign keys pointing at rows made the
    same way, so the test needs no factory for each of the tables, present and future.
    The triggers guard any row; what it holds does not matter."""
    made = {} if made is None else made
    if table in made:
        return made[table]
    with connection.cursor() as cursor:
        relations = connection.introspection.get_relations(cursor, table)
        columns = _columns(cursor, table)
    needed = {name: _value(kind) for name, kind, needs in columns if needs}
    kinds = {name: kind.split("(")[0] for name, kind, _needs in columns}
    for name in needed:
        if name in relations:
            other = relations[name][1]
            if other == table:
                needed[name] = None
            else:
                needed[name] = _existing(other) or a_row(other, made)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        else:
            cursor.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid = %s::regclass",
                [table],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        names = ", ".join(f'"{name}"' for name in needed)
        if connection.vendor == "sqlite":
            marks = ", ".join("%s" for _ in needed)
            values = [str(v) if hasattr(v, "isoformat") else v for v in needed.values()]
        else:
            marks = ", ".join(f"CAST(%s AS {kinds[name]})" for name in needed)
            values = [str(value) for value in needed.values()]
        try:
            if needed:
                cursor.execute(
                    f'INSERT INTO "{table}" ({names}) VALUES ({marks}) RETURNING id', values
                )
            else:
                cursor.execute(f'INSERT INTO "{table}" DEFAULT VALUES RETURNING id')
            made[table] = cursor.fetchone()[0]
        finally:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
    return made[table]


def refused(statement: str, params) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
    except DatabaseError as error:
        assert "append-only" in str(error)
        return True
    return False


@pytest.mark.parametrize("table", TABLES)
def test_the_database_refuses_to_update_or_delete_a_row(table):
    # given a row, written the only way the table allows: appended
    row = a_row(table)

    # when someone changes or deletes it in SQL, behind the application's back
    update = refused(f'UPDATE "{table}" SET id = id WHERE id = %s', [row])
    delete = refused(f'DELETE FROM "{table}" WHERE id = %s', [row])

    # then the database refuses both, and the row is still there
    assert (update, delete) == (True, True)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}" WHERE id = %s', [row])
        assert cursor.fetchone()[0] == 1


def test_an_access_log_row_of_the_application_cannot_be_changed(make_patient):
    make_patient()  # writes its access-log row

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_accesslog SET username = 'x'")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM core_accesslog")


@pytest.mark.django_db(transaction=True)
def test_the_test_flush_empties_the_tables_and_leaves_their_triggers(make_patient):
    """Django empties the database after every transactional test; on SQLite the tests'
    flush lifts the DELETE triggers for its own transaction only (tests/flush.py)."""
    make_patient()

    call_command("flush", interactive=False, verbosity=0)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM core_accesslog")
        assert cursor.fetchone()[0] == 0
    for table in TABLES:
        assert triggers_of(table), table
    assert refused("DELETE FROM core_accesslog WHERE id = %s", [a_row("core_accesslog")])
