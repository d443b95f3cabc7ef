"""Times the dosing room: the board, and recording doses with eight nurses at once.

  HAB_DATA_DIR=$(mktemp -d) HAB_ALLOW_SYNTHETIC_IDS=1 .venv/bin/python bench/dosing.py \
      [--postgres] [--http-workers 4] [--clients 8] [--no-http]

Builds a fresh database (``hab migrate`` + ``hab demo``; BENCH_SCALE multiplies the demo's
patients). SQLite in HAB_DATA_DIR by default (a temporary one when unset); with
``--postgres`` a throwaway PostgreSQL cluster is started as scripts/test does (initdb/pg_ctl
as ``nobody`` when root, temporary folder, free loopback port, fsync off), analysed after the
load as autovacuum would have been by opening time, and removed at exit. Then two parts:

In-process, through Django's test client (no network, no gunicorn: the time the application
and its database take):

1. The board of HAB Oslo's afternoon session as nurse.oslo, BENCH_ROUNDS times (default
   100): ``GET /api/v1/clinics/oslo/board?slot=afternoon`` with a bearer token and the page
   ``/dosing/?slot=afternoon``.
2. Eight threads, each with its own test client, token and database connection, record the
   afternoon dose (the board's ``max_allowed_mg``) of distinct patients the board shows as
   due through ``POST /api/v1/administrations`` (after one client alone has dosed a few, for
   the cost without contention); then all eight record the same patient's dose at once:
   exactly one may get 201, the others 409. The writes run at 23:00 today, Oslo time
   (``hab.core.clock.at``), hours after this morning's doses. The threads share Python's
   interpreter lock, so their latencies measure queueing in one process, not a server.

Over HTTP, as deployed (unless ``--no-http``): gunicorn (``scripts/run-demo``'s sync
workers, ``--http-workers`` of them) on a free loopback port against the same database,
its clock set to 15:00 tomorrow (this file's ``app`` wraps ``hab.wsgi`` in
``hab.core.clock.at``; the afternoon doses of part 2 are then 16 hours old). Client
*processes*, each with its own token and an ``http.client`` connection (kept alive where
the worker allows it; sync workers close it after each answer):

3. The board as above, one client, BENCH_ROUNDS times.
4. One client alone records SERIAL patients' afternoon doses; then ``--clients`` clients
   (default 8) record the others', each its own share of distinct patients, all starting
   together; then all of them record the same patient's dose at once (one 201).

Latencies are the client's: from sending the request to reading the whole answer.
Prints one markdown table, with the targets beside the numbers.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import glob
import http.client
import json
import logging
import math
import multiprocessing
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
CLIENTS = 8  # in-process threads; --clients sets the HTTP client processes
BOARD_TARGET_MS = 50  # p95, for 200 expected patients
WRITE_TARGET_MS = 30  # p95, at 8 concurrent clients
SERIAL = 20  # patients dosed by one client alone first: the cost without contention
HERE = Path(__file__).resolve().parent
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
def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest sample at or above ``share`` of them."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]


def p95(samples: list[float]) -> float:
    return percentile(samples, 0.95)


def summary(samples: list[float]) -> str:
    """The table's median | p95 | p99 | max columns."""
    return (
        f"{statistics.median(samples):.1f} | {p95(samples):.1f} | "
        f"{percentile(samples, 0.99):.1f} | {max(samples):.1f}"
    )


