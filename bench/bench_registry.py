"""Times the registry's and intake's pages and API on the demo programme.

    HAB_DATA_DIR=$(mktemp -d) HAB_ALLOW_SYNTHETIC_IDS=1 .venv/bin/python bench/bench_registry.py

Builds a fresh database in HAB_DATA_DIR (SQLite, or HAB_DATABASE_URL), loads the demo and
prints median and 95th percentile times of each request, run in-process through Django's
test client (no network, no gunicorn): the time the application itself takes.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hab.settings")
os.environ.setdefault("HAB_SECURE_COOKIES", "0")
os.environ.setdefault("HAB_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from hab.core.models import User  # noqa: E402
from hab.core.services import token_create  # noqa: E402
from hab.patients.models import Patient  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def timed(label: str, call) -> None:
    call()  # warm up
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (label, response.status_code)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"| {label} | {statistics.median(samples):.1f} | {p95:.1f} |")


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    password = os.environ.get("HAB_DEMO_PASSWORD", "demo-pass-2026")
    web = Client()
    web.force_login(User.objects.get(username="nurse.oslo"))
    token = token_create(username="nurse.oslo", password=password)
    headers = {"Authorization": f"Bearer {token}"}
    api = Client()
    patient = Patient.objects.filter(clinic__code="oslo").first()

    print(f"{Patient.objects.count()} patients; {ROUNDS} rounds each")
    print("| request | median ms | p95 ms |")
    print("| --- | --- | --- |")
    timed("page: patient list (first 50, each logged)", lambda: web.get("/patients/"))
    timed("page: search 'han'", lambda: web.get("/patients/", {"q": "han"}))
    timed("page: patient record", lambda: web.get(f"/patients/{patient.pk}/"))
    timed(
        "api: GET /patients/{id}",
        lambda: api.get(f"/api/v1/patients/{patient.pk}", headers=headers),
    )
    lead = Client()
    lead.force_login(User.objects.get(username="clinic_lead.oslo"))
    timed("page: referral inbox (in progress)", lambda: lead.get("/intake/referrals/"))
    timed("page: waitlist", lambda: lead.get("/intake/waitlist/"))
    timed("page: capacity", lambda: lead.get("/intake/capacity/"))
    timed(
        "api: GET /patients?clinic=oslo&q=han",
        lambda: api.get("/api/v1/patients", {"clinic": "oslo", "q": "han"}, headers=headers),
    )


if __name__ == "__main__":
    main()
