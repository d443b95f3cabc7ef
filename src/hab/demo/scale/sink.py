"""Bulk writers for the generated programme: PostgreSQL ``COPY`` and SQLite ``executemany``.

Rows are tuples in the column order of ``COLUMNS``; values are already in the form the
database stores (dates and times as text, decimals as text, JSON as text), so neither
Django nor the driver converts anything per row. Tables are buffered and flushed in
batches; nothing holds more than a batch in memory.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict

from django.apps import apps
from django.db import connection

from hab.dosing import summaries

# Every table the generator writes, in an order that satisfies the foreign keys.
COLUMNS: dict[str, tuple[str, ...]] = {
    "patients_patient": [
        "id",
        "clinic_id",
        "national_id",
        "id_kind",
        "synthetic_id",
        "birth_date",
        "given_name",
        "family_name",
        "phone",
        "address",
        "photo",
        "research_id",
        "created_at",
        "created_by_id",
        "updated_at",
    ],
    "patients_consent": ["id", "patient_id", "kind", "given", "at", "recorded_by_id", "note"],
    "core_accesslog": [
        "id",
        "at",
        "user_id",
        "username",
        "roles",
        "patient_id",
        "clinic_id",
        "action",
        "what",
        "details",
        "channel",
        "ip",
        "basis",
        "reason",
    ],
    "intake_referral": [
        "id",
        "patient_id",
        "clinic_id",
        "source",
        "referring_organisation",
        "referring_contact",
        "received_on",
        "documents",
        "note",
        "status",
        "eligible_on",
        "urgent",
        "urgent_reason",
        "offered_on",
        "created_at",
        "created_by_id",
    ],
    "intake_referralevent": [
        "id",
        "referral_id",
        "at",
        "by_id",
        "kind",
        "from_status",
        "to_status",
        "note",
    ],
    "intake_eligibilityassessment": [
        "id",
        "referral_id",
        "criteria_set_id",
        "answers",
        "criterion_notes",
        "eligible",
        "notes",
        "assessed_on",
        "assessed_by_id",
        "created_at",
    ],
    "intake_episode": [
        "id",
        "patient_id",
        "clinic_id",
        "referral_id",
        "previous_id",
        "admitted_on",
        "phase",
        "coordinator_id",
        "ended_on",
        "end_reason",
        "end_note",
        "death_on",
        "created_at",
        "created_by_id",
    ],
    "intake_episodeevent": ["id", "episode_id", "at", "on", "by_id", "kind", "details"],
    "prescribing_prescription": [
        "id",
        "patient_id",
        "episode_id",
        "medication",
        "route",
        "doses_mg",
        "daily_max_mg",
        "valid_from",
        "valid_to",
        "titration_start_mg",
        "titration_step_mg",
        "titration_target_mg",
        "reason",
        "supersedes_id",
        "stopped_on",
        "created_at",
        "created_by_id",
        "override_reason",
    ],
    "stock_batch": ["id", "product_id", "lot", "expires_on", "created_at"],
    "dosing_administration": [
        "id",
        "patient_id",
        "episode_id",
        "prescription_id",
        "protocol_id",
        "clinic_id",
        "day",
        "slot",
        "medication",
        "group",
        "route",
        "status",
        "dose_mg",
        "prescribed_mg",
        "max_allowed_mg",
        "reasons",
        "withheld_reason",
        "sedation",
        "breath_alcohol_permille",
        "respiratory_rate",
        "notes",
        "given_at",
        "nurse_id",
        "observe_until",
        "corrects_id",
        "original_id",
        "correction_reason",
        "back_entered_by_id",
        "back_entered_at",
        "created_at",
        "intoxication",
        "top_up",
        "breaches",
        "breach_reason",
        "breach_confirmed_at",
    ],
    "dosing_observation": [
        "id",
        "administration_id",
        "ended_at",
        "outcome",
        "naloxone_mg",
        "note",
        "by_id",
    ],
    "dosing_sessionclose": [
        "id",
        "clinic_id",
        "day",
        "slot",
        "closed_at",
        "closed_by_id",
        "missed",
    ],
    # The day summaries, in their definition's column order.
    "dosing_patientday": ["id", *summaries.PATIENT_DAY_COLUMNS],
    "dosing_clinicday": ["id", *summaries.CLINIC_DAY_COLUMNS],
    "stock_stockcount": [
        "id",
        "clinic_id",
        "product_id",
        "batch_id",
        "counted_mg",
        "book_mg",
        "difference_mg",
        "counted_at",
        "counted_by_id",
        "witness_id",
        "note",
    ],
    "stock_ledgerentry": [
        "id",
        "clinic_id",
        "seq",
        "product_id",
        "batch_id",
        "kind",
        "quantity_mg",
        "balance_mg",
        "at",
        "recorded_by_id",
        "witness_id",
        "reason",
        "reference",
        "administration_id",
        "transfer_from_id",
        "count_id",
        "prev_hash",
        "hash",
    ],
    "incidents_incident": [
        "id",
        "clinic_id",
        "kind",
        "severity",
        "occurred_at",
        "patient_id",
        "administration_id",
        "discrepancy_id",
        "naloxone_mg",
        "naloxone_doses",
        "ambulance",
        "hospital",
        "description",
        "immediate_actions",
        "source",
        "reported_at",
        "reported_by_id",
    ],
    "incidents_incidentevent": ["id", "incident_id", "at", "by_id", "status", "owner_id", "note"],
    "research_followup": [
        "id",
        "episode_id",
        "patient_id",
        "timepoint",
        "due_on",
        "window_from",
        "window_to",
    ],
    "research_response": [
        "id",
        "follow_up_id",
        "instrument_id",
        "answered_on",
        "recorded_at",
        "recorded_by_id",
        "corrects_id",
        "correction_reason",
    ],
    "research_answer": ["id", "response_id", "item_id", "value_int", "value_date", "value_text"],
    "research_missed": ["id", "follow_up_id", "recorded_at", "reason"],
}
ORDER = list(COLUMNS)
# The big tables: on PostgreSQL their secondary indexes are built after the load.
BIG = (
    "dosing_administration",
    "dosing_observation",
    "dosing_patientday",
    "stock_ledgerentry",
    "stock_stockcount",
)


def check_columns() -> None:
    """Fails loudly when a model gained or lost a column the generator does not write."""
    tables = {m._meta.db_table: m for m in apps.get_models()}
    for table, columns in COLUMNS.items():
        model_columns = {f.column for f in tables[table]._meta.concrete_fields}
        if model_columns != set(columns):
            raise RuntimeError(
                f"{table}: the generator writes {sorted(set(columns) - model_columns)} "
                f"and misses {sorted(model_columns - set(columns))}"
            )


def postgres() -> bool:
    return connection.vendor == "postgresql"


class Ids:
    """Primary keys handed out in blocks. On PostgreSQL a block is taken from the table's
    own sequence under an advisory lock, so parallel workers never overlap and the
    sequence ends past every id written; on SQLite (one writer) from max(id) + 1."""

    BLOCK = 100_000

    def __init__(self) -> None:
        self.next: dict[str, int] = {}
        self.end: dict[str, int] = {}

    def take(self, table: str) -> int:
        value = self.next.get(table, 0)
        if value < self.end.get(table, 0):
            self.next[table] = value + 1
            return value
        return self._block(table, value)

    def counter(self, table: str):
        """A function giving the table's next id, a block at a time: the same ids as
        ``take`` (the block is reserved when the first id is needed), at ``next``'s cost.
        While it is in use, ``take`` of the table starts a new block; when it is done, set
        ``next[table]`` to the id it gives next to hand the rest of its block back."""

        def ids():
            while True:
                first = self.take(table)
                end = self.end[table]
                self.next[table] = end  # the rest of the block is this counter's
                yield from range(first, end)

        return ids().__next__

    def _block(self, table: str, value: int) -> int:
        """The first id of the table's next block (the current one is used up)."""
        if postgres():
            value = self._reserve(table, self.BLOCK)
        elif table in self.end:  # SQLite: this process is the only writer
            value = self.end[table]
        else:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
                value = cursor.fetchone()[0]
        self.end[table] = value + self.BLOCK
        self.next[table] = value + 1
        return value

    @staticmethod
    def _reserve(table: str, count: int) -> int:
        with connection.cursor() as c:
            c.execute("SELECT pg_advisory_lock(7203911)")
            c.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = c.fetchone()[0]
            c.execute("SELECT nextval(%s)", [sequence])
            first = c.fetchone()[0]
            c.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
            c.execute("SELECT pg_advisory_unlock(7203911)")
        return first


