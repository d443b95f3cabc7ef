"""How the tests empty a SQLite database whose append-only tables refuse DELETE.

Django empties the database after every transactional test with ``flush``, which on SQLite
is ``DELETE FROM`` each table: the append-only tables' ``*_no_delete`` triggers refuse it.
The flush is wrapped here, and only here: in its one transaction it drops those triggers,
deletes the rows and creates the triggers again from the SQL SQLite stored for them, so
the next test meets the same schema. Production has no such escape (see
hab.core.append_only). PostgreSQL's flush is TRUNCATE, which row triggers do not see.
"""

from __future__ import annotations

from django.db.backends.signals import connection_created


def _sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    statements = type(self)._plain_sql_flush(
        self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
    )
    if not statements:
        return statements
    with self.connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE '%\\_no\\_delete' ESCAPE '\\'"
        )
        triggers = cursor.fetchall()
    drop = [f'DROP TRIGGER "{name}";' for name, _sql in triggers]
    create = [f"{sql};" for _name, sql in triggers]
    return drop + statements + create


def _wrap(sender, connection, **kwargs) -> None:
    operations = type(connection.ops)
    if connection.vendor == "sqlite" and operations.sql_flush is not _sql_flush:
        operations._plain_sql_flush = operations.sql_flush
        operations.sql_flush = _sql_flush


def allow_test_flush() -> None:
    """Wraps SQLite's flush once its first connection is made (the backend cannot be
    imported while the settings are being read)."""
    connection_created.connect(_wrap, dispatch_uid="hab-test-flush")
