"""The ``hab`` command: Django management with HAB's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hab.settings")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError, ProgrammingError

    argv = list(sys.argv)
    # Commands may be spelt with hyphens or underscores: `hab check-deploy` is check_deploy,
    # `hab verify_ledger` is verify-ledger.
    if len(argv) > 1 and not argv[1].startswith("-"):
        import django
        from django.core.management import get_commands

        django.setup()
        known = get_commands()
        for spelling in (argv[1], argv[1].replace("-", "_"), argv[1].replace("_", "-")):
            if spelling in known:
                argv[1] = spelling
                break
    try:
        execute_from_command_line(argv)
    except (OperationalError, ProgrammingError) as error:
        problem = unmigrated()
        if problem is None:
            raise
        # A command run before `hab migrate` (a fresh data dir, the wrong HAB_DATA_DIR):
        # one line that says what to do, not a traceback from deep inside the ORM.
        sys.stderr.write(f"{problem}\n")
        raise SystemExit(1) from error


def database_name() -> str:
    """Where the default database is, without its password."""
    from django.db import connection

    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return str(config["NAME"])
    host = config.get("HOST") or "localhost"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"{config['NAME']} on {host}{port}"


def unmigrated() -> str | None:
    """What is missing when the database has no tables or migrations not yet applied;
    None when it is migrated (the error had another cause)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        connection.close()  # the failed command may have left a broken transaction
        tables = connection.introspection.table_names()
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        return None  # the database itself cannot be read: the first error says more
    where = database_name()
    if not tables or "django_migrations" not in tables:
        return (
            f"The database at {where} has no tables: run `hab migrate` (or scripts/run-demo "
            "for the demo programme), or set HAB_DATA_DIR / HAB_DATABASE_URL to the one "
            "you meant."
        )
    if plan:
        return (
            f"The database at {where} is not fully migrated ({len(plan)} migrations not "
            "applied): run `hab migrate`."
        )
    return None


if __name__ == "__main__":
    main()
