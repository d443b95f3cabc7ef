"""Times the dosing room: the board, and recording doses with eight nurses at once.

  HAB_DATA_DIR=$(mktemp -d) HAB_ALLOW_SYNTHETIC_IDS=1 .venv/bin/python bench/dosing.py [--postgres]

Builds a fresh database (``hab migrate`` + ``hab demo``; BENCH_SCALE multiplies the demo's
patients) and runs every request in-process through Django's test client (no network, no
gunicorn): the time the application and its database take. SQLite in HAB_DATA_DIR by
default (a temporary one when unset); with ``--postgres`` a throwaway PostgreSQL cluster
is started as scripts/test does (initdb/pg_ctl as ``nobody`` when root, temporary folder,
free loopback port, fsync off) and removed at exit.

1. The board of HAB Oslo's afternoon session as nurse.oslo, BENCH_ROUNDS times (default
   100): ``GET /api/v1/clinics/oslo/board?slot=afternoon`` with a bearer token and the page
   ``/dosing/?slot=afternoon``.
2. Eight threads, each with its own test client, token and database connection, record the
   afternoon dose (the board's ``max_allowed_mg``) of distinct patients the board shows as
   due through ``POST /api/v1/administrations`` (after one client alone has dosed a few, for
   the cost without contention); then all eight record the same patient's
   dose at once: exactly one may get 201, the others 409. The writes run at 23:00 today,
   Oslo time (``hab.core.clock.at``), hours after this morning's doses.

Prints one markdown table, with the targets beside the numbers.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import glob
import json
import logging
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
CLIENTS = 8
BOARD_TARGET_MS = 50  # p95, for 200 expected patients
WRITE_TARGET_MS = 30  # p95, at 8 concurrent clients
SERIAL = 20  # patients dosed by one client alone first: the cost without contention
JOIN_TIMEOUT_S = 300  # a phase that takes longer is reported as stuck, not waited for


# --- a throwaway PostgreSQL cluster, as scripts/test starts it ------------------------------
def _pg_bin() -> str:
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return str(Path(shutil.which("pg_ctl")).parent)
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(f"{folder}/initdb", os.X_OK):
            return folder
    sys.exit("PostgreSQL is not installed (initdb/pg_ctl); scripts/test installs it.")


def _as_pg(*command: str) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *command] if os.geteuid() == 0 else list(command)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """Started in ``__init__``; ``stop`` is idempotent and registered with atexit."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.dir = tempfile.mkdtemp(prefix="hab-bench-pg.")
        self.started = False
        atexit.register(self.stop)
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="nobody")
        self.port = _free_port()
        quiet = {"stdout": subprocess.DEVNULL, "check": True}
        subprocess.run(
            _as_pg(
                f"{self.bin}/initdb",
                *("-D", f"{self.dir}/data", "-U", "postgres", "-A", "trust"),
                *("-E", "UTF8", "--no-locale"),
            ),
            timeout=120,
            **quiet,
        )
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self.started = True
        subprocess.run(
            _as_pg(
                f"{self.bin}/pg_ctl",
                *("-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w", "-t", "60"),
                *("-o", options, "start"),
            ),
            timeout=90,
            **quiet,
        )
        import psycopg

        server = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(server, autocommit=True, connect_timeout=30) as admin:
            admin.execute("create database hab")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/hab"

    def stop(self) -> None:
        if self.started:
            self.started = False
            subprocess.run(
                _as_pg(f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "immediate", "stop"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.dir, ignore_errors=True)


# --- measuring -------------------------------------------------------------------------------
def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):.1f} | {p95(samples):.1f} | {max(samples):.1f}"


