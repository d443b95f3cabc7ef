"""Consistent online backups of HAB's database, and their restore into an empty one.

A backup is two files: the dump (``.sqlite3`` made with SQLite's online backup API, or
``.pgdump`` made by ``pg_dump -Fc``) and beside it ``<dump>.json``, the manifest: HAB's
version, the applied migrations, the number of rows of every table and the dump's SHA-256.
The counts are taken from the very snapshot the dump holds (read back from the SQLite copy;
on PostgreSQL counted in the transaction whose snapshot pg_dump is given), so a restore can
prove it got every row, however busy the clinic was while the backup ran.

A restore refuses a database that holds tables (unless forced), restores, then checks the
restored database against the manifest (every table's row count, the migrations, the
append-only triggers, UPDATE's and DELETE's) and runs ``hab verify-ledger`` on it: the
ledger's hash chains, its signed checkpoints (with this server's HAB_LEDGER_KEY) and every
dose against its debits.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import dj_database_url

from hab.core.append_only import TABLES as APPEND_ONLY

FORMAT = "hab-backup/1"
SUFFIX = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says what to do."""


@dataclass(frozen=True)
class Database:
    """Where a database is, in the terms of the tools that copy it."""

    vendor: str  # "sqlite" or "postgresql"
    name: str  # SQLite: the file; PostgreSQL: the database name
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings_dict: dict) -> Database:
        engine = settings_dict["ENGINE"]
        # Django's backends, or HAB's own built on them (hab.core.backends.sqlite).
        if "sqlite" in engine:
            return cls("sqlite", str(settings_dict["NAME"]))
        if "postgres" in engine:
            return cls(
                "postgresql",
                str(settings_dict["NAME"]),
                host=str(settings_dict.get("HOST") or ""),
                port=str(settings_dict.get("PORT") or ""),
                user=str(settings_dict.get("USER") or ""),
                password=str(settings_dict.get("PASSWORD") or ""),
            )
        raise BackupError(f"Backups of {engine} databases are not supported.")

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls.from_settings(dj_database_url.parse(url))

    @property
    def url(self) -> str:
        """As HAB_DATABASE_URL spells it (with the password: for child processes only)."""
        if self.vendor == "sqlite":
            return f"sqlite:///{Path(self.name).resolve()}"
        login = quote(self.user, safe="")
        if self.password:
            login += ":" + quote(self.password, safe="")
        netloc = f"{login}@" if login else ""
        netloc += self.host or "localhost"
        if self.port:
            netloc += f":{self.port}"
        return f"postgres://{netloc}/{quote(self.name, safe='')}"

    def libpq(self, dbname: str | None = None) -> dict[str, str]:
        """psycopg's connection keywords."""
        values = {
            "dbname": dbname or self.name,
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
        }
        return {key: value for key, value in values.items() if value}

    def conninfo(self, dbname: str | None = None) -> str:
        """A libpq connection string for pg_dump and pg_restore, without the password
        (that goes in PGPASSWORD, not on a command line others can read)."""
        values = self.libpq(dbname)
        values.pop("password", None)
        return " ".join(f"{key}='{_libpq_quote(value)}'" for key, value in values.items())

    def tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def _libpq_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version() -> str:
    try:
        return metadata.version("hab")
    except metadata.PackageNotFoundError:
        return "unknown"


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".json")


def default_name(db: Database, folder: Path, now: datetime.datetime) -> Path:
    return folder / f"hab-{now:%Y%m%d-%H%M%S}{SUFFIX[db.vendor]}"


# --- reading a database: tables, counts, migrations, triggers -------------------------------


