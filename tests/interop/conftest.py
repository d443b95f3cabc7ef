"""A clinic with a few days of doses, a correction to a smaller dose, a correction to
"not given", a missed session and today's dose with its pre-dose assessment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core import clock
from hab.core.demo import demo_org_number
from hab.core.models import Clinic, User
from hab.dosing.models import Administration
from hab.intake.models import Episode
from tests.clock import TODAY
from tests.dosing.helpers import dose_body, local
from tests.prescribing.helpers import in_force

DAYS = 3
HPR = "9144900"


@pytest.fixture
def scene(staff, admitted, api_as):
    Clinic.objects.filter(code="oslo").update(org_number=demo_org_number(0))
    User.objects.filter(username="doctor.oslo").update(hpr_number=HPR)
    in_force(staff, "oslo", demo_values=True)
    episode = admitted("oslo")
    patient = episode["patient"]
    rx = api_as("doctor.oslo").post(
        "/prescriptions",
        {
            "episode": episode["id"],
            "medication": "dam_injectable",
            "route": "iv",
            "doses_mg": {"morning": 200, "afternoon": 200},
            "daily_max_mg": 450,
        },
    )
    assert rx.status_code == 201, rx.content
    open_episode = Episode.objects.get(pk=episode["id"])
    rows = []
    for back in range(DAYS, 0, -1):
        day = TODAY - timedelta(days=back)
        for slot, hour in (("morning", 9), ("afternoon", 15)):
            rows.append(
                Administration(
                    patient_id=patient,
                    episode=open_episode,
                    prescription_id=rx.json()["id"],
                    clinic=open_episode.clinic,
                    day=day,
                    slot=slot,
                    medication="dam_injectable",
                    group="dam",
                    route="iv",
                    status="missed" if (back, slot) == (1, "afternoon") else "given",
                    dose_mg=0 if (back, slot) == (1, "afternoon") else 200,
                    given_at=local(day, hour),
                    nurse=open_episode.created_by,
                )
            )
    made = Administration.objects.bulk_create(rows)
    nurse = api_as("nurse.oslo")
    smaller = nurse.post(
        f"/administrations/{made[0].pk}/corrections",
        {"reason": "Sprøyten lakk; 150 mg gitt", "dose_mg": 150, "status": "partial"},
    )
    assert smaller.status_code == 201, smaller.content
    not_given = nurse.post(
        f"/administrations/{made[1].pk}/corrections",
        {
            "reason": "Feil pasient registrert",
            "dose_mg": 0,
            "status": "refused",
        },
    )
    assert not_given.status_code == 201, not_given.content
    with clock.at(local(TODAY, 15)):
        today = nurse.post("/administrations", dose_body(patient))
    assert today.status_code == 201, today.content
    return {
        "patient": patient,
        "episode": episode["id"],
        "prescription": rx.json()["id"],
        "first": made[0].pk,
        "withdrawn": made[1].pk,
        "missed": made[3 * 2 - 1].pk,
        "today": today.json()["id"],
        "smaller": smaller.json()["id"],
        "not_given": not_given.json()["id"],
    }
