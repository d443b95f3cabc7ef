"""The dosing room's queries reach the big tables through their indexes.

At national scale the administrations, ledger entries and access log hold tens of millions
of rows: a query of the board, a dose or a patient's history that scans one of them whole
would take seconds. These tests capture every query the hot paths run and ask the database
for its plan: on PostgreSQL with sequential scans priced out (so an index that could serve
the query is chosen whatever the table's size), on SQLite its query plan. No plan may read
one of the big tables whole (a sequential scan, or an index walked end to end with no
condition).
"""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection

from tests.dosing.helpers import dose_body

pytestmark = pytest.mark.django_db

# The tables that grow with every dose (tens of millions of rows at national scale). The
# registry's tables hold about one row per patient; on a test's handful of rows the
# planner's choice for them says nothing about their size.
BIG = (
    "dosing_administration",
    "dosing_observation",
    "stock_ledgerentry",
    "core_accesslog",
)


class Captured:
    def __init__(self) -> None:
        self.queries: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        if not many and sql.lstrip().upper().startswith("SELECT"):
            self.queries.append((sql, params))
        return execute(sql, params, many, context)


def whole_reads(sql: str, params) -> list[str]:
    """The big tables the plan reads whole."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            found: list[str] = []
            _walk(plan[0]["Plan"], found)
            cursor.execute("SET LOCAL enable_seqscan = on")
            return found
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        details = [row[3] for row in cursor.fetchall()]
    return [table for detail in details for table in BIG if re.match(rf"SCAN {table}\b", detail)]


def _walk(node: dict, found: list[str]) -> None:
    relation = node.get("Relation Name")
    if relation in BIG:
        kind = node["Node Type"]
        bounded = "Index Cond" in node or "Recheck Cond" in node
        if kind == "Seq Scan" or (kind in ("Index Scan", "Index Only Scan") and not bounded):
            found.append(relation)
    for child in node.get("Plans", []):
        _walk(child, found)


def assert_indexed(queries: list[tuple[str, tuple]]) -> None:
    assert queries, "no queries were captured"
    problems = []
    for sql, params in queries:
        tables = whole_reads(sql, params)
        if tables:
            problems.append(f"{', '.join(tables)} read whole by:\n{sql}\n")
    assert not problems, "\n".join(problems)


def test_the_board_reads_by_index(api_as, on_prescription, afternoon):
    on_prescription()
    on_prescription(days=3)
    api = api_as("nurse.oslo")
    captured = Captured()
    with connection.execute_wrapper(captured):
        board = api.get("/clinics/oslo/board", {"slot": "afternoon"})
    assert board.status_code == 200
    assert_indexed(captured.queries)


def test_recording_a_dose_reads_by_index(api_as, on_prescription, afternoon):
    made = on_prescription()
    api = api_as("nurse.oslo")
    captured = Captured()
    with connection.execute_wrapper(captured):
        recorded = api.post("/administrations", dose_body(made["patient"]))
    assert recorded.status_code == 201, recorded.content
    assert_indexed(captured.queries)


def test_the_board_page_and_patient_panel_read_by_index(web_as, on_prescription, afternoon):
    made = on_prescription()
    client = web_as("nurse.oslo")
    captured = Captured()
    with connection.execute_wrapper(captured):
        assert client.get("/dosing/", {"slot": "afternoon"}).status_code == 200
        panel = client.get(f"/dosing/patients/{made['patient']}/", {"slot": "afternoon"})
        assert panel.status_code == 200
    assert_indexed(captured.queries)


def test_a_query_without_an_index_is_caught(staff):
    """The check itself: a filter on an unindexed column reads the table whole."""
    reads = whole_reads("SELECT id FROM dosing_administration WHERE notes = %s", ["x"])
    assert reads == ["dosing_administration"]
