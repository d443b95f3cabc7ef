"""hab backup while the dosing room writes, and hab restore into a new database: every row
the backup counted comes back, identical, with the append-only triggers and a whole ledger
chain. On SQLite (the online backup API) and PostgreSQL (pg_dump)."""

from __future__ import annotations

import sqlite3
import threading
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from hab.core import clock
from hab.core.access import Actor
from hab.core.append_only import TABLES as APPEND_ONLY
from hab.core.backup import Database, compare, manifest_path, read_manifest
from hab.core.models import Clinic
from hab.dosing import services as dosing
from hab.dosing.models import Administration
from tests.dosing.helpers import local
from tests.reliability.conftest import connect, sessions, table_rows

pytestmark = pytest.mark.django_db(transaction=True)

# Rows the load itself changes (not append-only): the backup holds them as they were.
# The restore's ledger check proves the chain head matches the restored entries.
# The ledger's chain head, and the dose records' day summaries (derived data, updated in
# place by every dose).
CHANGED_BY_THE_LOAD = {"stock_ledgerhead", "dosing_patientday", "dosing_clinicday"}


class Writer(threading.Thread):
    """A nurse's station recording the patients' doses session after session until
    stopped; ``done`` counts the doses written."""

    def __init__(self, patients: list[int], nurse) -> None:
        super().__init__(daemon=True)
        self.patients, self.nurse = patients, nurse
        self.done = 0
        self.started_writing = threading.Event()
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        oslo = Clinic.objects.get(code="oslo")
        actor = Actor.system(self.nurse)
        try:
            for day, slot, hour in sessions(30):
                for minute, patient in enumerate(self.patients):
                    if self.halt.is_set():
                        return
                    with clock.at(local(day, hour, minute)):
                        dosing.administration_record(
                            actor=actor,
                            clinic=oslo,
                            patient_id=patient,
                            day=day,
                            slot=slot,
                            medication="dam_injectable",
                            dose_mg=200,
                            route="iv",
                            status="given",
                            assessment={"sedation": 1, "breath_alcohol_permille": 0},
                        )
                    self.done += 1
                    if self.done >= 10:
                        self.started_writing.set()
        except BaseException as error:  # reported by the test
            self.error = error
            self.started_writing.set()
        finally:
            connection.close()


@pytest.fixture
def new_database(tmp_path):
    """A database that does not exist yet, of the kind the tests run on."""
    source = Database.from_settings(connection.settings_dict)
    if source.vendor == "sqlite":
        yield Database("sqlite", str(tmp_path / "restored.sqlite3"))
        return
    import psycopg
    from psycopg import sql

    name = f"{source.name}_restored_{uuid.uuid4().hex[:8]}"
    yield Database("postgresql", name, source.host, source.port, source.user, source.password)
    with psycopg.connect(**source.libpq("postgres"), autocommit=True) as server:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        server.execute(drop.format(sql.Identifier(name)))


def test_a_backup_under_write_load_restores_every_row(ward, staff, tmp_path, new_database):
    # given a nurse's station recording doses
    writer = Writer(ward(6), staff["nurse.oslo"])
    writer.start()
    assert writer.started_writing.wait(60)
    before = writer.done

    # when the database is backed up meanwhile, and the writing goes on a while after
    dump = tmp_path / "hab-backup"
    call_command("backup", out=str(dump))
    during = writer.done
    deadline = during + 10
    while writer.done < deadline and writer.is_alive():
        writer.join(0.05)
    writer.halt.set()
    writer.join(60)
    assert writer.error is None, writer.error
    assert writer.done > during  # the load went on after the backup

    # and the backup is restored into a new database
    call_command("restore", str(dump), database_url=new_database.url)

    # then the restored database has exactly the rows the backup counted
    manifest = read_manifest(dump)
    assert manifest["sha256"] and manifest_path(dump).is_file()
    restored_doses = manifest["tables"]["dosing_administration"]
    history = Administration.objects.filter(status="given").count() - writer.done
    assert history + before <= restored_doses <= history + writer.done
    source = Database.from_settings(connection.settings_dict)
    differing = set()
    for table, count in manifest["tables"].items():
        backed_up, now = table_rows(new_database, table), table_rows(source, table)
        assert len(backed_up) == count, table
        # and every one is identical to the row the clinic's database still holds
        assert set(backed_up) <= set(now), table
        if any(now[key] != row for key, row in backed_up.items()):
            differing.add(table)
    assert differing <= CHANGED_BY_THE_LOAD

    # and the restored database still refuses to rewrite or delete a dose
    with connect(new_database) as con, pytest.raises(Exception, match="append-only"):
        con.execute("UPDATE dosing_administration SET dose_mg = 1")
    with connect(new_database) as con, pytest.raises(Exception, match="append-only"):
        con.execute("DELETE FROM dosing_administration")
    assert set(manifest["append_only"]) == set(manifest["no_delete"]) == set(APPEND_ONLY)


def test_restore_refuses_a_database_that_is_not_empty(ward, tmp_path):
    ward(1)
    dump = tmp_path / "hab-backup"
    call_command("backup", out=str(dump))
    target = Database.from_settings(connection.settings_dict)
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(dump), database_url=target.url)


def test_restore_refuses_a_damaged_backup(ward, tmp_path, new_database):
    ward(1)
    dump = tmp_path / "hab-backup"
    call_command("backup", out=str(dump))
    with dump.open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\0\1\2")
    with pytest.raises(CommandError, match="SHA-256"):
        call_command("restore", str(dump), database_url=new_database.url)
    if new_database.vendor == "sqlite":
        with pytest.raises(sqlite3.Error):
            sqlite3.connect(f"file:{new_database.name}?mode=ro", uri=True).execute(
                "select 1 from django_migrations"
            )


@pytest.mark.django_db(transaction=False)
def test_a_restore_that_lost_a_delete_trigger_says_so():
    manifest = {
        "tables": {"dosing_administration": 3},
        "migrations": ["core.0008_append_only_no_delete"],
        "append_only": ["dosing_administration"],
        "no_delete": ["dosing_administration"],
    }
    state = manifest | {"no_delete": []}

    assert compare(manifest, state) == [
        "dosing_administration has lost the trigger that refuses DELETE"
    ]
    # A manifest from before the DELETE triggers asks nothing of them.
    assert compare({k: v for k, v in manifest.items() if k != "no_delete"}, state) == []