class Sink:
    """Buffers rows per table and writes them in bulk."""

    def __init__(self, batch: int = 200_000) -> None:
        self.rows: dict[str, list[tuple]] = {table: [] for table in ORDER}
        self.buffered = 0
        self.batch = batch
        self.written: dict[str, int] = defaultdict(int)
        self.seconds_writing = 0.0
        self.pg = postgres()
        self.ids = Ids()
        self._quoted = {
            table: ", ".join(connection.ops.quote_name(c) for c in columns)
            for table, columns in COLUMNS.items()
        }

    @property
    def added(self) -> dict[str, int]:
        """Rows per table given to the sink so far (written or waiting)."""
        return {
            table: self.written.get(table, 0) + len(self.rows[table])
            for table in ORDER
            if self.written.get(table, 0) + len(self.rows[table])
        }

    def add(self, table: str, row: tuple) -> None:
        self.rows[table].append(row)
        self.buffered += 1
        if self.buffered >= self.batch:
            self.flush()

    def flush(self) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for table in ORDER:
                rows = self.rows[table]
                if not rows:
                    continue
                if self.pg:
                    # psycopg formats the rows in C: as fast as preformatted text lines
                    # written with copy.write (measured, see docs/benchmarks.md).
                    with cursor.cursor.copy(
                        f"COPY {table} ({self._quoted[table]}) FROM STDIN"
                    ) as copy:
                        write = copy.write_row
                        for row in rows:
                            write(row)
                else:
                    marks = ", ".join(["?"] * len(COLUMNS[table]))
                    cursor.cursor.executemany(
                        f"INSERT INTO {table} ({self._quoted[table]}) VALUES ({marks})", rows
                    )
                self.written[table] += len(rows)
                rows.clear()
        self.buffered = 0
        self.seconds_writing += time.perf_counter() - started


