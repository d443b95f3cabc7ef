"""The day summaries (``PatientDay``, ``ClinicDay``) kept in step with the dose records.

They are derived data, not records: what a day's current dose records (those no
correction has replaced) add up to. One definition, the two ``SELECT`` statements below,
serves every use of them: a dose write recomputes its patient's day from it in the write's
transaction, ``hab rebuild-summaries`` fills whole clinics from it, and
``hab verify-summaries`` compares the tables with it. Only the clinic's counts are
updated by adding and taking away (a clinic's day is hundreds of records; a patient's day
is a handful), and the tests hold them equal to the definition after every write.

The writer must hold the lock on the patient's row (every dose write does, see
``services``): two writers recomputing one patient's day at once would otherwise each
miss the other's record.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from hab.dosing import rules
from hab.dosing.models import Administration, ClinicDay, PatientDay
from hab.dosing.selectors import TAKEN_SQL

_INJECTABLE = ", ".join(f"'{medication}'" for medication in sorted(rules.INJECTABLE))
# The current records: those no correction has replaced (``core.sql.not_corrected``).
_CURRENT = (
    "NOT EXISTS (SELECT 1 FROM dosing_administration c"
    " WHERE c.corrects_id = a.id AND c.corrects_id IS NOT NULL)"
)

PATIENT_DAY_KEY = ("patient_id", "day", "clinic_id", "episode_id", "group")
PATIENT_DAY_COLUMNS = (
    *PATIENT_DAY_KEY,
    "taken",
    "given",
    "partial",
    "withheld",
    "refused",
    "missed",
    "taken_mg",
    "injected_mg",
    "first_at",
    "last_at",
)
CLINIC_DAY_KEY = ("clinic_id", "day", "group", "route", "status", "withheld_reason")
CLINIC_DAY_COLUMNS = (*CLINIC_DAY_KEY, "records", "mg")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _count(status: str) -> str:
    return f"SUM(CASE WHEN a.status = '{status}' THEN 1 ELSE 0 END)"


def _patient_days(where: str) -> str:
    """The patient-day rows of the current records that ``where`` selects (alias ``a``)."""
    taken = f"a.status IN ({TAKEN_SQL})"
    key = ", ".join(f"a.{_q(c)}" for c in PATIENT_DAY_KEY)
    return (
        f"SELECT {key},"
        f" SUM(CASE WHEN {taken} THEN 1 ELSE 0 END),"
        f" {_count('given')}, {_count('partial')}, {_count('withheld')},"
        f" {_count('refused')}, {_count('missed')},"
        f" COALESCE(SUM(CASE WHEN {taken} THEN a.dose_mg END), 0),"
        f" COALESCE(SUM(CASE WHEN {taken} AND a.medication IN ({_INJECTABLE})"
        " THEN a.dose_mg END), 0),"
        f" MIN(CASE WHEN {taken} THEN a.given_at END),"
        f" MAX(CASE WHEN {taken} THEN a.given_at END)"
        f" FROM dosing_administration a WHERE ({where}) AND {_CURRENT}"
        f" GROUP BY {key}"
    )


def _clinic_days(where: str) -> str:
    """The clinic-day rows of the current records that ``where`` selects (alias ``a``)."""
    key = ", ".join(f"a.{_q(c)}" for c in CLINIC_DAY_KEY)
    return (
        f"SELECT {key}, COUNT(*), SUM(a.dose_mg)"
        f" FROM dosing_administration a WHERE ({where}) AND {_CURRENT}"
        f" GROUP BY {key}"
    )


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(_q(c) for c in columns)}) "


# --- kept in step by the writes -----------------------------------------------------------


def recorded(records: Sequence[Administration], replaced: Administration | None = None) -> None:
    """Brings the summaries in step with dose records just written (a correction: the one
    record and the record it replaced), in the writer's transaction."""
    with connection.cursor() as cursor:
        for record in records:
            _clinic_day_add(cursor, record, 1)
        if replaced is not None:
            _clinic_day_add(cursor, replaced, -1)
        days: dict[datetime.date, set[int]] = defaultdict(set)
        for record in (*records, *([replaced] if replaced is not None else [])):
            days[record.day].add(record.patient_id)
        table = PatientDay._meta.db_table
        keys = ", ".join(_q(c) for c in PATIENT_DAY_KEY)
        values = ", ".join(
            f"{_q(c)} = excluded.{_q(c)}" for c in PATIENT_DAY_COLUMNS if c not in PATIENT_DAY_KEY
        )
        # A row no current record of its key is left for (a correction that moved a record
        # to another episode or clinic) goes; the others are updated where they are.
        kept = " AND ".join(f"a.{_q(c)} = {table}.{_q(c)}" for c in PATIENT_DAY_KEY)
        for day, patients in days.items():
            ids = sorted(patients)
            marks = ", ".join(["%s"] * len(ids))
            where = f"day = %s AND patient_id IN ({marks})"
            cursor.execute(
                _insert(table, PATIENT_DAY_COLUMNS)
                + _patient_days(f"a.{where}")
                + f" ON CONFLICT ({keys}) DO UPDATE SET {values}",
                [day, *ids],
            )
            cursor.execute(
                f"DELETE FROM {table} WHERE {where} AND NOT EXISTS"
                f" (SELECT 1 FROM dosing_administration a WHERE {kept} AND {_CURRENT})",
                [day, *ids],
            )


