"""Twenty nurses press "give" for the same patient at once: exactly one dose is recorded."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from hab.core import clock
from hab.dosing.models import Administration, ClinicDay, PatientDay
from tests.dosing.helpers import TODAY, dose_body, local

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_simultaneous_doses_give_one_201_and_nineteen_409(api_as, on_prescription):
    made = on_prescription()
    clients = [api_as("nurse.oslo") for _ in range(20)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def give(api):
        try:
            with clock.at(local(TODAY, 15)):
                barrier.wait()
                statuses.append(
                    api.post("/administrations", dose_body(made["patient"])).status_code
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=give, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * 19
    assert Administration.objects.filter(patient_id=made["patient"], day=TODAY).count() == 1
    [day] = PatientDay.objects.filter(patient_id=made["patient"], day=TODAY)
    # The day's summaries counted the one dose once.
    assert (day.taken, day.taken_mg) == (1, 200)
    assert ClinicDay.objects.get(day=TODAY).records == 1
