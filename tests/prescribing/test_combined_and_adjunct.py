"""Prescribing through the API: a combined DAM regimen (one injected and one oral DAM
prescription in force together, sharing the DAM daily maximum) and the adjunct oral
opioids (methadone or slow-release morphine, both only with a doctor's reason)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core.models import AccessLog
from hab.prescribing.models import Prescription
from hab.prescribing.selectors import prescriptions_in_force
from tests.dosing.helpers import TODAY

pytestmark = pytest.mark.django_db


def prescribe(api_as, made, medication, doses, daily, **extra):
    route = "iv" if medication.endswith("injectable") else "oral"
    return api_as("doctor.oslo").post(
        "/prescriptions",
        {
            "episode": made["episode"],
            "medication": medication,
            "route": route,
            "doses_mg": doses,
            "daily_max_mg": daily,
        }
        | extra,
    )


def in_force(patient, day=TODAY):
    return sorted(p.medication for p in prescriptions_in_force([patient], day).get(patient, []))


def problems(response):
    assert response.status_code == 422, response.content
    return [(d["field"], d["message"]) for d in response.json()["detail"]]


@pytest.fixture
def injected(on_prescription):
    """A patient with injections in the morning only (250 mg a day at most)."""
    return on_prescription(doses={"morning": 200}, daily=250)


def test_an_oral_dam_prescription_joins_the_injected_one(api_as, injected, afternoon):
    tablets = prescribe(api_as, injected, "dam_tablet_sr", {"afternoon": 400}, 600)

    assert tablets.status_code == 201, tablets.content
    assert tablets.json()["supersedes"] is None
    assert in_force(injected["patient"]) == ["dam_injectable", "dam_tablet_sr"]
    rows = api_as("nurse.oslo").get("/clinics/oslo/board", {"slot": "afternoon"}).json()["rows"]
    [row] = [r for r in rows if r["patient"] == injected["patient"]]
    assert (row["medication"], row["prescribed_mg"]) == ("dam_tablet_sr", 400)


def test_a_new_tablet_prescription_supersedes_the_tablets_not_the_injections(
    api_as, injected, afternoon
):
    first = prescribe(api_as, injected, "dam_tablet_sr", {"afternoon": 400}, 600).json()

    second = prescribe(api_as, injected, "dam_tablet_ir", {"afternoon": 300}, 500)
    injection = prescribe(api_as, injected, "dam_injectable", {"morning": 180}, 250)

    assert second.status_code == 201, second.content
    assert second.json()["supersedes"] == first["id"]
    assert injection.status_code == 201, injection.content
    assert injection.json()["supersedes"] == injected["id"]
    assert in_force(injected["patient"]) == ["dam_injectable", "dam_tablet_ir"]


def test_both_in_one_session_is_refused_on_that_session(api_as, injected, afternoon):
    response = prescribe(api_as, injected, "dam_tablet_sr", {"morning": 100, "afternoon": 400}, 600)

    [(field, message)] = problems(response)
    assert field == "doses_mg.morning"
    assert "combined regimen each session has one of the two" in message
    assert in_force(injected["patient"]) == ["dam_injectable"]


@pytest.mark.parametrize(
    ("tablet_max", "status"),
    [("749.9", 201), ("750", 201), ("750.1", 422)],  # 250 + 750 = the protocol's 1000 mg
)
def test_the_two_daily_maxima_share_the_dam_maximum(
    api_as, injected, afternoon, tablet_max, status
):
    response = prescribe(api_as, injected, "dam_tablet_sr", {"afternoon": 400}, tablet_max)

    assert response.status_code == status, response.content
    if status == 422:
        [(field, message)] = problems(response)
        assert field == "daily_max_mg"
        assert "1,000.1 mg a day" in message and "maximum of 1,000 mg" in message


def test_an_injection_is_checked_against_coming_tablets(api_as, injected, afternoon):
    later = str(TODAY + timedelta(days=3))
    tablets = prescribe(
        api_as, injected, "dam_tablet_sr", {"afternoon": 400}, 700, valid_from=later
    )

    more = prescribe(api_as, injected, "dam_injectable", {"morning": 250}, 350)

    assert tablets.status_code == 201, tablets.content
    [(field, _message)] = problems(more)
    assert field == "daily_max_mg"


@pytest.fixture
def on_methadone(api_as, injected):
    response = prescribe(api_as, injected, "methadone_oral", {"afternoon": 60}, 100)
    assert response.status_code == 201, response.content
    return injected


@pytest.mark.parametrize("override", [None, "", "   "])
def test_slow_release_morphine_with_methadone_is_refused_without_a_reason(
    api_as, on_methadone, afternoon, override
):
    extra = {} if override is None else {"override_reason": override}

    response = prescribe(api_as, on_methadone, "morphine_sr_oral", {"afternoon": 400}, 500, **extra)

    [(field, message)] = problems(response)
    assert field == "medication"
    assert "methadone or slow-release morphine, not both" in message
    assert not Prescription.objects.filter(medication="morphine_sr_oral").exists()


def test_a_doctor_overrides_the_adjunct_rule_with_a_reason_that_is_kept(
    api_as, on_methadone, afternoon
):
    reason = "Metadon  til natten, morfin ved smerter; avtalt med LAR-lege"

    response = prescribe(
        api_as, on_methadone, "morphine_sr_oral", {"afternoon": 400}, 500, override_reason=reason
    )

    assert response.status_code == 201, response.content
    assert response.json()["override_reason"] == " ".join(reason.split())
    assert Prescription.objects.get(pk=response.json()["id"]).override_reason == (
        " ".join(reason.split())
    )
    assert in_force(on_methadone["patient"]) == [
        "dam_injectable",
        "methadone_oral",
        "morphine_sr_oral",
    ]
    logged = AccessLog.objects.filter(what="prescription", username="doctor.oslo").latest("pk")
    assert logged.details["override_reason"] == " ".join(reason.split())


def test_a_reason_with_nothing_to_override_is_not_recorded(api_as, injected, afternoon):
    response = prescribe(
        api_as, injected, "methadone_oral", {"afternoon": 60}, 100, override_reason="Til natten"
    )

    assert response.status_code == 201, response.content
    assert response.json()["override_reason"] == ""


def test_methadone_stopped_before_the_morphine_begins_needs_no_override(
    api_as, on_methadone, afternoon
):
    methadone = Prescription.objects.get(medication="methadone_oral")
    stop_day = TODAY + timedelta(days=3)
    api_as("doctor.oslo").post(
        f"/prescriptions/{methadone.pk}/stop", {"reason": "Bytte til morfin", "on": str(stop_day)}
    )

    too_early = prescribe(
        api_as,
        on_methadone,
        "morphine_sr_oral",
        {"afternoon": 400},
        500,
        valid_from=str(stop_day - timedelta(days=1)),
    )
    on_the_day = prescribe(
        api_as, on_methadone, "morphine_sr_oral", {"afternoon": 400}, 500, valid_from=str(stop_day)
    )

    assert problems(too_early)[0][0] == "medication"
    assert on_the_day.status_code == 201, on_the_day.content


def test_the_form_takes_the_override_reason(web_as, on_methadone, afternoon):
    page = web_as("doctor.oslo").post(
        f"/prescribing/patients/{on_methadone['patient']}/new/",
        {
            "medication": "morphine_sr_oral",
            "route": "oral",
            "dose_afternoon": "400",
            "daily_max_mg": "500",
            "valid_from": str(TODAY),
            "override_reason": "Avtalt med LAR-lege",
        },
    )

    assert page.status_code == 302, page.content.decode()[-2000:]
    assert Prescription.objects.get(medication="morphine_sr_oral").override_reason == (
        "Avtalt med LAR-lege"
    )
