"""The `hab` command as an operator meets it: on a data dir with no database yet, one
line that says what to do; on SQLite, no warning it has already dealt with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.helpers import hab_environment

# Each test runs `hab` in a process of its own with HAB's settings (not the test settings).
pytestmark = pytest.mark.clock(None)


def hab(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hab.cli", *args],
        env=hab_environment(data_dir) | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "command",
    [["report", "--year", "2026", "--out", "report.pdf"], ["demo"], ["verify-ledger"]],
)
def test_a_command_on_a_new_data_dir_says_to_migrate_in_one_line(tmp_path, command):
    done = hab(tmp_path, *command)

    database = tmp_path / "hab.sqlite3"
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"The database at {database} has no tables: run `hab migrate` (or scripts/run-demo "
        "for the demo programme), or set HAB_DATA_DIR / HAB_DATABASE_URL to the one you meant."
    ]
    assert "Traceback" not in done.stdout + done.stderr


def test_an_empty_database_file_is_named_too(tmp_path):
    (tmp_path / "hab.sqlite3").write_bytes(b"")

    done = hab(tmp_path, "report", "--year", "2026", "--out", "report.pdf")

    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1
    assert "has no tables: run `hab migrate`" in done.stderr


def test_a_half_migrated_database_says_how_many_migrations_are_missing(tmp_path):
    assert hab(tmp_path, "migrate", "contenttypes", "-v", "0").returncode == 0

    done = hab(tmp_path, "demo")

    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"The database at {tmp_path / 'hab.sqlite3'} is not fully migrated (")
    assert line.endswith("migrations not applied): run `hab migrate`.")


def test_the_check_on_sqlite_prints_no_warning_it_has_dealt_with(tmp_path):
    done = hab(tmp_path, "check", "--database", "default")

    assert done.returncode == 0, done.stderr
    assert "W040" not in done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_postgresql_keeps_the_covering_index_check(tmp_path):
    # Only importing the settings: nothing connects to this address.
    shown = subprocess.run(
        [sys.executable, "-c", "from hab import settings; print(settings.SILENCED_SYSTEM_CHECKS)"],
        env={"PATH": os.environ["PATH"], "HAB_DATA_DIR": str(tmp_path)}
        | {"HAB_DATABASE_URL": "postgres://hab@127.0.0.1:1/hab"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert shown.returncode == 0, shown.stderr
    assert "models.W040" not in shown.stdout
    assert "security.W005" in shown.stdout
