"""The dosing write path over HTTP at 1, 8 and 32 clients, next to the database's own limit.

  HAB_ALLOW_SYNTHETIC_IDS=1 .venv/bin/python bench/write_path.py [--postgres] \
      [--clients 1,8,32] [--http-workers 4] [--seconds 8] [--paced 8] [--out docs/benchmarks.md]

Builds the demo programme (``hab migrate`` + ``hab demo``; BENCH_SCALE multiplies its
patients) in a fresh SQLite file, or with ``--postgres`` in a throwaway PostgreSQL cluster
(bench/dosing.py's, fsync off), and keeps a snapshot of it. Each measurement then starts from
that snapshot (so every one doses the same patients, all due):

1. HAB: gunicorn (``--http-workers`` sync workers, as scripts/run-demo serves it) with its
   clock at 15:00 tomorrow; N client processes each post the afternoon doses of their share
   of the due patients of both clinics (the board's ``max_allowed_mg``; each client is a
   nurse of the patient's clinic with its own token and keep-alive connection), one after
   another as fast as the answers come (closed loop): administrations/s and latency.
2. Paced (``--paced`` stations, open loop): each station posts a dose at random moments
   averaging one per second (a real station doses one patient per half minute or more), so
   this is the latency a nurse sees in a busy room, not at the machine's limit. Latency
   counts from the moment the dose was due to be sent.
3. The database's own limit, the same run: N processes write the same rows as a dose by a
   minimal SQL transaction: lock the clinic's ledger head, insert the administration, its
   ledger entry (hashed with the database's sha256 on PostgreSQL, Python's hashlib on SQLite),
   advance the head, insert the access-log row: copies of the rows a HAB dose wrote, with a
   new day each so the one-per-session constraint holds. PostgreSQL: ``pgbench`` with that
   script (``--seconds`` each); SQLite: a bare ``sqlite3`` loop per process.

With ``--out`` the table replaces the section between the markers for the database in that
file (docs/benchmarks.md); it is printed either way.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import hashlib
import http.client
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import dosing as common  # noqa: E402  (bench/dosing.py: the cluster, gunicorn, percentiles)
import report  # noqa: E402

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
TARGET_MS = 30  # issue 4: administration write p95 at 8 concurrent clients


# --- HAB over HTTP ---------------------------------------------------------------------------
def _post_dose(connection, body: str, headers: dict):
    """POST one dose; the status, or the exception's text when the connection failed."""
    try:
        status, _answer = common._call(connection, "POST", "/api/v1/administrations", body, headers)
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return f"exception {error!r}"
    return status


