"""Concurrent admissions never fill a clinic beyond its capacity."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from hab.core.models import Clinic
from hab.intake.models import Episode
from tests.helpers import days_ago

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_admissions_stop_at_capacity(api_as, eligible):
    Clinic.objects.filter(code="oslo").update(capacity=3)
    patients = [eligible()["patient"] for _ in range(8)]
    clients = [api_as("clinic_lead.oslo") for _ in patients]
    barrier = threading.Barrier(len(patients))
    statuses: list[int] = []
    # Taken here: the threads do not see the test's fixed clock (tests/clock.py), while
    # their requests do (the test settings' middleware).
    today = str(days_ago(0))

    def admit(api, patient):
        try:
            barrier.wait()
            response = api.post(
                "/episodes", {"patient": patient, "clinic": "oslo", "admitted_on": today}
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=admit, args=(api, patient))
        for api, patient in zip(clients, patients, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] * 3 + [409] * 5
    assert Episode.objects.filter(clinic__code="oslo", ended_on__isnull=True).count() == 3