def _sqlite_tables(con: sqlite3.Connection) -> list[str]:
    rows = con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [name for (name,) in rows]


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_state(con: sqlite3.Connection) -> dict[str, Any]:
    tables = _sqlite_tables(con)
    counts = {
        table: con.execute(f"SELECT count(*) FROM {_sqlite_quote(table)}").fetchone()[0]
        for table in tables
    }
    migrations = (
        [f"{app}.{name}" for app, name in con.execute("SELECT app, name FROM django_migrations")]
        if "django_migrations" in counts
        else []
    )
    triggers = {
        name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    guarded = sorted(t for t in APPEND_ONLY if t in counts and f"{t}_no_update" in triggers)
    undeletable = sorted(t for t in APPEND_ONLY if t in counts and f"{t}_no_delete" in triggers)
    return {
        "tables": counts,
        "migrations": sorted(migrations),
        "append_only": guarded,
        "no_delete": undeletable,
    }


def _pg_state(cursor) -> dict[str, Any]:
    from psycopg import sql

    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [name for (name,) in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    migrations: list[str] = []
    if "django_migrations" in counts:
        cursor.execute("SELECT app, name FROM django_migrations")
        migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
    cursor.execute(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal"
    )
    triggers = {(table, name) for table, name in cursor.fetchall()}
    guarded = sorted(t for t in APPEND_ONLY if t in counts and (t, f"{t}_append_only") in triggers)
    # One trigger refuses both UPDATE and DELETE on PostgreSQL.
    return {
        "tables": counts,
        "migrations": sorted(migrations),
        "append_only": guarded,
        "no_delete": guarded,
    }


# --- backup ---------------------------------------------------------------------------------


def backup(db: Database, out: Path) -> dict[str, Any]:
    """Writes the dump to ``out`` and the manifest beside it; returns the manifest. Both
    are written under temporary names first, so a failed backup leaves no file that looks
    like a good one."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if db.vendor == "sqlite":
            state, server = _backup_sqlite(db, partial)
        else:
            state, server = _backup_postgresql(db, partial)
        manifest = {
            "format": FORMAT,
            "hab_version": _version(),
            "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "database": db.vendor,
            "server_version": server,
            "file": out.name,
            "bytes": partial.stat().st_size,
            "sha256": _sha256(partial),
            **state,
        }
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    staged = manifest_path(out).with_suffix(".json.partial")
    staged.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(staged, manifest_path(out))
    return manifest


def _backup_sqlite(db: Database, out: Path) -> tuple[dict, str]:
    source_path = Path(db.name)
    if not source_path.is_file():
        raise BackupError(f"The SQLite database {source_path} does not exist.")
    with closing(sqlite3.connect(source_path, timeout=30)) as source:
        source.execute("PRAGMA busy_timeout = 30000")
        with closing(sqlite3.connect(out)) as copy:
            # One step (pages=-1): the copy is the database as of one read transaction;
            # in WAL mode writers go on meanwhile and do not restart the copy.
            source.backup(copy)
    with closing(sqlite3.connect(out)) as copy:
        _sqlite_functions(copy)
        # A self-contained file: no -wal beside it that a copy of the file could miss.
        copy.execute("PRAGMA journal_mode = DELETE")
        checked = copy.execute("PRAGMA quick_check").fetchone()[0]
        if checked != "ok":
            raise BackupError(f"The copy fails SQLite's check: {checked}")
        return _sqlite_state(copy), sqlite3.sqlite_version


def _sqlite_functions(con: sqlite3.Connection) -> None:
    """REGEXP as Django defines it: the check constraints use it, and SQLite's check of
    the copy evaluates them."""

    def regexp(pattern: str | None, value: Any) -> bool | None:
        if pattern is None or value is None:
            return None
        return re.search(pattern, str(value)) is not None

    con.create_function("REGEXP", 2, regexp, deterministic=True)


def pg_tool(name: str) -> str:
    """pg_dump or pg_restore: the newest installed (it must not be older than the server)."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(
        f"{name} was not found (on PATH or in /usr/lib/postgresql/*/bin): install the "
        "PostgreSQL client of the server's version or newer (Debian: postgresql-client)."
    )


def _major(folder: str) -> int:
    try:
        return int(Path(folder).parent.name)
    except ValueError:
        return 0


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({done.returncode}): {done.stderr.strip()}")


def _backup_postgresql(db: Database, out: Path) -> tuple[dict, str]:
    import psycopg

    pg_dump = pg_tool("pg_dump")
    with psycopg.connect(**db.libpq(), connect_timeout=30, autocommit=True) as con:
        # Counts and dump from one snapshot: the transaction exports it, pg_dump imports it,
        # and it stays open until pg_dump is done.
        con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with con.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server = cursor.fetchone()
            state = _pg_state(cursor)
        command = [
            pg_dump,
            "--format=custom",
            f"--snapshot={snapshot}",
            f"--file={out}",
            f"--dbname={db.conninfo()}",
        ]
        _run(command, db.tool_env(), "pg_dump")
        con.execute("ROLLBACK")
    return state, server


# --- restore --------------------------------------------------------------------------------


@dataclass
class Restored:
    manifest: dict
    state: dict
    ledger: str  # hab verify-ledger's report
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def read_manifest(dump: Path) -> dict:
    path = manifest_path(dump)
    if not path.is_file():
        raise BackupError(f"{path.name} is missing: a backup is the dump and its manifest.")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path.name} is not a HAB backup manifest ({FORMAT}).")
    return manifest


