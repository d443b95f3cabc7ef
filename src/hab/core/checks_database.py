"""HAB's deployment checks of the database itself (tag ``hab``, run by ``hab check-deploy``).

They answer what a clinic's operator needs before opening: are all migrations applied,
are the indexes the dosing board, the ledger, the exports and the indicators rely on all
present (a DBA may have dropped one), and is the PostgreSQL server set up for HAB's
workers. Like every database check they run only when ``check`` is given the databases.
"""

from __future__ import annotations

import os

from django.apps import apps
from django.core.checks import Error, Warning, register
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from hab.core.checks import TAG


def _hab_models():
    return [model for model in apps.get_models() if model.__module__.startswith("hab.")]


def expected_indexes() -> dict[str, set[str]]:
    """The named indexes and unique constraints each HAB table should have."""
    expected: dict[str, set[str]] = {}
    for model in _hab_models():
        names = {index.name for index in model._meta.indexes}
        names |= {
            constraint.name
            for constraint in model._meta.constraints
            if constraint.__class__.__name__ == "UniqueConstraint"
        }
        if names:
            expected[model._meta.db_table] = names
    return expected


def present_indexes(connection) -> dict[str, set[str]]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
            )
            rows = cursor.fetchall()
        else:
            cursor.execute(
                "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' AND name NOT "
                "LIKE 'sqlite_autoindex%'"
            )
            rows = cursor.fetchall()
    present: dict[str, set[str]] = {}
    for table, name in rows:
        present.setdefault(table, set()).add(name)
    return present


@register(TAG, "database", deploy=True)
def check_database(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    connection = connections["default"]
    try:
        connection.ensure_connection()
    except Exception as error:  # any failure to connect is the finding
        return [
            Error(
                f"HAB cannot connect to its database: {error}",
                hint="Check HAB_DATABASE_URL and that the database server is running.",
                id="hab.E010",
            )
        ]
    problems = []
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in pending[:5])
        return [
            Error(
                f"{len(pending)} database migrations are not applied ({names}...).",
                hint="Run `hab migrate` before starting HAB.",
                id="hab.E011",
            )
        ]
    present = present_indexes(connection)
    missing = sorted(
        f"{table}.{name}"
        for table, names in expected_indexes().items()
        for name in names
        if name not in present.get(table, set())
        # SQLite keeps some unique constraints as table constraints, not named indexes.
        and not (
            connection.vendor == "sqlite" and _sqlite_table_constraint(connection, table, name)
        )
    )
    if missing:
        problems.append(
            Error(
                f"Indexes HAB relies on are missing: {', '.join(missing)}.",
                hint="They are created by the migrations; someone dropped them. Recreate "
                "them (see docs/operations.md, Indexes) before the board and ledger slow down.",
                id="hab.E012",
            )
        )
    if connection.vendor == "postgresql":
        problems += _postgres_settings(connection)
    return problems


def _sqlite_table_constraint(connection, table: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        row = cursor.fetchone()
    return bool(row and f'CONSTRAINT "{name}"' in (row[0] or ""))


def _postgres_settings(connection) -> list:
    problems = []
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        version = int(cursor.fetchone()[0])
        cursor.execute("SHOW max_connections")
        max_connections = int(cursor.fetchone()[0])
    if version < 130000:
        problems.append(
            Warning(
                "PostgreSQL is older than 13; HAB is tested on 15.",
                hint="Upgrade the database server.",
                id="hab.W010",
            )
        )
    workers = int(os.environ.get("HAB_WORKERS") or 0)
    # Each gunicorn worker keeps one connection; leave room for cron jobs, backups, psql.
    if workers and max_connections < workers + 10:
        problems.append(
            Warning(
                f"PostgreSQL allows {max_connections} connections; HAB_WORKERS={workers} "
                "workers need one each, plus room for backups and cron jobs.",
                hint="Raise max_connections or lower HAB_WORKERS.",
                id="hab.W011",
            )
        )
    if not connection.settings_dict.get("CONN_MAX_AGE"):
        problems.append(
            Warning(
                "HAB_DB_CONN_MAX_AGE is 0: every request opens a new PostgreSQL connection "
                "(several milliseconds on the dosing round's path).",
                hint="Leave HAB_DB_CONN_MAX_AGE at its default (60 s) unless a pooler "
                "such as PgBouncer in transaction mode sits in between.",
                id="hab.W012",
            )
        )
    return problems