def _station(port: int, token: str, gate):
    """A nurse's connection and headers, warmed up, once every client is ready."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = common._headers(token)
    common._call(connection, "GET", "/api/v1/me", None, headers)
    gate.wait(timeout=300)
    return connection, headers


def _closed_client(port, token, requests, gate, results) -> None:
    """Closed loop: the next dose as soon as the last is answered."""
    connection, headers = _station(port, token, gate)
    done = []
    for body in requests:
        start = time.perf_counter()
        status = _post_dose(connection, body, headers)
        done.append((status, (time.perf_counter() - start) * 1000))
    results.put(done)


def _paced_client(port, token, requests, seed, gate, results) -> None:
    """Open loop: the next dose is due at a random moment (exponential gaps, mean 1 s),
    whether or not the previous answer was slow; latency counts from when it was due."""
    pick = random.Random(seed)
    connection, headers = _station(port, token, gate)
    due = time.perf_counter()
    done = []
    for body in requests:
        due += pick.expovariate(1.0)
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        status = _post_dose(connection, body, headers)
        done.append((status, (time.perf_counter() - due) * 1000))
    results.put(done)


def _run_clients(target, jobs: list[tuple]) -> tuple[list, float]:
    """One process per job, ``target(*job, gate, results)``, all starting together: every
    result they put, and the wall time from the start to the last one."""
    context = multiprocessing.get_context("spawn")
    gate = context.Barrier(len(jobs) + 1)
    queue = context.Queue()
    processes = [context.Process(target=target, args=(*job, gate, queue)) for job in jobs]
    for process in processes:
        process.start()
    gate.wait(timeout=300)
    start = time.perf_counter()
    results = []
    for _ in processes:
        results.extend(queue.get(timeout=600))
    wall = time.perf_counter() - start
    for process in processes:
        process.join(timeout=30)
    return results, wall


# --- the database's own limit ----------------------------------------------------------------
def _template(cursor) -> dict:
    """The rows one HAB dose wrote: its administration, ledger entry and access-log row."""
    cursor.execute(
        "SELECT a.id, a.clinic_id, e.id FROM dosing_administration a "
        "JOIN stock_ledgerentry e ON e.administration_id = a.id "
        "ORDER BY a.id DESC LIMIT 1"
    )
    administration, clinic, entry = cursor.fetchone()
    cursor.execute(
        "SELECT id FROM core_accesslog WHERE what = 'administration' ORDER BY id DESC LIMIT 1"
    )
    (log,) = cursor.fetchone()
    return {"administration": administration, "clinic": clinic, "entry": entry, "log": log}


def _columns(cursor, table: str, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(f"PRAGMA table_info({table})")
        return [row[1] for row in cursor.fetchall() if row[1] != "id"]
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name <> 'id' ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _copy_sql(table: str, columns: list[str], overrides: dict[str, str], where: str) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(overrides.get(c, f'"{c}"') for c in columns)
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} WHERE {where}"


def _sqlite_raw_worker(path, t, cols, seconds, offset, gate, results) -> None:
    con = sqlite3.connect(path, timeout=20, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA busy_timeout=20000")
    administration = _copy_sql(
        "dosing_administration",
        cols["dosing_administration"],
        {"day": "date(day, '+' || :day || ' days')"},
        f"id = {t['administration']}",
    )
    entry = _copy_sql(
        "stock_ledgerentry",
        cols["stock_ledgerentry"],
        {"seq": ":seq", "administration_id": ":aid", "prev_hash": ":prev", "hash": ":hash"},
        f"id = {t['entry']}",
    )
    log = _copy_sql("core_accesslog", cols["core_accesslog"], {}, f"id = {t['log']}")
    gate.wait(timeout=300)
    done, day = [], offset
    stop = time.perf_counter() + seconds
    try:
        _sqlite_raw_loop(con, t, administration, entry, log, day, stop, done)
    finally:
        con.close()
        results.put(done)


def _sqlite_raw_loop(con, t, administration, entry, log, day, stop, done) -> None:
    while time.perf_counter() < stop:
        start = time.perf_counter()
        day += 1
        con.execute("BEGIN IMMEDIATE")
        seq, prev = con.execute(
            "SELECT seq, hash FROM stock_ledgerhead WHERE clinic_id = ?", [t["clinic"]]
        ).fetchone()
        new_id = con.execute(administration, {"day": day}).lastrowid
        digest = hashlib.sha256(f"{seq + 1}|{new_id}|{prev}".encode()).hexdigest()
        con.execute(entry, {"seq": seq + 1, "aid": new_id, "prev": prev, "hash": digest})
        con.execute(
            "UPDATE stock_ledgerhead SET seq = ?, hash = ? WHERE clinic_id = ?",
            [seq + 1, digest, t["clinic"]],
        )
        con.execute(log)
        con.execute("COMMIT")
        done.append((time.perf_counter() - start) * 1000)


def raw_sqlite(path: str, clients: int, seconds: float) -> tuple[list, float]:
    con = sqlite3.connect(path)
    cursor = con.cursor()
    t = _template(cursor)
    cols = {
        table: _columns(cursor, table, "sqlite")
        for table in ("dosing_administration", "stock_ledgerentry", "core_accesslog")
    }
    con.close()
    offsets = [1_000 + i * 10_000 for i in range(clients)]  # each its own new days
    return _run_clients(
        _sqlite_raw_worker, [(path, t, cols, seconds, offset) for offset in offsets]
    )


def _pgbench(folder: str) -> str:
    """pgbench beside the server's programs, else on PATH or in Debian's folders."""
    for candidate in (
        f"{folder}/pgbench",
        shutil.which("pgbench"),
        *sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("pgbench is not installed (Debian: postgresql-client or postgresql).")


def raw_postgres(cluster, dbname: str, clients: int, seconds: float) -> tuple[list, float]:
    import psycopg

    url = f"host=127.0.0.1 port={cluster.port} user=postgres dbname={dbname}"
    with psycopg.connect(url, autocommit=True) as con:
        cursor = con.cursor()
        t = _template(cursor)
        cols = {
            table: _columns(cursor, table, "postgresql")
            for table in ("dosing_administration", "stock_ledgerentry", "core_accesslog")
        }
        cursor.execute("CREATE SEQUENCE IF NOT EXISTS hab_bench_day START 10000")
    administration = _copy_sql(
        "dosing_administration",
        cols["dosing_administration"],
        {"day": "day + nextval('hab_bench_day')::int"},
        f"id = {t['administration']}",
    )
    # pgbench puts a variable's value into the SQL text as it is: ':prev' is a quoted hash.
    digest = "encode(sha256(((:seq + 1) || '|' || :aid || '|' || ':prev')::bytea), 'hex')"
    entry = _copy_sql(
        "stock_ledgerentry",
        cols["stock_ledgerentry"],
        {"seq": ":seq + 1", "administration_id": ":aid", "prev_hash": "':prev'", "hash": digest},
        f"id = {t['entry']}",
    )
    log = _copy_sql("core_accesslog", cols["core_accesslog"], {}, f"id = {t['log']}")
    script = "\n".join(
        [
            "BEGIN;",
            f"SELECT seq, hash AS prev FROM stock_ledgerhead WHERE clinic_id = {t['clinic']} "
            "FOR UPDATE \\gset",
            administration + " RETURNING id AS aid \\gset",
            entry + ";",
            f"UPDATE stock_ledgerhead SET seq = :seq + 1, hash = {digest} "
            f"WHERE clinic_id = {t['clinic']};",
            log + ";",
            "END;",
        ]
    )
    folder = tempfile.mkdtemp(prefix="hab-pgbench.")
    Path(folder, "dose.sql").write_text(script)
    os.chmod(folder, 0o777)
    command = [
        _pgbench(cluster.bin),
        *("-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres"),
        *("-n", "-f", f"{folder}/dose.sql", "-c", str(clients), "-j", str(min(clients, 2))),
        *("-T", str(int(seconds)), "-l", "--log-prefix", f"{folder}/log", dbname),
    ]
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, cwd=folder)
    wall = time.perf_counter() - started
    if finished.returncode != 0:
        sys.exit(f"pgbench failed:\n{finished.stdout}\n{finished.stderr}\n{script}")
    samples = []
    for log in Path(folder).glob("log*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            samples.append(int(fields[2]) / 1000)  # latency in microseconds
    shutil.rmtree(folder, ignore_errors=True)
    tps = float(re.search(r"tps = ([\d.]+)", finished.stdout).group(1))
    return samples, len(samples) / tps if tps else wall


# --- the run ---------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--http-workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--paced", type=int, default=8)
    parser.add_argument("--out")
    options = parser.parse_args()
    counts = [int(n) for n in options.clients.split(",")]

    cluster = common.Postgres() if options.postgres else None
    data_dir = tempfile.mkdtemp(prefix="hab-bench-write.")
    os.environ["HAB_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hab.settings")
    os.environ.setdefault("HAB_SECURE_COOKIES", "0")
    os.environ.setdefault("HAB_ALLOWED_HOSTS", "testserver,127.0.0.1")
    os.environ.setdefault("HAB_ALLOW_SYNTHETIC_IDS", "1")
    os.environ["HAB_REQUIRE_2FA"] = "0"
    if cluster:
        os.environ["HAB_DATABASE_URL"] = cluster.url
    else:
        os.environ.pop("HAB_DATABASE_URL", None)
    try:
        run(options, counts, cluster, data_dir)
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def run(options, counts: list[int], cluster, data_dir: str) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.utils import timezone

    from hab.core import clock
    from hab.core.services import token_create

    load = os.getloadavg()[0]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("demo", scale=SCALE, stdout=open(os.devnull, "w"))  # noqa: SIM115
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    built_s = time.perf_counter() - started

    tomorrow = clock.today() + datetime.timedelta(days=1)
    at_three = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(15)))
    api = Client()
    payloads: dict[str, list[str]] = {}
    tokens: dict[str, list[str]] = {}
    for code in ("oslo", "bergen"):
        nurse = f"nurse.{code}"
        token = token_create(username=nurse, password=settings.DEMO_PASSWORD)
        with clock.at(at_three):
            rows = api.get(
                f"/api/v1/clinics/{code}/board",
                {"slot": "afternoon"},
                headers={"Authorization": f"Bearer {token}"},
            ).json()["rows"]
        payloads[code] = [
            json.dumps(
                {
                    "patient": row["patient"],
                    "date": str(tomorrow),
                    "slot": "afternoon",
                    "medication": row["medication"],
                    "dose_mg": row["max_allowed_mg"],
                    "status": "given",
                    "assessment": {"sedation": 1, "breath_alcohol_permille": 0},
                }
            )
            for row in rows
            if row["state"] == "due" and not row["blocked"] and row["max_allowed_mg"] > 0
        ]
        tokens[code] = [
            token_create(username=nurse, password=settings.DEMO_PASSWORD)
            for _ in range(max([*counts, options.paced]))
        ]
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
    connections.close_all()

    # The snapshot each measurement starts from.
    if cluster:
        import psycopg

        admin_url = f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("CREATE DATABASE snapshot TEMPLATE hab")
    else:
        database = Path(settings.DATABASES["default"]["NAME"])
        snapshot = Path(data_dir, "snapshot.sqlite3")
        with sqlite3.connect(database) as source, sqlite3.connect(snapshot) as copy:
            source.backup(copy)

    def restore(name: str = "hab") -> None:
        connections.close_all()
        if cluster:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                admin.execute(f"CREATE DATABASE {name} TEMPLATE snapshot")
        else:
            for suffix in ("-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(snapshot, database)

    environment = dict(
        os.environ,
        BENCH_CLOCK=at_three.isoformat(),
        HAB_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="hab.settings",
    )
    due = sum(len(bodies) for bodies in payloads.values())
    rows: list[str] = []

    def row(label: str, results: list, wall: float, target: str = "", met: str = "") -> None:
        statuses = Counter(status for status, _ms in results)
        samples = [ms for _status, ms in results]
        ok = sum(n for status, n in statuses.items() if status == 201)
        shown = ", ".join(f"{s} ×{n}" for s, n in sorted(statuses.items(), key=str))
        rows.append(
            f"| {label} ({shown}) | {len(samples)} | {ok / wall:.0f} | "
            f"{common.summary(samples)} | {target} | {met} |"
        )
        print(rows[-1], flush=True)

    def serve(clients: int, target, paced: bool = False) -> None:
        restore()
        server = common.Gunicorn(options.http_workers, "sync", environment)
        try:
            server.wait(tokens["oslo"][0])
            # Each client is a nurse at one clinic, the clinics' patients shared out among
            # their nurses; one client alone doses at Oslo.
            codes = (
                ["oslo"] if clients == 1 else [("oslo", "bergen")[i % 2] for i in range(clients)]
            )
            shares: list[list[str]] = [[] for _ in codes]
            for code, bodies in payloads.items():
                mine = [i for i, c in enumerate(codes) if c == code]
                for index, body in enumerate(bodies if mine else []):
                    shares[mine[index % len(mine)]].append(body)
            jobs = [
                (server.port, tokens[code][i], shares[i], *([i] if paced else []))
                for i, code in enumerate(codes)
            ]
            results, wall = _run_clients(target, jobs)
        finally:
            server.stop()
        if paced:
            met = "yes" if common.p95([ms for _s, ms in results]) < TARGET_MS else "**no**"
            row(
                f"HAB, {clients} stations at a busy room's pace (open loop, one dose a second "
                "each on average)",
                results,
                wall,
                f"p95 < {TARGET_MS} ms",
                met,
            )
        else:
            met = ""
            if clients == 8:
                met = "yes" if common.p95([ms for _s, ms in results]) < TARGET_MS else "**no**"
            row(
                f"HAB over HTTP, {clients} client{'s' if clients > 1 else ''} (closed loop)",
                results,
                wall,
                f"p95 < {TARGET_MS} ms" if clients == 8 else "",
                met,
            )
            rates[clients] = sum(1 for s, _ms in results if s == 201) / wall

    rates: dict[int, float] = {}
    for clients in counts:
        serve(clients, _closed_client)  # the raw run copies the rows its doses wrote
        if cluster:
            samples, wall = raw_postgres(cluster, "hab", clients, options.seconds)
            tool = "pgbench"
        else:
            samples, wall = raw_sqlite(str(database), clients, options.seconds)
            tool = "sqlite3 loop"
        if not samples:
            sys.exit("The raw database run wrote nothing (see its errors above).")
        raw_rate = len(samples) / wall
        hab_rate = rates[clients]
        rows.append(
            f"| raw database ({tool}), {clients} client{'s' if clients > 1 else ''}, same rows "
            f"| {len(samples)} | {raw_rate:.0f} | {common.summary(samples)} | "
            f"HAB ≥ half: {hab_rate:.0f} vs {raw_rate / 2:.0f} | "
            f"{'yes' if hab_rate >= raw_rate / 2 else '**no**'} |"
        )
    if options.paced:
        serve(options.paced, _paced_client, paced=True)

    header = (
        f"{datetime.date.today()}, {vendor} {version}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs, {platform.machine()} "
        f"(load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end); demo "
        f"built in {built_s:.0f} s; gunicorn {options.http_workers} sync workers; "
        f"{due} due patients in the two clinics, dosed at {at_three:%H:%M} tomorrow."
    )
    table = report.table(
        header,
        ["measurement", "n", "doses/s", "median ms", "p95 ms", "p99 ms", "max ms", "target", "met"],
        rows,
    )
    print(table)
    if options.out:
        report.write_section(options.out, f"write-path-{vendor}", table)


if __name__ == "__main__":
    main()
