"""HAB on a national-size database: the board, the query plans, the indicators, the export.

  HAB_DATABASE_URL=postgres://postgres@127.0.0.1:54339/hab HAB_ALLOW_SYNTHETIC_IDS=1 \
      .venv/bin/python bench/scale.py [--rounds 50] [--out docs/benchmarks.md]

Runs against an existing database made by ``hab generate --scale national`` (bench/
generate.py times that; SQLite when HAB_DATABASE_URL is unset, HAB_DATA_DIR's file). It
writes nothing but API tokens, the export log's rows and a researcher at every clinic.
Measured in-process (Django's test client, no network: the application and its database):

1. The dosing board of the clinic with the most patients due this afternoon, as its nurse:
   ``GET /api/v1/clinics/{code}/board?slot=afternoon`` ``--rounds`` times, median/p95/p99.
   Target: p95 under 50 ms for about 200 expected patients with 5 years of history.
2. The query plans of that board and of one dose's decision (read-only: the plans of the
   queries the board runs, and of a dose's reads): none may read the administrations, the
   ledger or the access log whole (on PostgreSQL: EXPLAIN ANALYZE with actual times).
3. The evaluation indicators of the last full year for the whole programme (every clinic):
   ``hab.evaluation.indicators.compute``, 3 times. Target: under 5 s on PostgreSQL.
4. The research export as a researcher, CSV and Parquet, of one clinic and of all: rows
   written per second and the peak memory (RSS) of a process that does only that export.
   Targets: at least 200,000 rows/s; peak memory that does not grow with the data (the
   whole programme's export peaks about where one clinic's does).

With ``--out`` the table replaces this script's section (between its markers) in that file.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import pathlib
import re
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import report  # noqa: E402

BOARD_TARGET_MS = 50
INDICATORS_TARGET_S = 5
EXPORT_TARGET_ROWS_S = 200_000
BIG = ("dosing_administration", "stock_ledgerentry", "core_accesslog")
RESEARCHER = "bench.researcher"  # a researcher at every clinic, made by the export part


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hab.settings")
    os.environ.setdefault("HAB_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("HAB_SECURE_COOKIES", "0")
    os.environ["HAB_REQUIRE_2FA"] = "0"
    import django

    django.setup()


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * share + 0.999999) - 1)]


# --- the board -------------------------------------------------------------------------------
class Captured:
    def __init__(self) -> None:
        self.queries: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        if not many and sql.lstrip().upper().startswith("SELECT"):
            self.queries.append((sql, params))
        return execute(sql, params, many, context)


def whole_reads(connection, sql: str, params) -> tuple[list[str], float | None]:
    """The big tables a query reads whole, and its actual time (PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            found: list[str] = []

            def walk(node: dict) -> None:
                if node.get("Relation Name") in BIG:
                    bounded = "Index Cond" in node or "Recheck Cond" in node
                    if node["Node Type"] == "Seq Scan" or (
                        node["Node Type"] in ("Index Scan", "Index Only Scan") and not bounded
                    ):
                        found.append(node["Relation Name"])
                for child in node.get("Plans", []):
                    walk(child)

            walk(plan[0]["Plan"])
            return found, plan[0]["Execution Time"]
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        details = [row[3] for row in cursor.fetchall()]
    return [t for d in details for t in BIG if re.match(rf"SCAN {t}\b", d)], None


def board(rounds: int, rows: list[str]) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from hab.core.models import Clinic
    from hab.core.services import token_create

    api = Client()
    boards = []  # (code, expected patients, headers)
    for clinic in Clinic.objects.order_by("code"):
        token = token_create(username=f"nurse.{clinic.code}", password=settings.DEMO_PASSWORD)
        if not token:
            continue
        headers = {"Authorization": f"Bearer {token}"}
        answer = api.get(
            f"/api/v1/clinics/{clinic.code}/board", {"slot": "afternoon"}, headers=headers
        )
        if answer.status_code == 200:
            boards.append(
                (clinic.code, len({r["patient"] for r in answer.json()["rows"]}), headers)
            )
    if not boards:
        sys.exit("No clinic's nurse could open a board (nurse.<clinic>, the demo password).")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dosing_administration")
        history = cursor.fetchone()[0]
    # The target's size (200 expected patients), and the largest board.
    near = min(boards, key=lambda board: abs(board[1] - 200))
    largest = max(boards, key=lambda board: board[1])
    for code, expected, headers in [near] if near is largest else [near, largest]:
        url = f"/api/v1/clinics/{code}/board"
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            answer = api.get(url, {"slot": "afternoon"}, headers=headers)
            samples.append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200
        p95 = percentile(samples, 0.95)
        rows.append(
            f"| board of `{code}`, afternoon: {expected} expected patients, {history:,} "
            f"administrations in the database | {rounds} | {statistics.median(samples):.1f} ms "
            f"| {p95:.1f} ms | {percentile(samples, 0.99):.1f} ms | p95 < {BOARD_TARGET_MS} ms "
            f"for 200 | {'yes' if p95 < BOARD_TARGET_MS else '**no**'} |"
        )
        print(rows[-1], flush=True)
    captured = Captured()
    with connection.execute_wrapper(captured):
        api.get(url, {"slot": "afternoon"}, headers=headers)
        patient = api.get(url, {"slot": "afternoon"}, headers=headers).json()["rows"][0]["patient"]
        api.get(f"/api/v1/patients/{patient}", headers=headers)
    whole, slowest = [], 0.0
    for sql, params in captured.queries:
        tables, ms = whole_reads(connection, sql, params)
        whole += tables
        slowest = max(slowest, ms or 0.0)
    rows.append(
        f"| query plans of the board and a patient's record ({len(captured.queries)} queries) "
        f"| | | slowest {slowest:.1f} ms | | no big table read whole | "
        f"{'yes' if not whole else '**no**: ' + ', '.join(sorted(set(whole)))} |"
    )


# --- indicators ------------------------------------------------------------------------------
def indicators(rows: list[str]) -> None:
    from hab.core import clock
    from hab.core.models import Clinic
    from hab.evaluation.indicators import Period, compute

    year = clock.today().year - 1
    period = Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    clinics = list(Clinic.objects.order_by("code"))
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        result = compute(clinics, period, programme=True)
        samples.append(time.perf_counter() - start)
    best = min(samples)
    rows.append(
        f"| indicators of {year}, the whole programme ({len(clinics)} clinics, "
        f"{result['dosing']['doses_given']:,} doses given that year) | 3 | "
        f"{statistics.median(samples):.2f} s | {max(samples):.2f} s (max) | | "
        f"< {INDICATORS_TARGET_S} s | {'yes' if best < INDICATORS_TARGET_S else '**no**'} |"
    )


# --- the export ------------------------------------------------------------------------------
def _high_water_kb() -> int:
    """This process's peak resident memory in kB. Not ``ru_maxrss``: Linux keeps that
    across the exec of a spawned child, so it starts at the parent's size at the fork."""
    try:
        status = pathlib.Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(re.search(r"^VmHWM:\s+(\d+)", status, re.M).group(1))


def _export_child(fmt: str, clinic: str, queue) -> None:
    setup()
    from hab.core.models import User
    from hab.research.export import export

    user = User.objects.get(username=RESEARCHER)
    base = _high_water_kb()
    start = time.perf_counter()
    cpu = time.process_time()
    done = export(user, fmt, clinic)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = _high_water_kb()
    size = done.path.stat().st_size
    done.path.unlink()
    queue.put((done.rows, size, seconds, cpu, peak, base))


def export_run(fmt: str, clinic: str) -> tuple:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_export_child, args=(fmt, clinic, queue))
    child.start()
    answer = queue.get(timeout=3600)
    child.join()
    return answer