class Queries:
    """Counts the queries run on one thread's connection (an execute wrapper: no debug
    cursor, so the count costs next to nothing)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main(postgres: bool) -> None:
    cluster = Postgres() if postgres else None
    try:
        if cluster:
            os.environ["HAB_DATABASE_URL"] = cluster.url
        else:
            os.environ.pop("HAB_DATABASE_URL", None)
        if not os.environ.get("HAB_DATA_DIR"):
            data_dir = tempfile.mkdtemp(prefix="hab-bench-data.")
            atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
            os.environ["HAB_DATA_DIR"] = data_dir
        run()
    finally:
        if cluster:
            cluster.stop()


def run() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hab.settings")
    os.environ.setdefault("HAB_SECURE_COOKIES", "0")
    os.environ.setdefault("HAB_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("HAB_ALLOW_SYNTHETIC_IDS", "1")

    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.utils import timezone

    from hab.core import clock
    from hab.core.models import User
    from hab.core.services import token_create

    load = os.getloadavg()[0]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("demo", scale=SCALE, stdout=open(os.devnull, "w"))  # noqa: SIM115
    built_s = time.perf_counter() - started

    def token() -> str:
        return token_create(username="nurse.oslo", password=settings.DEMO_PASSWORD)

    api_headers = {"Authorization": f"Bearer {token()}"}
    board_url = "/api/v1/clinics/oslo/board"
    web = Client()
    web.force_login(User.objects.get(username="nurse.oslo"))
    api = Client()
    table: list[str] = []

    def timed(label: str, call, target: str = "", limit: float | None = None) -> None:
        response = call()  # warm up
        assert response.status_code == 200, (label, response.status_code)
        queries = Queries()
        samples = []
        with connection.execute_wrapper(queries):
            for _ in range(ROUNDS):
                start = time.perf_counter()
                response = call()
                samples.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (label, response.status_code)
        met = "" if limit is None else ("yes" if p95(samples) < limit else "**no**")
        table.append(
            f"| {label} | {ROUNDS} | {summary(samples)} | {queries.count / ROUNDS:.0f} | "
            f"| {target} | {met} |"
        )

    # 1. The board, at the real time: the afternoon session before anyone is dosed.
    board = api.get(board_url, {"slot": "afternoon"}, headers=api_headers).json()
    rows = board["rows"]
    patients = len({row["patient"] for row in rows})
    states = Counter(row["state"] for row in rows)
    timed(
        f"api: GET board, afternoon ({patients} patients, {len(rows)} rows)",
        lambda: api.get(board_url, {"slot": "afternoon"}, headers=api_headers),
        f"p95 < {BOARD_TARGET_MS} ms for 200 patients",
        BOARD_TARGET_MS,
    )
    timed("page: /dosing/?slot=afternoon", lambda: web.get("/dosing/", {"slot": "afternoon"}))

    # 2. Writes at 23:00 today in Oslo: the morning doses are hours old.
    today = clock.today()
    moment = timezone.make_aware(datetime.datetime.combine(today, datetime.time(23)))
    with clock.at(moment):
        late = api.get(board_url, {"slot": "afternoon"}, headers=api_headers).json()
    due: dict[int, list[dict]] = defaultdict(list)
    for row in late["rows"]:
        if row["state"] == "due" and not row["blocked"] and row["max_allowed_mg"] > 0:
            due[row["patient"]].append(row)
    if len(due) < CLIENTS + SERIAL + 1:
        sys.exit(f"Only {len(due)} patients are due at {moment:%H:%M}; the bench needs more.")
    contested, *rest = sorted(due)
    serial = [row for patient in rest[:SERIAL] for row in due[patient]]
    spread = rest[SERIAL:]
    jobs: list[list[dict]] = [[] for _ in range(CLIENTS)]
    for index, patient in enumerate(spread):
        jobs[index % CLIENTS].extend(due[patient])
    tokens = [token() for _ in range(CLIENTS)]

    def payload(row: dict) -> str:
        return json.dumps(
            {
                "patient": row["patient"],
                "date": str(today),
                "slot": "afternoon",
                "medication": row["medication"],
                "dose_mg": row["max_allowed_mg"],
                "status": "given",
                "assessment": {"sedation": 1, "breath_alcohol_permille": 0},
            }
        )

    def phase(work: list[list[dict]]) -> tuple[list[tuple], float, int]:
        """Each thread records its rows; returns (status, ms, body) per request, the wall
        time from the common start to the last answer, and the queries run."""
        results: list[tuple] = []
        lock = threading.Lock()
        gate = threading.Barrier(len(work) + 1)
        counted = [0]

        def worker(rows: list[dict], raw_token: str) -> None:
            client = Client(raise_request_exception=False)
            headers = {"Authorization": f"Bearer {raw_token}"}
            queries = Queries()
            mine = []
            try:
                with clock.at(moment):
                    # Warm up: opens this thread's connection and touches its token.
                    client.get("/api/v1/me", headers=headers)
                    gate.wait(timeout=120)
                    with connections["default"].execute_wrapper(queries):
                        for row in rows:
                            start = time.perf_counter()
                            try:
                                response = client.post(
                                    "/api/v1/administrations",
                                    payload(row),
                                    content_type="application/json",
                                    headers=headers,
                                )
                                status, body = response.status_code, response.content
                            except Exception as error:
                                status, body = "exception", repr(error).encode()
                            ms = (time.perf_counter() - start) * 1000
                            mine.append((status, ms, body.decode(errors="replace")[:300]))
            except threading.BrokenBarrierError:
                pass
            finally:
                connections.close_all()
                with lock:
                    results.extend(mine)
                    counted[0] += queries.count

        threads = [
            threading.Thread(target=worker, args=(rows, tokens[i]), daemon=True)
            for i, rows in enumerate(work)
        ]
        for thread in threads:
            thread.start()
        gate.wait(timeout=120)
        start = time.perf_counter()
        deadline = start + JOIN_TIMEOUT_S
        for thread in threads:
            thread.join(timeout=max(0.1, deadline - time.perf_counter()))
        wall = time.perf_counter() - start
        stuck = sum(thread.is_alive() for thread in threads)
        if stuck:
            print(f"{stuck} writer threads still running after {JOIN_TIMEOUT_S} s", file=sys.stderr)
        with lock:
            return list(results), wall, counted[0]

    def statuses(results: list[tuple]) -> str:
        counts = Counter(status for status, _ms, _body in results)
        return ", ".join(f"{status} ×{n}" for status, n in sorted(counts.items(), key=str))

    others: list[tuple] = []
    logging.getLogger("django.request").setLevel(logging.ERROR)  # no line per 409
    results, wall, queries = phase([serial])
    created = sum(1 for status, _ms, _body in results if status == 201)
    others += [r for r in results if r[0] != 201]
    samples = [ms for _status, ms, _body in results]
    table.append(
        f"| api: POST administrations, 1 client alone ({statuses(results)}) | "
        f"{len(results)} | {summary(samples)} | {queries / max(1, len(results)):.0f} | "
        f"{created / wall:.0f} doses/s | | |"
    )

    results, wall, queries = phase(jobs)
    created = sum(1 for status, _ms, _body in results if status == 201)
    others += [r for r in results if r[0] != 201]
    samples = [ms for _status, ms, _body in results]
    met = "yes" if p95(samples) < WRITE_TARGET_MS and created == len(results) else "**no**"
    table.append(
        f"| api: POST administrations, {CLIENTS} clients, distinct patients "
        f"({statuses(results)}) | {len(results)} | {summary(samples)} | "
        f"{queries / max(1, len(results)):.0f} | {created / wall:.0f} doses/s | "
        f"p95 < {WRITE_TARGET_MS} ms at {CLIENTS} clients | {met} |"
    )

    same = [[due[contested][0]] for _ in range(CLIENTS)]
    results, wall, queries = phase(same)
    counts = Counter(status for status, _ms, _body in results)
    others += [r for r in results if r[0] not in (201, 409)]
    samples = [ms for _status, ms, _body in results]
    correct = counts[201] == 1 and counts[409] == CLIENTS - 1
    table.append(
        f"| api: POST administrations, {CLIENTS} clients, the same patient "
        f"({statuses(results)}) | {len(results)} | {summary(samples)} | "
        f"{queries / max(1, len(results)):.0f} | | exactly one 201, {CLIENTS - 1} × 409 | "
        f"{'yes' if correct else '**no**'} |"
    )

    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute("select sqlite_version()" if vendor == "sqlite" else "show server_version")
        version = cursor.fetchone()[0]
    print(
        f"HAB dosing bench on {vendor} {version}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, {os.cpu_count()} CPUs (load average {load:.1f} at "
        f"start); demo built in {built_s:.0f} s; "
        f"board states at {timezone.localtime():%H:%M}: "
        + ", ".join(f"{state} {n}" for state, n in sorted(states.items()))
        + f"; writes at {moment:%Y-%m-%d %H:%M} Oslo time, {len(spread)} patients "
        f"across {CLIENTS} threads after {SERIAL} alone"
    )
    print()
    print(
        "| measurement | n | median ms | p95 ms | max ms | queries/request | throughput "
        "| target | met |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for line in table:
        print(line)
    for status, _ms, body in others:
        print(f"\n{status}: {body}")
    connections.close_all()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", action="store_true", help="run on a throwaway PostgreSQL cluster"
    )
    main(parser.parse_args().postgres)
