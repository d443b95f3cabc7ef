"""hab restore FILE [--database-url URL] [--force]: a backup into an empty database,
checked against its manifest and the ledger's hash chains."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from hab.core import backup


class Command(BaseCommand):
    help = (
        "Restores a `hab backup` into an empty database (HAB's own, or --database-url), "
        "then checks every table's row count, the migrations, the append-only triggers "
        "and the ledger's hash chains. Exit status 1 when a check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the dump written by hab backup (FILE.json beside it)")
        parser.add_argument(
            "--database-url",
            help="restore here instead of HAB_DATABASE_URL (sqlite:////path or postgres://…)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace everything in a database that is not empty",
        )

    def handle(self, *args, file, database_url=None, force=False, **options):
        if database_url:
            db = backup.Database.from_url(database_url)
        else:
            db = backup.Database.from_settings(connection.settings_dict)
            # HAB's own SQLite file stays open in this process otherwise.
            connection.close()
        try:
            restored = backup.restore(Path(file), db, force=force)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(restored.state["tables"].values())
        self.stdout.write(
            f"Restored {file} ({restored.manifest['created_at']}, HAB "
            f"{restored.manifest['hab_version']}) into {db.vendor} {db.name}: "
            f"{len(restored.state['tables'])} tables, {rows} rows."
        )
        self.stdout.write(restored.ledger)
        if not restored.ok:
            for problem in restored.problems:
                self.stderr.write(f"FAILED: {problem}")
            raise CommandError("The restored database does not match the backup.", returncode=1)
        self.stdout.write("Every table's rows, the migrations and the ledger chains match.")