class Queries:
    """Counts the queries run on one thread's connection (an execute wrapper: no debug
    cursor, so the count costs next to nothing)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


# --- over HTTP: gunicorn, and client processes ---------------------------------------------
_application = None
_moment: datetime.datetime | None = None


def app(environ, start_response):
    """gunicorn's entry point in the HTTP part (``dosing:app``): HAB as deployed, with its
    clock at BENCH_CLOCK, so that the writes find the doses of part 2 hours old."""
    global _application, _moment
    from hab.core import clock

    if _application is None:
        from hab.wsgi import application

        _application = application
        _moment = datetime.datetime.fromisoformat(os.environ["BENCH_CLOCK"])
    with clock.at(_moment):
        return _application(environ, start_response)


class Gunicorn:
    """``workers`` gunicorn workers serving this file's ``app`` on a free loopback port;
    ``stop`` is idempotent and registered with atexit."""

    def __init__(self, workers: int, worker_class: str, environment: dict) -> None:
        self.port = _free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="hab-bench-gunicorn.", suffix=".log")  # noqa: SIM115
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "dosing:app",
            # This checkout's code, as the in-process part runs it (not the installed one).
            *("--pythonpath", f"{HERE},{HERE.parent / 'src'}"),
            *("--bind", f"127.0.0.1:{self.port}"),
            *("--workers", str(workers), "--worker-class", worker_class),
            *("--log-level", "warning", "--timeout", "120"),
        ]
        self.process = subprocess.Popen(
            command, env=environment, stdout=subprocess.DEVNULL, stderr=self.log
        )
        self._workers: list[int] = []
        atexit.register(self.stop)

    def wait(self, token: str, timeout: float = 120) -> None:
        """Until every worker could answer: a few authenticated requests get 200."""
        deadline = time.monotonic() + timeout
        answered = 0
        while answered < 5:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                sys.exit("gunicorn did not start:\n" + self.log.read().decode(errors="replace"))
            try:
                status, _body = _call(
                    http.client.HTTPConnection("127.0.0.1", self.port, timeout=10),
                    "GET",
                    "/api/v1/me",
                    None,
                    _headers(token),
                )
                answered += status == 200
            except OSError:
                time.sleep(0.2)

    def workers(self) -> list[int]:
        if not self._workers:
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    self._workers.append(int(stat.parent.name))
        return self._workers

    def cpu_ms(self) -> float:
        """CPU time the workers have used so far (user + system), from /proc."""
        ticks = 0
        for pid in self.workers():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks * 1000 / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _headers(token: str) -> dict:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Host": "127.0.0.1",
    }


def _call(connection, method: str, path: str, body: str | None, headers: dict) -> tuple:
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def _client(port: int, token: str, warm: list, requests: list, gate, results) -> None:
    """One nurse's tablet, in its own process: its own token and connection, its requests
    one after another as fast as the answers come; ``warm`` ones first, not timed."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = _headers(token)
    done = []
    cpu = 0.0
    try:
        for method, path, body in warm:
            _call(connection, method, path, body, headers)
        gate.wait(timeout=300)
        cpu = time.process_time()
        for method, path, body in requests:
            start = time.perf_counter()
            try:
                status, answer = _call(connection, method, path, body, headers)
            except (OSError, http.client.HTTPException) as error:
                status, answer = "exception", repr(error).encode()
                connection.close()
            ms = (time.perf_counter() - start) * 1000
            done.append((status, ms, answer.decode(errors="replace")[:300]))
        cpu = time.process_time() - cpu
    finally:
        results.put((done, cpu * 1000))


def http_phase(server: Gunicorn, work: list[tuple[str, list, list]]) -> tuple[list, float, str]:
    """Runs one client process per (token, warm-up, requests), all starting together;
    returns (status, ms, body) per request, the wall time from the start to the last
    answer, and the CPU time per request of the server's workers and of the clients."""
    port = server.port
    context = multiprocessing.get_context("spawn")
    gate = context.Barrier(len(work) + 1)
    queue = context.Queue()
    processes = [
        context.Process(target=_client, args=(port, token, warm, requests, gate, queue))
        for token, warm, requests in work
    ]
    for process in processes:
        process.start()
    gate.wait(timeout=300)  # the clients have warmed up
    used = server.cpu_ms()
    start = time.perf_counter()
    results: list[tuple] = []
    client_cpu = 0.0
    for _ in processes:
        done, cpu = queue.get(timeout=JOIN_TIMEOUT_S)
        results.extend(done)
        client_cpu += cpu
    wall = time.perf_counter() - start
    used = server.cpu_ms() - used
    for process in processes:
        process.join(timeout=30)
    n = max(1, len(results))
    return results, wall, f"CPU/request: server {used / n:.1f} ms, client {client_cpu / n:.1f} ms"


def main(postgres: bool, http_workers: int, clients: int, worker_class: str) -> None:
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
        run(http_workers, clients, worker_class)
    finally:
        if cluster:
            cluster.stop()


