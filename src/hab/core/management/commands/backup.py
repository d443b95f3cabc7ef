"""hab backup [--out FILE]: a consistent online backup of HAB's database and its manifest."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from hab.core import backup


class Command(BaseCommand):
    help = (
        "Backs up the database while HAB runs: SQLite's online backup API or pg_dump -Fc, "
        "plus FILE.json (version, migrations, rows per table, SHA-256)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--out",
            help="the dump file (default: $HAB_DATA_DIR/backups/hab-<time>.sqlite3|.pgdump)",
        )

    def handle(self, *args, out=None, **options):
        db = backup.Database.from_settings(connection.settings_dict)
        if out:
            target = Path(out)
        else:
            target = backup.default_name(db, settings.DATA_DIR / "backups", timezone.localtime())
        try:
            manifest = backup.backup(db, target)
        except backup.BackupError as error:
            raise CommandError(str(error)) from error
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"{target}: {manifest['bytes']} bytes, {len(manifest['tables'])} tables, "
            f"{rows} rows, sha256 {manifest['sha256']}\n"
            f"manifest: {backup.manifest_path(target.resolve())}"
        )