def restore(dump: Path, db: Database, *, force: bool = False) -> Restored:
    """Restores ``dump`` into ``db``, which must be empty unless ``force``; then checks it
    against the manifest. Raises BackupError before anything is written when the backup
    or the target is wrong."""
    dump = dump.resolve()
    if not dump.is_file():
        raise BackupError(f"{dump} does not exist.")
    manifest = read_manifest(dump)
    if manifest["database"] != db.vendor:
        raise BackupError(
            f"The backup is of a {manifest['database']} database; it cannot be restored "
            f"into {db.vendor}."
        )
    if _sha256(dump) != manifest["sha256"]:
        raise BackupError(
            f"{dump.name} does not match its manifest's SHA-256: the file is damaged or "
            "not the one backed up. Nothing was restored."
        )
    if db.vendor == "sqlite":
        _restore_sqlite(dump, db, force)
        with closing(sqlite3.connect(db.name)) as con:
            state = _sqlite_state(con)
    else:
        _restore_postgresql(dump, db, force)
        import psycopg

        with psycopg.connect(**db.libpq(), connect_timeout=30) as con, con.cursor() as cursor:
            state = _pg_state(cursor)
    problems = compare(manifest, state)
    ledger, chain_ok = verify_ledger(db)
    if not chain_ok:
        problems.append("the controlled-drug ledger's hash chain does not verify: " + ledger)
    return Restored(manifest, state, ledger, problems)


def compare(manifest: dict, state: dict) -> list[str]:
    """What differs between the manifest and a restored database, in words."""
    problems = []
    expected, found = manifest["tables"], state["tables"]
    for table in sorted(set(expected) - set(found)):
        problems.append(f"table {table} is missing")
    for table in sorted(set(found) - set(expected)):
        problems.append(f"table {table} is not in the backup")
    for table in sorted(set(expected) & set(found)):
        if expected[table] != found[table]:
            problems.append(f"{table}: {found[table]} rows, the backup has {expected[table]}")
    if manifest["migrations"] != state["migrations"]:
        problems.append("the applied migrations differ from the backup's")
    for table in sorted(set(manifest["append_only"]) - set(state["append_only"])):
        problems.append(f"{table} has lost its append-only trigger")
    # Manifests written before SQLite's DELETE triggers have no "no_delete".
    for table in sorted(set(manifest.get("no_delete", [])) - set(state.get("no_delete", []))):
        problems.append(f"{table} has lost the trigger that refuses DELETE")
    return problems


def _restore_sqlite(dump: Path, db: Database, force: bool) -> None:
    target = Path(db.name).resolve()
    if target == dump:
        raise BackupError("The backup and the target are the same file.")
    if target.exists() and target.stat().st_size:
        with closing(sqlite3.connect(target)) as con:
            tables = _sqlite_tables(con)
        if tables and not force:
            raise BackupError(
                f"{target} is not empty ({len(tables)} tables). Restore into a new file "
                "(--database-url sqlite:////path/new.sqlite3), or add --force to replace "
                "everything in it."
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(f"file:{dump}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target, timeout=30)) as con,
    ):
        source.backup(con)
        con.execute("PRAGMA journal_mode = WAL")


def _restore_postgresql(dump: Path, db: Database, force: bool) -> None:
    import psycopg
    from psycopg import sql

    try:
        con = psycopg.connect(**db.libpq(), connect_timeout=30, autocommit=True)
    except psycopg.OperationalError as error:
        if f'"{db.name}" does not exist' not in str(error):
            raise BackupError(f"Cannot connect to the target database: {error}") from error
        with psycopg.connect(**db.libpq("postgres"), connect_timeout=30, autocommit=True) as server:
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db.name)))
        con = psycopg.connect(**db.libpq(), connect_timeout=30, autocommit=True)
    with con:
        tables = con.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()[0]
        if tables and not force:
            raise BackupError(
                f"The database {db.name} is not empty ({tables} tables). Restore into a new "
                "database (createdb, then --database-url postgres://…/new), or add --force "
                "to replace everything in it."
            )
        if tables:
            con.execute("DROP SCHEMA public CASCADE")
            con.execute("CREATE SCHEMA public")
    command = [
        pg_tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={db.conninfo()}",
        str(dump),
    ]
    _run(command, db.tool_env(), "pg_restore")


# The command by whichever spelling this version of HAB gives it.
_VERIFY = (
    "import django; django.setup(); "
    "from django.core.management import call_command, get_commands; "
    "call_command('verify-ledger' if 'verify-ledger' in get_commands() else 'verify_ledger')"
)


def verify_ledger(db: Database) -> tuple[str, bool]:
    """``hab verify-ledger`` on ``db``, in a child process whose HAB_DATABASE_URL is it."""
    env = db.tool_env() | {
        "HAB_DATABASE_URL": db.url,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "hab.settings"),
        # The child finds the same code as this process (a checkout, a test run).
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    done = subprocess.run(
        [sys.executable, "-c", _VERIFY],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    text = (done.stdout + done.stderr).strip()
    return text, done.returncode == 0