def exports(rows: list[str], formats: list[str], scopes: list[str]) -> None:
    """Each export in a fresh process, so its peak RSS is that export's alone; one clinic
    (the smallest) and the whole programme, so that memory growing with the data shows."""
    from hab.core import services
    from hab.core.models import Clinic, User
    from hab.core.roles import Role

    if not User.objects.filter(username=RESEARCHER).exists():
        services.staff_create(
            username=RESEARCHER,
            password=os.urandom(16).hex(),
            first_name="Bench",
            last_name="Researcher",
            roles=[(clinic, Role.RESEARCHER) for clinic in Clinic.objects.all()],
        )

    smallest = min(Clinic.objects.all(), key=lambda c: c.patients.count()).code
    chosen = {"clinic": (smallest, f"clinic `{smallest}`"), "all": ("", "the whole programme")}
    for fmt in formats:
        for clinic, label in (chosen[scope] for scope in scopes):
            load = os.getloadavg()[0]
            counts, size, seconds, cpu, peak_kb, base_kb = export_run(fmt, clinic)
            written = sum(counts.values())
            rate = written / seconds if seconds else 0
            rows.append(
                f"| research export, {fmt.upper()}, {label}: {written:,} rows "
                f"({counts.get('doses_daily', 0):,} dose-days), {size / 1e6:.0f} MB, "
                f"{cpu:.1f} s CPU, load {load:.1f} | 1 | {seconds:.1f} s | {rate:,.0f} rows/s "
                f"| peak RSS {peak_kb / 1024:.0f} MB ({(peak_kb - base_kb) / 1024:+.0f} MB over "
                f"start) | ≥ {EXPORT_TARGET_ROWS_S:,} rows/s, RSS flat | "
                f"{'yes' if rate >= EXPORT_TARGET_ROWS_S else '**no**'} |"
            )
            print(rows[-1], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--out")
    parser.add_argument("--skip", default="", help="comma separated: board,indicators,export")
    parser.add_argument("--formats", default="csv,parquet", help="the exports' formats")
    parser.add_argument(
        "--scopes", default="clinic,all", help="clinic (the smallest), all (the programme)"
    )
    options = parser.parse_args()
    setup()
    from django.db import connection

    skip = set(filter(None, options.skip.split(",")))
    load = os.getloadavg()[0]
    rows: list[str] = []
    if "board" not in skip:
        board(options.rounds, rows)
        print(rows[-1], flush=True)
    if "indicators" not in skip:
        indicators(rows)
        print(rows[-1], flush=True)
    if "export" not in skip:
        exports(rows, options.formats.split(","), options.scopes.split(","))
    vendor, header = report.machine(connection, load)
    table = report.table(
        header, ["measurement", "n", "median", "p95 / rate", "p99 / memory", "target", "met"], rows
    )
    print(table)
    if options.out:
        report.write_section(options.out, f"scale-{vendor}", table)


if __name__ == "__main__":
    main()