def _clinic_day_add(cursor, record: Administration, sign: int) -> None:
    """Adds one record to its clinic-day count (``sign`` 1), or takes it away (-1)."""
    table = ClinicDay._meta.db_table
    key = [
        record.clinic_id,
        record.day,
        record.group,
        record.route,
        record.status,
        record.withheld_reason,
    ]
    mg = Decimal(str(record.dose_mg))
    match = " AND ".join(f"{_q(c)} = %s" for c in CLINIC_DAY_KEY)
    if sign > 0:
        keys = ", ".join(_q(c) for c in CLINIC_DAY_KEY)
        cursor.execute(
            _insert(table, CLINIC_DAY_COLUMNS)
            + f"VALUES ({', '.join(['%s'] * len(CLINIC_DAY_COLUMNS))})"
            f" ON CONFLICT ({keys}) DO UPDATE SET"
            f" records = {table}.records + excluded.records, mg = {table}.mg + excluded.mg",
            [*key, 1, mg],
        )
        return
    # A plain update: the record was counted when it was written.
    cursor.execute(
        f"UPDATE {table} SET records = records - 1, mg = mg - %s WHERE {match}", [mg, *key]
    )
    cursor.execute(f"DELETE FROM {table} WHERE {match} AND records = 0", key)


# --- rebuilt and verified from the records ---------------------------------------------------


def _scope(clinic_ids: Iterable[int] | None, since: datetime.date | None, alias: str = ""):
    """A ``WHERE`` condition and its parameters for some clinics from a day."""
    prefix = f"{alias}." if alias else ""
    parts, params = ["1 = 1"], []
    if clinic_ids is not None:
        ids = sorted(clinic_ids) or [0]
        parts.append(f"{prefix}clinic_id IN ({', '.join(['%s'] * len(ids))})")
        params += ids
    if since is not None:
        parts.append(f"{prefix}day >= %s")
        params.append(since)
    return " AND ".join(parts), params


@dataclass(frozen=True)
class Rebuilt:
    patient_days: int
    clinic_days: int


def rebuild(clinic_ids: Iterable[int] | None = None, since: datetime.date | None = None) -> Rebuilt:
    """Recomputes the summaries of some clinics (all: None) from a day (all: None) from the
    records, replacing what was there. The caller holds the transaction."""
    clinic_ids = None if clinic_ids is None else list(clinic_ids)
    where, params = _scope(clinic_ids, since)
    inner, inner_params = _scope(clinic_ids, since, "a")
    counts = []
    with connection.cursor() as cursor:
        for model, columns, select in (
            (PatientDay, PATIENT_DAY_COLUMNS, _patient_days),
            (ClinicDay, CLINIC_DAY_COLUMNS, _clinic_days),
        ):
            table = model._meta.db_table
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
            cursor.execute(_insert(table, columns) + select(inner), inner_params)
            counts.append(cursor.rowcount)
    return Rebuilt(*counts)


@dataclass(frozen=True)
class Difference:
    table: str
    row: tuple  # the row as one side has it
    side: str  # "missing" (the records have it, the table not) or "extra"


def differences(
    clinic_ids: Iterable[int] | None = None, since: datetime.date | None = None, limit: int = 20
) -> tuple[int, list[Difference]]:
    """How many rows of the summaries differ from what the records add up to, and the
    first ``limit`` of them."""
    clinic_ids = None if clinic_ids is None else list(clinic_ids)
    where, params = _scope(clinic_ids, since)
    inner, inner_params = _scope(clinic_ids, since, "a")
    total, shown = 0, []
    with connection.cursor() as cursor:
        for model, columns, select, mg in (
            (PatientDay, PATIENT_DAY_COLUMNS, _patient_days, {"taken_mg", "injected_mg"}),
            (ClinicDay, CLINIC_DAY_COLUMNS, _clinic_days, {"mg"}),
        ):
            table = model._meta.db_table
            # SQLite adds decimals up as floats: both sides are compared to the 0.1 mg.
            stored = ", ".join(f"ROUND(s.{_q(c)}, 1)" if c in mg else f"s.{_q(c)}" for c in columns)
            rounded = ", ".join(
                f"ROUND(e.c{i}, 1)" if c in mg else f"e.c{i}" for i, c in enumerate(columns)
            )
            names = ", ".join(f"c{i}" for i in range(len(columns)))
            expected = f"WITH e ({names}) AS ({select(inner)}) "
            computed = f"SELECT {rounded} FROM e"
            present = f"SELECT {stored} FROM {table} s WHERE {where}"
            for side, sql in (
                ("missing", f"{expected}{computed} EXCEPT {present}"),
                ("extra", f"{expected}{present} EXCEPT {computed}"),
            ):
                cursor.execute(sql, [*inner_params, *params])
                rows = cursor.fetchall()
                total += len(rows)
                shown += [Difference(table, tuple(row), side) for row in rows[:limit]]
    return total, shown[:limit]
