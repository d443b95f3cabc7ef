from __future__ import annotations

import pytest

from hab.core import clock
from tests.dosing.helpers import TODAY, history, local
from tests.prescribing.helpers import in_force


@pytest.fixture
def afternoon():
    """Runs the test at 15:00 today, Oslo time, inside the afternoon session."""
    with clock.at(local(TODAY, 15)):
        yield local(TODAY, 15)


@pytest.fixture
def protocols(staff):
    made = {}
    for code in ("oslo", "bergen"):
        # Proposed by the clinic lead and confirmed by the doctor: then it is in force.
        made[code] = in_force(staff, code, demo_values=True)
    return made


@pytest.fixture
def on_prescription(admitted, api_as, protocols):
    """A patient in maintenance with a diacetylmorphine prescription and ten days of doses."""

    def make(clinic: str = "oslo", doses=None, daily=450, days: int = 10, **extra):
        episode = admitted(clinic)
        response = api_as(f"doctor.{clinic}").post(
            "/prescriptions",
            {
                "episode": episode["id"],
                "medication": "dam_injectable",
                "route": "iv",
                "doses_mg": doses or {"morning": 200, "afternoon": 200},
                "daily_max_mg": daily,
            }
            | extra,
        )
        assert response.status_code == 201, response.content
        if days:
            history(episode["patient"], days)
        return {"patient": episode["patient"], "episode": episode["id"], **response.json()}

    return make
