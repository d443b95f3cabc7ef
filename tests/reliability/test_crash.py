"""The server dies mid-load (SIGKILL to gunicorn's master and workers) while nurses'
stations record doses; after a restart, every dose acknowledged with 201 is there as
acknowledged, none is recorded twice, the ledger balance is exact and its hash chain whole,
and the server serves again. On SQLite (WAL) and PostgreSQL."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from hab.core import services as core_services
from hab.core.backup import Database
from hab.core.models import Clinic
from hab.dosing.models import Administration
from tests.conftest import PASSWORD
from tests.dosing.helpers import TODAY, local
from tests.reliability.conftest import assert_ledger_exact, sessions

pytestmark = pytest.mark.django_db(transaction=True)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STATIONS = 4
PATIENTS = 8
ACKNOWLEDGED_BEFORE_KILL = 40  # doses answered 201 before the kill; the plan has 480


class Server:
    """gunicorn with 3 sync workers on a free port, in its own process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.log = log
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "server:app",
                *("--pythonpath", f"{HERE},{ROOT / 'src'},{ROOT}"),
                *("--bind", f"127.0.0.1:{self.port}", "--workers", "3"),
                *("--log-level", "warning", "--timeout", "60"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
            start_new_session=True,  # its own process group: the kill takes the workers too
        )

    def wait_ready(self, token: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if call(self.port, token, "GET", "/api/v1/me")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("gunicorn did not answer:\n" + self.log.read_text())

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once, as a power cut of the process."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def servers(tmp_path):
    """Starts gunicorn servers on the test database; none outlives the test."""
    started: list[Server] = []
    db = Database.from_settings(connection.settings_dict)
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.settings",
        HAB_DATABASE_URL=db.url,
        HAB_ALLOWED_HOSTS="127.0.0.1",
    )

    def start() -> Server:
        server = Server(env, tmp_path / "gunicorn.log")
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def call(port: int, token: str, method: str, path: str, body=None, moment=None):
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if moment:
        headers["X-Test-Clock"] = moment.isoformat()
    try:
        connection_.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = connection_.getresponse()
        return response.status, response.read()
    finally:
        connection_.close()


@dataclass
class Station:
    """A nurse's station: its patients' doses in session order, and what came back."""

    token: str
    plan: list[tuple]  # (patient, day, slot, moment)
    sent: int = 0
    acknowledged: list[tuple] = field(default_factory=list)  # (id, patient, day, slot, mg)
    in_flight: tuple | None = None  # sent, no answer: the server died under it
    unexpected: list[str] = field(default_factory=list)

    def post(self, port: int, planned: tuple) -> int:
        patient, day, slot, moment = planned
        body = {
            "patient": patient,
            "date": str(day),
            "slot": slot,
            "medication": "dam_injectable",
            "dose_mg": 200,
            "route": "iv",
            "status": "given",
            "assessment": {"sedation": 1, "breath_alcohol_permille": 0, "respiratory_rate": 14},
        }
        status, answer = call(port, self.token, "POST", "/api/v1/administrations", body, moment)
        if status == 201:
            self.acknowledged.append((json.loads(answer)["id"], patient, day, slot, 200))
        elif status != 409:
            self.unexpected.append(f"{status}: {answer[:300]!r}")
        return status

    def run(self, port: int) -> None:
        """Sends its plan until the server stops answering."""
        while self.sent < len(self.plan):
            planned = self.plan[self.sent]
            try:
                status = self.post(port, planned)
            except (OSError, http.client.HTTPException):
                self.in_flight = planned
                self.sent += 1
                return
            self.sent += 1
            if status == 409:  # nothing here may be dosed twice
                self.unexpected.append(f"409 for {planned}")


def test_every_acknowledged_dose_survives_a_killed_server(ward, staff, servers, monkeypatch):
    # given eight patients, four stations with their own tokens, and HAB under gunicorn
    patients = ward(PATIENTS)
    # The load spans 30 days of sessions: the stations' tokens must outlive it.
    monkeypatch.setenv("HAB_API_TOKEN_HOURS", str(31 * 24))
    tokens = [
        core_services.token_create(username="nurse.oslo", password=PASSWORD)
        for _ in range(STATIONS)
    ]
    stations = []
    for index, token in enumerate(tokens):
        mine = patients[index::STATIONS]
        plan = [
            (patient, day, slot, local(day, hour, minute))
            for day, slot, hour in sessions(30)
            for minute, patient in enumerate(mine)
        ]
        stations.append(Station(token, plan))
    connection.close()
    server = servers()
    server.wait_ready(tokens[0])

    # when the stations record doses and the server is killed mid-load
    threads = [threading.Thread(target=s.run, args=(server.port,)) for s in stations]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while sum(len(s.acknowledged) for s in stations) < ACKNOWLEDGED_BEFORE_KILL:
        assert time.monotonic() < deadline, "the load did not get going"
        assert any(thread.is_alive() for thread in threads), [s.unexpected for s in stations]
        time.sleep(0.01)
    server.kill()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert [s.unexpected for s in stations] == [[]] * STATIONS
    assert all(s.sent < len(s.plan) for s in stations)  # the load was cut off mid-way
    acknowledged_at_kill = sum(len(s.acknowledged) for s in stations)

    # and the server is started again
    server = servers()
    server.wait_ready(tokens[0])

    # then a dose that was in flight is recorded once: sent again, it is 201 or 409
    for station in stations:
        if station.in_flight:
            assert station.post(server.port, station.in_flight) in (201, 409)
    # and the stations go on recording their next doses
    for station in stations:
        for planned in station.plan[station.sent : station.sent + 2]:
            assert station.post(server.port, planned) == 201
    assert [s.unexpected for s in stations] == [[]] * STATIONS

    # and every dose acknowledged before or after the kill is there as acknowledged
    acknowledged = [row for s in stations for row in s.acknowledged]
    assert len(acknowledged) >= acknowledged_at_kill + 2 * STATIONS
    stored = {
        a.pk: (a.pk, a.patient_id, a.day, a.slot, float(a.dose_mg))
        for a in Administration.objects.filter(pk__in=[row[0] for row in acknowledged])
    }
    assert [stored.get(row[0]) for row in acknowledged] == [
        (pk, patient, day, slot, float(mg)) for pk, patient, day, slot, mg in acknowledged
    ]
    # and no session of a patient has two doses
    twice = (
        Administration.objects.filter(day__gte=TODAY, original__isnull=True)
        .values("patient", "day", "slot")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(twice) == []
    # and nothing beyond the doses sent was written (at most the ones in flight)
    written = Administration.objects.filter(day__gte=TODAY).count()
    in_flight = sum(1 for s in stations if s.in_flight)
    assert len(acknowledged) <= written <= len(acknowledged) + in_flight
    assert Counter(p for _pk, p, *_ in acknowledged).keys() <= set(patients)
    # and the ledger balance is exact and its chain whole
    assert_ledger_exact(Clinic.objects.get(code="oslo"))