def run(http_workers: int, clients: int, worker_class: str) -> None:
    sys.path.insert(0, str(HERE.parent / "src"))
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
    if connection.vendor == "postgresql":
        # The statistics autovacuum would have gathered by the time a clinic opens: planned
        # on an empty table's, the history is read through the day index, not the patient's.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
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
        f"in-process api: GET board, afternoon ({patients} patients, {len(rows)} rows)",
        lambda: api.get(board_url, {"slot": "afternoon"}, headers=api_headers),
        f"p95 < {BOARD_TARGET_MS} ms for 200 patients",
        BOARD_TARGET_MS,
    )
    timed(
        "in-process page: /dosing/?slot=afternoon",
        lambda: web.get("/dosing/", {"slot": "afternoon"}),
    )

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
        f"| in-process api: POST administrations, 1 client alone ({statuses(results)}) | "
        f"{len(results)} | {summary(samples)} | {queries / max(1, len(results)):.0f} | "
        f"{created / wall:.0f} doses/s | | |"
    )

    results, wall, queries = phase(jobs)
    created = sum(1 for status, _ms, _body in results if status == 201)
    others += [r for r in results if r[0] != 201]
    samples = [ms for _status, ms, _body in results]
    table.append(
        f"| in-process api: POST administrations, {CLIENTS} threads, distinct patients "
        f"({statuses(results)}) | {len(results)} | {summary(samples)} | "
        f"{queries / max(1, len(results)):.0f} | {created / wall:.0f} doses/s | "
        "(one interpreter lock: the target is measured over HTTP) | |"
    )

    same = [[due[contested][0]] for _ in range(CLIENTS)]
    results, wall, queries = phase(same)
    counts = Counter(status for status, _ms, _body in results)
    others += [r for r in results if r[0] not in (201, 409)]
    samples = [ms for _status, ms, _body in results]
    correct = counts[201] == 1 and counts[409] == CLIENTS - 1
    table.append(
        f"| in-process api: POST administrations, {CLIENTS} threads, the same patient "
        f"({statuses(results)}) | {len(results)} | {summary(samples)} | "
        f"{queries / max(1, len(results)):.0f} | | exactly one 201, {CLIENTS - 1} × 409 | "
        f"{'yes' if correct else '**no**'} |"
    )

    # 3-4. Over HTTP, as deployed: gunicorn workers, client processes, tomorrow at 15:00.
    served = ""
    if http_workers:
        logging.getLogger("django.request").setLevel(logging.ERROR)
        tomorrow = today + datetime.timedelta(days=1)
        at_three = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(15)))
        with clock.at(at_three):
            rows = api.get(board_url, {"slot": "afternoon"}, headers=api_headers).json()["rows"]
        due_http: dict[int, list[dict]] = defaultdict(list)
        for row in rows:
            if row["state"] == "due" and not row["blocked"] and row["max_allowed_mg"] > 0:
                due_http[row["patient"]].append(row)
        if len(due_http) < clients + SERIAL + 1:
            sys.exit(f"Only {len(due_http)} patients are due at {at_three}; the bench needs more.")
        http_tokens = [token() for _ in range(clients + 1)]
        connections.close_all()
        environment = dict(
            os.environ,
            BENCH_CLOCK=at_three.isoformat(),
            HAB_ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SETTINGS_MODULE="hab.settings",
        )
        http_load = os.getloadavg()[0]
        server = Gunicorn(http_workers, worker_class, environment)
        try:
            server.wait(http_tokens[0])
            http_rows(
                table,
                others,
                server,
                http_tokens,
                due_http,
                tomorrow,
                f"{len({r['patient'] for r in rows})} patients, {len(rows)} rows",
            )
        finally:
            server.stop()
        served = (
            f"; over HTTP: gunicorn {http_workers} {worker_class} workers, {clients} client "
            f"processes, writes at {at_three:%Y-%m-%d %H:%M} Oslo time (load average "
            f"{http_load:.1f} at its start)"
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
        + f"; in-process writes at {moment:%Y-%m-%d %H:%M} Oslo time, {len(spread)} "
        f"patients across {CLIENTS} threads after {SERIAL} alone{served}; load average "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    print()
    print(
        "| measurement | n | median ms | p95 ms | p99 ms | max ms | queries/request "
        "| throughput | target | met |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for line in table:
        print(line)
    for status, _ms, body in others:
        print(f"\n{status}: {body}")
    connections.close_all()


def http_rows(
    table: list[str],
    others: list[tuple],
    server: Gunicorn,
    tokens: list[str],
    due: dict[int, list[dict]],
    day: datetime.date,
    shown: str,
) -> None:
    """Parts 3 and 4: the board and the writes over HTTP, as table lines."""
    clients = len(tokens) - 1
    board = ("GET", "/api/v1/clinics/oslo/board?slot=afternoon", None)
    me = ("GET", "/api/v1/me", None)

    def dose(row: dict, status: str = "given") -> tuple:
        body = {
            "patient": row["patient"],
            "date": str(day),
            "slot": "afternoon",
            "medication": row["medication"],
            "dose_mg": row["max_allowed_mg"],
            "status": status,
            "assessment": {"sedation": 1, "breath_alcohol_permille": 0},
        }
        return ("POST", "/api/v1/administrations", json.dumps(body))

    def line(label: str, results: list[tuple], throughput: str, target: str, met: str) -> None:
        samples = [ms for _status, ms, _body in results]
        counts = Counter(status for status, _ms, _body in results)
        shown_counts = ", ".join(f"{s} ×{n}" for s, n in sorted(counts.items(), key=str))
        table.append(
            f"| {label} ({shown_counts}) | {len(results)} | {summary(samples)} | | "
            f"{throughput} | {target} | {met} |"
        )

    # Warm-up: enough boards that each worker has answered a few.
    warm_board = [me] + [board] * 12
    results, _wall, cpu = http_phase(server, [(tokens[0], warm_board, [board] * ROUNDS)])
    others += [r for r in results if r[0] != 200]
    met = "yes" if p95([ms for _s, ms, _b in results]) < BOARD_TARGET_MS else "**no**"
    line(
        f"http: GET board, afternoon ({shown}), 1 client",
        results,
        cpu,
        f"p95 < {BOARD_TARGET_MS} ms for 200 patients",
        met,
    )

    contested, *rest = sorted(due)
    # Refused (422) before anything is written: warms the workers' path of a dose.
    invalid = dose(due[contested][0], status="x")
    warm = [me, invalid, invalid]
    serial = [dose(row) for patient in rest[:SERIAL] for row in due[patient]]
    results, wall, cpu = http_phase(server, [(tokens[1], warm, serial)])
    others += [r for r in results if r[0] != 201]
    created = sum(1 for status, _ms, _body in results if status == 201)
    line(
        "http: POST administrations, 1 client alone",
        results,
        f"{created / wall:.0f} doses/s; {cpu}",
        "",
        "",
    )

    shares: list[list[tuple]] = [[] for _ in range(clients)]
    for index, patient in enumerate(rest[SERIAL:]):
        shares[index % clients].extend(dose(row) for row in due[patient])
    results, wall, cpu = http_phase(
        server, [(tokens[1 + i], warm, share) for i, share in enumerate(shares)]
    )
    others += [r for r in results if r[0] != 201]
    created = sum(1 for status, _ms, _body in results if status == 201)
    samples = [ms for _status, ms, _body in results]
    met = "yes" if p95(samples) < WRITE_TARGET_MS and created == len(results) else "**no**"
    line(
        f"http: POST administrations, {clients} clients, distinct patients",
        results,
        f"{created / wall:.0f} doses/s; {cpu}",
        f"p95 < {WRITE_TARGET_MS} ms at 8 clients",
        met,
    )

    same = dose(due[contested][0])
    results, _wall, _cpu = http_phase(
        server, [(tokens[1 + i], warm, [same]) for i in range(clients)]
    )
    counts = Counter(status for status, _ms, _body in results)
    others += [r for r in results if r[0] not in (201, 409)]
    correct = counts[201] == 1 and counts[409] == clients - 1
    line(
        f"http: POST administrations, {clients} clients, the same patient",
        results,
        "",
        f"exactly one 201, {clients - 1} × 409",
        "yes" if correct else "**no**",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", action="store_true", help="run on a throwaway PostgreSQL cluster"
    )
    parser.add_argument(
        "--http-workers", type=int, default=4, help="gunicorn workers of the HTTP part (4)"
    )
    parser.add_argument(
        "--clients", type=int, default=8, help="client processes of the HTTP writes (8)"
    )
    parser.add_argument(
        "--worker-class", default="sync", help="gunicorn worker class (sync, as run-demo)"
    )
    parser.add_argument("--no-http", action="store_true", help="the in-process part only")
    arguments = parser.parse_args()
    main(
        arguments.postgres,
        0 if arguments.no_http else arguments.http_workers,
        arguments.clients,
        arguments.worker_class,
    )
