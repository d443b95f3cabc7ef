"""Two people registering the same person at the same moment: exactly one succeeds."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from hab.patients.models import Patient
from tests.conftest import synthetic_id

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_registrations_of_one_id_give_one_201_and_409s(api_as):
    national_id = synthetic_id()
    clients = [api_as("coordinator.oslo") for _ in range(6)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def register(api):
        try:
            barrier.wait()
            response = api.post(
                "/patients",
                {
                    "national_id": national_id,
                    "given_name": "Samtidig",
                    "family_name": "Registrert",
                    "clinic": "oslo",
                },
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(api,)) for api in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * (len(clients) - 1)
    assert Patient.objects.filter(national_id=national_id).count() == 1