@contextlib.contextmanager
def loading():
    """The session settings of a bulk load: on PostgreSQL the foreign-key triggers are
    not fired for the loaded rows (``session_replication_role = replica``, as
    ``pg_restore --disable-triggers`` does; the generator writes only ids it made); on
    SQLite no foreign-key checks and no fsync while loading."""
    if not postgres() and connection.in_atomic_block:
        # SQLite cannot change these inside a transaction; its foreign keys are deferred
        # to the commit anyway.
        yield
        return
    with connection.cursor() as cursor:
        if postgres():
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("SET synchronous_commit = off")
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if postgres():
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute("PRAGMA synchronous = NORMAL")


def secondary_indexes(tables) -> list[tuple[str, str, str]]:
    """(table, name, how to recreate it) of every index but the primary key, exactly as
    the migrations made them (read back from the catalogue). A unique constraint is
    rebuilt as its index first and then made the constraint from that index: built by
    ``ALTER TABLE ... ADD CONSTRAINT`` it would lock its table, and the other connection's
    index of the same table would wait for it."""
    found = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT c.conname FROM pg_constraint c "
                "WHERE c.conrelid = %s::regclass AND c.contype = 'u'",
                [table],
            )
            constraints = {name for (name,) in cursor.fetchall()}
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "JOIN pg_index x ON x.indexrelid = (quote_ident(i.indexname))::regclass "
                "WHERE i.tablename = %s AND NOT x.indisprimary",
                [table],
            )
            for name, definition in cursor.fetchall():
                if name in constraints:
                    definition += (
                        f"; ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}"
                    )
                found.append((table, name, definition))
    return found


def drop_indexes(indexes) -> None:
    with connection.cursor() as cursor:
        for table, name, definition in indexes:
            if "ADD CONSTRAINT" in definition:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            else:
                cursor.execute(f"DROP INDEX {name}")


def create_indexes(indexes, workers: int = 2) -> None:
    """Recreates the indexes, ``workers`` at a time, each on its own connection."""
    if not indexes:
        return
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    # The largest first, so the two connections finish together.
    pending = sorted(indexes, key=lambda i: i[0] != "stock_ledgerentry")
    from concurrent.futures import ThreadPoolExecutor

    def build(item):
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("SET max_parallel_maintenance_workers = 0")
            conn.execute(item[2])

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(build, pending))
