"""A prescription valid from a later day supersedes from that day: the one in force stays
until then (issue 16, finding 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core import clock
from hab.prescribing.selectors import (
    active_prescriptions,
    coming_prescriptions,
    prescriptions_in_force,
)
from tests.dosing.helpers import TODAY, dose_body, local

pytestmark = pytest.mark.django_db

TOMORROW = TODAY + timedelta(days=1)


def prescribe(api_as, made, valid_from, mg=150, **extra):
    response = api_as("doctor.oslo").post(
        "/prescriptions",
        {
            "episode": made["episode"],
            "medication": "dam_injectable",
            "route": "iv",
            "doses_mg": {"morning": mg, "afternoon": mg},
            "daily_max_mg": 400,
            "valid_from": str(valid_from),
        }
        | extra,
    )
    assert response.status_code == 201, response.content
    return response.json()


def board_row(api_as, patient, slot="afternoon", day=None):
    query = {"slot": slot} | ({"date": str(day)} if day else {})
    rows = api_as("nurse.oslo").get("/clinics/oslo/board", query).json()["rows"]
    return [r for r in rows if r["patient"] == patient]


def in_force_on(patient, day):
    return [p.pk for p in prescriptions_in_force([patient], day).get(patient, [])]


def test_a_prescription_from_tomorrow_leaves_todays_in_force(api_as, on_prescription, afternoon):
    made = on_prescription()

    coming = prescribe(api_as, made, TOMORROW)
    dosed = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"]))

    assert coming["supersedes"] == made["id"]
    assert dosed.status_code == 201, dosed.content
    assert dosed.json()["prescribed_mg"] == 200
    [row] = board_row(api_as, made["patient"])
    assert row["prescribed_mg"] == 200
    assert in_force_on(made["patient"], TODAY) == [made["id"]]
    assert in_force_on(made["patient"], TOMORROW) == [coming["id"]]
    with clock.at(local(TOMORROW, 9)):
        [tomorrow] = board_row(api_as, made["patient"], "morning")
    assert tomorrow["prescribed_mg"] == 150


def test_each_of_several_coming_prescriptions_takes_over_on_its_day(
    api_as, on_prescription, afternoon
):
    made = on_prescription()
    in_three_days = prescribe(api_as, made, TODAY + timedelta(days=3), mg=180)
    in_five_days = prescribe(api_as, made, TODAY + timedelta(days=5), mg=160)

    found = [in_force_on(made["patient"], TODAY + timedelta(days=n)) for n in range(7)]

    assert found == [
        [made["id"]],
        [made["id"]],
        [made["id"]],
        [in_three_days["id"]],
        [in_three_days["id"]],
        [in_five_days["id"]],
        [in_five_days["id"]],
    ]


def test_a_newer_prescription_from_today_replaces_a_coming_one(api_as, on_prescription, afternoon):
    made = on_prescription()
    coming = prescribe(api_as, made, TODAY + timedelta(days=2), mg=180)

    today = prescribe(api_as, made, TODAY, mg=190)

    assert today["supersedes"] == coming["id"]
    for days in (0, 2, 10):
        assert in_force_on(made["patient"], TODAY + timedelta(days=days)) == [today["id"]]


def test_a_stop_from_tomorrow_leaves_todays_dose(api_as, on_prescription, afternoon):
    made = on_prescription()

    stop = api_as("doctor.oslo").post(
        f"/prescriptions/{made['id']}/stop", {"reason": "Overgang til LAR", "on": str(TOMORROW)}
    )
    dosed = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"]))

    assert stop.status_code == 201, stop.content
    assert dosed.status_code == 201, dosed.content
    assert in_force_on(made["patient"], TODAY) == [made["id"]]
    assert in_force_on(made["patient"], TOMORROW) == []


def test_stopping_the_prescription_in_force_also_ends_the_coming_one(
    api_as, on_prescription, afternoon
):
    made = on_prescription()
    coming = prescribe(api_as, made, TOMORROW)

    stop = api_as("doctor.oslo").post(f"/prescriptions/{made['id']}/stop", {"reason": "Utskrevet"})

    assert stop.status_code == 201, stop.content
    assert stop.json()["supersedes"] == coming["id"]
    assert in_force_on(made["patient"], TODAY) == []
    assert in_force_on(made["patient"], TOMORROW) == []


def test_a_prescription_replaced_from_today_cannot_be_stopped_again(
    api_as, on_prescription, afternoon
):
    made = on_prescription()
    prescribe(api_as, made, TODAY)

    stop = api_as("doctor.oslo").post(f"/prescriptions/{made['id']}/stop", {"reason": "Utskrevet"})

    assert stop.status_code == 409


def test_coming_prescriptions_are_those_that_will_take_over(api_as, on_prescription, afternoon):
    made = on_prescription()
    overtaken = prescribe(api_as, made, TODAY + timedelta(days=4), mg=180)
    coming = prescribe(api_as, made, TODAY + timedelta(days=2), mg=170)

    found = coming_prescriptions([made["patient"]], TODAY)[made["patient"]]

    assert [(p.pk, p.valid_from) for p in found] == [(coming["id"], TODAY + timedelta(days=2))]
    # The one from day 4 was replaced, before it began, by the one from day 2.
    for days in range(7):
        day = TODAY + timedelta(days=days)
        assert overtaken["id"] not in in_force_on(made["patient"], day)
        assert [p.pk for p in active_prescriptions([made["patient"]], day)[made["patient"]]] == (
            in_force_on(made["patient"], day)
        )


def test_the_patient_page_shows_the_coming_prescription_from_its_date(
    api_as, web_as, on_prescription, afternoon
):
    made = on_prescription()
    prescribe(api_as, made, TOMORROW, mg=150)

    page = web_as("doctor.oslo").get(f"/patients/{made['patient']}/")

    assert page.status_code == 200
    text = page.content.decode()
    # In force now, and the coming one with its first day (bokmål is the first language).
    assert "Formiddag 200 mg" in text
    assert f"Fra {TOMORROW:%d.%m.%Y}:</strong> Formiddag 150 mg" in text
