"""A correction of the first day's top-up is a top-up too.

On a new patient's first day the first injection (15 mg) may be followed at once by a
top-up of at most 15 mg. A correction of that top-up describes the same dose: it keeps
the top-up mark, so the day's checks read it as the top-up that follows the first
injection at once, not as a second dose minutes after the first. The day's total and the
injected diacetylmorphine counted for the "over 600 mg" cue count it once, as corrected.

The suite's clock stands at 09:30, in the morning session; the top-up follows at 09:35.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from hab.core import clock
from hab.core.models import Clinic
from hab.dosing import selectors
from hab.dosing.history import dose_history
from hab.dosing.models import Administration
from hab.patients.models import Patient
from tests.dosing.helpers import TODAY, dose_body, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def topped_up(api_as, on_prescription) -> Iterator[dict]:
    """A first day: 15 mg injected at 09:30 and a 15 mg top-up at 09:35; the test goes on
    at 09:35."""
    made = on_prescription(doses={"morning": 30, "afternoon": 30}, daily=60, days=0)
    nurse = api_as("nurse.oslo")
    with clock.at(local(TODAY, 9, 30)):  # the suite also runs at other hours of the day
        first = nurse.post(
            "/administrations", dose_body(made["patient"], slot="morning", dose_mg=15)
        )
    assert first.status_code == 201, first.content
    with clock.at(local(TODAY, 9, 35)):
        top_up = nurse.post(
            "/administrations",
            dose_body(made["patient"], slot="morning", dose_mg=15, top_up=True),
        )
        assert top_up.status_code == 201, top_up.content
        yield {
            "patient": made["patient"],
            "first": first.json()["id"],
            "top_up": top_up.json()["id"],
        }


def correct(api_as, record: int, mg: float, status: str = "given", **extra):
    return api_as("nurse.oslo").post(
        f"/administrations/{record}/corrections",
        {"reason": "Feil mengde notert", "dose_mg": mg, "status": status} | extra,
    )


def todays_doses(patient: int):
    ctx = selectors.context_for(Clinic.objects.get(code="oslo"), [patient], TODAY)
    return ctx, [d for d in ctx.doses(patient) if d.day == TODAY]


def test_the_correction_of_a_top_up_is_a_top_up(api_as, topped_up):
    response = correct(api_as, topped_up["top_up"], 10)

    assert response.status_code == 201, response.content
    assert response.json()["top_up"] is True
    assert Administration.objects.get(pk=response.json()["id"]).top_up is True
    # The first injection is not made a top-up by it.
    assert Administration.objects.get(pk=topped_up["first"]).top_up is False


def test_the_days_total_counts_the_corrected_top_up_once(api_as, topped_up):
    correct(api_as, topped_up["top_up"], 10)

    _ctx, doses = todays_doses(topped_up["patient"])
    history = dose_history(Patient.objects.get(pk=topped_up["patient"]), end=TODAY, days=1)

    assert sorted((d.mg, d.top_up) for d in doses) == [(10.0, True), (15.0, False)]
    morning = history.sessions[(TODAY, "morning", "dam")]
    assert (morning.given_mg, morning.top_up_mg, morning.corrected) == (25, 10, True)


def test_the_injected_cue_counts_the_corrected_top_up(api_as, topped_up):
    """The protocol's line is 100 mg at the lowest, out of a first day's reach: the
    decision is read with a line of 30 mg to see what it counts."""
    correct(api_as, topped_up["top_up"], 10)
    ctx, _doses = todays_doses(topped_up["patient"])
    ctx.protocol = replace(ctx.protocol, iv_warn_daily_mg=30)
    [prescription] = ctx.prescriptions[topped_up["patient"]]

    decision = ctx.decide(topped_up["patient"], prescription, "afternoon", local(TODAY, 15))

    [cue] = [r for r in decision.reasons if r.code == "iv_over_warn"]
    assert cue.params["injected"] == 25


@pytest.mark.parametrize("mg", [15, 15.1])
def test_a_corrected_top_up_raised_again_is_checked_as_a_top_up(api_as, topped_up, mg):
    """Up to the first dose (15 mg) the top-up breaks nothing; over it, only its limit."""
    lowered = correct(api_as, topped_up["top_up"], 10).json()["id"]

    response = correct(api_as, lowered, mg)

    if mg == 15:
        assert response.status_code == 201, response.content
        assert response.json()["top_up"] is True
    else:
        assert response.status_code == 422
        breach, *rest = [e["message"] for e in response.json()["detail"]]
        # Its own limit only: no interval since the first injection, no later day-1 cap.
        assert breach == (
            "The dose at 09:35, 15.1 mg, is over the titration limit of 15 mg "
            "(top-up after the first injection)."
        )
        assert not any("apart" in m for m in rest)


def test_a_top_up_corrected_to_none_and_back_is_given_as_the_top_up(api_as, topped_up):
    none = correct(api_as, topped_up["top_up"], 0, status="withheld").json()["id"]

    response = correct(
        api_as,
        none,
        15,
        assessment={"sedation": 1, "breath_alcohol_permille": 0.0, "respiratory_rate": 14},
    )

    assert response.status_code == 201, response.content
    assert response.json()["top_up"] is True
    _ctx, doses = todays_doses(topped_up["patient"])
    assert sorted((d.mg, d.top_up) for d in doses) == [(15.0, False), (15.0, True)]


def test_a_correction_written_without_the_mark_is_read_as_the_top_up(topped_up):
    """Corrections made before the mark was kept: the chain's first row says."""
    top_up = Administration.objects.get(pk=topped_up["top_up"])
    top_up.pk, top_up.top_up, top_up.dose_mg = None, False, 10
    top_up.corrects_id = top_up.original_id = topped_up["top_up"]
    top_up.correction_reason = "Feil mengde notert"
    top_up.save()

    _ctx, doses = todays_doses(topped_up["patient"])

    assert sorted((d.mg, d.top_up) for d in doses) == [(10.0, True), (15.0, False)]
