"""Issue 16's unsafe paths, through the API as the dosing room uses it: missed days per
medication group, what counts as a doctor's review, every reason in a refusal, the first
day's top-up, intoxication, and the end of an observation before its time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core import clock
from hab.core.models import AccessLog
from hab.dosing.models import Administration, DoseReview
from hab.intake.models import Episode
from tests.dosing.helpers import TODAY, dose_body, history, local

pytestmark = pytest.mark.django_db

METHADONE = {"medication": "methadone_oral", "route": "oral", "dose_mg": 60}


def doses_of(patient: int, medication: str, group: str, days: list[int], mg: float = 60):
    """One morning dose ``days`` days ago each, as the clinic recorded it."""
    episode = Episode.objects.get(patient_id=patient, ended_on__isnull=True)
    Administration.objects.bulk_create(
        Administration(
            patient_id=patient,
            episode=episode,
            clinic=episode.clinic,
            day=TODAY - timedelta(days=back),
            slot="morning",
            medication=medication,
            group=group,
            route="oral",
            status="given",
            dose_mg=mg,
            given_at=local(TODAY - timedelta(days=back), 9),
            nurse=episode.created_by,
        )
        for back in days
    )


def prescribe(api_as, made: dict, **body):
    response = api_as("doctor.oslo").post(
        "/prescriptions",
        {"episode": made["episode"], "daily_max_mg": 150} | body,
    )
    assert response.status_code == 201, response.content
    return response.json()


def messages(response) -> list[str]:
    return [d["message"] for d in response.json()["detail"]]


def test_missed_methadone_is_blocked_though_diacetylmorphine_was_given(
    api_as, on_prescription, afternoon
):
    # given: diacetylmorphine every day; methadone last taken eleven days ago
    with clock.at(local(TODAY - timedelta(days=9), 12)):
        made = on_prescription(days=0)
        prescribe(
            api_as, made, medication="methadone_oral", route="oral", doses_mg={"afternoon": 60}
        )
    history(made["patient"], 3)
    doses_of(made["patient"], "methadone_oral", "methadone", [11, 12])

    # when
    response = api_as("nurse.oslo").post(
        "/administrations", dose_body(made["patient"], **METHADONE)
    )

    # then
    assert response.status_code == 422
    assert any("No dose for 10 days" in m for m in messages(response))
    assert not Administration.objects.filter(day=TODAY, group="methadone").exists()


def test_diacetylmorphine_restarted_after_days_off_is_blocked_though_methadone_was_given(
    api_as, on_prescription, afternoon
):
    with clock.at(local(TODAY - timedelta(days=9), 12)):
        made = on_prescription(days=0)
        prescribe(api_as, made, medication="methadone_oral", route="oral", doses_mg={"morning": 60})
    history(
        made["patient"],
        12,
        skip=frozenset(
            (TODAY - timedelta(days=back), slot)
            for back in range(1, 12)
            for slot in ("morning", "afternoon")
        ),
    )  # diacetylmorphine only twelve days ago
    doses_of(made["patient"], "methadone_oral", "methadone", [1, 2, 3])

    response = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"]))

    assert response.status_code == 422
    assert any("No dose for 11 days" in m for m in messages(response))


def test_a_prescription_written_before_the_block_is_no_review_but_an_explicit_one_is(
    api_as, on_prescription, afternoon
):
    # given: the last dose five days ago; the prescription was written the day after it
    with clock.at(local(TODAY - timedelta(days=4), 12)):
        made = on_prescription(days=0)
    history(
        made["patient"],
        5,
        skip=frozenset(
            (TODAY - timedelta(days=back), slot)
            for back in range(1, 5)
            for slot in ("morning", "afternoon")
        ),
    )
    blocked = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"]))
    assert blocked.status_code == 422
    assert any("a doctor must review" in m for m in messages(blocked))

    # when: a nurse cannot review, the doctor does
    refused = api_as("nurse.oslo").post(
        f"/patients/{made['patient']}/dose-reviews", {"group": "dam", "note": "Seen, well."}
    )
    empty = api_as("doctor.oslo").post(
        f"/patients/{made['patient']}/dose-reviews", {"group": "dam", "note": "  "}
    )
    reviewed = api_as("doctor.oslo").post(
        f"/patients/{made['patient']}/dose-reviews",
        {"group": "dam", "note": "Seen: no intoxication, restart by the first-day rules."},
    )

    # then: the restart is allowed within the first day's limits
    assert refused.status_code == 403
    assert empty.status_code == 422 and empty.json()["detail"][0]["field"] == "note"
    assert reviewed.status_code == 201, reviewed.content
    assert DoseReview.objects.filter(patient_id=made["patient"]).count() == 1
    assert AccessLog.objects.filter(what="dose review", username="doctor.oslo").exists()
    too_much = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"]))
    first_dose = api_as("nurse.oslo").post(
        "/administrations", dose_body(made["patient"], dose_mg=15)
    )
    assert too_much.status_code == 422
    assert first_dose.status_code == 201, first_dose.content


def test_a_refusal_lists_every_reason(api_as, on_prescription, afternoon):
    made = on_prescription()
    with clock.at(local(TODAY, 13)):
        first = api_as("nurse.oslo").post(
            "/administrations", dose_body(made["patient"], slot="morning", dose_mg=200)
        )
    assert first.status_code == 201, first.content

    response = api_as("nurse.oslo").post(
        "/administrations",
        dose_body(
            made["patient"],
            assessment={
                "sedation": 4,
                "breath_alcohol_permille": 0.5,
                "intoxication": "obvious",
            },
        ),
    )

    assert response.status_code == 422
    found = messages(response)
    assert any("minimum interval" in m for m in found)
    assert any("POSS 4" in m for m in found)
    assert any("Breath alcohol 0.5" in m for m in found)
    assert any("intoxicated" in m for m in found)


@pytest.mark.parametrize(
    ("intoxication", "dose_mg", "status"),
    [("none", 200, 201), ("suspected", 100, 201), ("suspected", 100.1, 422), ("obvious", 50, 422)],
)
def test_intoxication_reduces_or_stops_the_dose(
    api_as, on_prescription, afternoon, intoxication, dose_mg, status
):
    made = on_prescription()

    response = api_as("nurse.oslo").post(
        "/administrations",
        dose_body(
            made["patient"],
            dose_mg=dose_mg,
            assessment={"sedation": 1, "breath_alcohol_permille": 0, "intoxication": intoxication},
        ),
    )

    assert response.status_code == status, response.content
    if status == 201:
        assert Administration.objects.get(day=TODAY).intoxication == intoxication


def test_an_unknown_intoxication_value_is_422_on_its_field(api_as, on_prescription, afternoon):
    made = on_prescription()

    response = api_as("nurse.oslo").post(
        "/administrations",
        dose_body(
            made["patient"],
            assessment={"sedation": 1, "breath_alcohol_permille": 0, "intoxication": "very"},
        ),
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "assessment.intoxication"


def test_the_first_injection_is_topped_up_once(api_as, on_prescription, afternoon):
    # given: a new patient on the first day of injections
    made = on_prescription(days=0, doses={"afternoon": 30})
    nurse = api_as("nurse.oslo")
    first = nurse.post("/administrations", dose_body(made["patient"], dose_mg=15))
    assert first.status_code == 201, first.content

    # when: a further 15 mg at once, then another
    with clock.at(local(TODAY, 15, 2)):
        top_up = nurse.post("/administrations", dose_body(made["patient"], dose_mg=15, top_up=True))
        again = nurse.post("/administrations", dose_body(made["patient"], dose_mg=15, top_up=True))
        over = nurse.post("/administrations", dose_body(made["patient"], dose_mg=15.1, top_up=True))

    # then
    assert top_up.status_code == 201, top_up.content
    assert top_up.json()["top_up"] is True
    assert again.status_code == 422
    assert over.status_code == 422
    assert list(
        Administration.objects.filter(day=TODAY).order_by("pk").values_list("dose_mg", "top_up")
    ) == [(15, False), (15, True)]


def test_no_top_up_in_maintenance(api_as, on_prescription, afternoon):
    made = on_prescription()
    nurse = api_as("nurse.oslo")
    assert nurse.post("/administrations", dose_body(made["patient"])).status_code == 201

    with clock.at(local(TODAY, 15, 2)):
        top_up = nurse.post("/administrations", dose_body(made["patient"], dose_mg=15, top_up=True))

    assert top_up.status_code == 422
    assert any("top-up" in m for m in messages(top_up))


@pytest.mark.parametrize(
    ("minutes", "note", "status"), [(19, "", 422), (19, "Left, felt well.", 201), (20, "", 201)]
)
def test_ending_an_observation_early_needs_a_reason(
    api_as, on_prescription, afternoon, minutes, note, status
):
    made = on_prescription()
    dosed = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"]))

    with clock.at(local(TODAY, 15) + timedelta(minutes=minutes)):
        response = api_as("nurse.oslo").post(
            f"/administrations/{dosed.json()['id']}/observation",
            {"outcome": "no_concern", "note": note},
        )

    assert response.status_code == status, response.content
    if status == 422:
        assert response.json()["detail"][0]["field"] == "note"


# --- the same through the pages --------------------------------------------------------

PANEL_DOSE = {
    "identity_checked": "on",
    "sedation": "1",
    "breath_alcohol_permille": "0.00",
    "intoxication": "none",
    "status": "given",
    "slot": "afternoon",
    "date": str(TODAY),
}


def test_the_panel_records_suspected_intoxication_and_refuses_over_the_reduction(
    web_as, on_prescription, afternoon
):
    made = on_prescription()
    client = web_as("nurse.oslo")
    client.cookies["django_language"] = "en"
    url = f"/dosing/patients/{made['patient']}/"

    refused = client.post(url, PANEL_DOSE | {"intoxication": "suspected", "dose_mg": "200"})
    given = client.post(url, PANEL_DOSE | {"intoxication": "suspected", "dose_mg": "100"})

    assert "Suspected intoxication with other substances: reduce by 50 %" in refused.text
    assert given.context["recorded"] is not None
    assert Administration.objects.get(day=TODAY).intoxication == "suspected"


def test_the_panel_offers_the_first_days_top_up_once(web_as, on_prescription, afternoon):
    made = on_prescription(days=0, doses={"afternoon": 30})
    client = web_as("nurse.oslo")
    client.cookies["django_language"] = "en"
    url = f"/dosing/patients/{made['patient']}/"
    client.post(url, PANEL_DOSE | {"dose_mg": "15"})

    offered = client.get(url, {"slot": "afternoon"})
    with clock.at(local(TODAY, 15, 1)):
        topped = client.post(
            url, {"top_up": "1", "sedation": "1", "dose_mg": "15", "slot": "afternoon"}
        )
        again = client.get(url, {"slot": "afternoon"})

    assert "Top-up after the first injection" in offered.text
    assert topped.context["recorded"].administration.top_up
    assert again.context["top_up_form"] is None
    assert Administration.objects.filter(day=TODAY, top_up=True).count() == 1


def test_the_panel_shows_the_minutes_of_observation_left(web_as, on_prescription, afternoon):
    made = on_prescription()
    client = web_as("nurse.oslo")
    client.cookies["django_language"] = "en"
    url = f"/dosing/patients/{made['patient']}/"
    client.post(url, PANEL_DOSE | {"dose_mg": "200"})

    with clock.at(local(TODAY, 15, 8)):
        panel = client.get(url, {"slot": "afternoon"})

    assert "12 minutes of observation left" in panel.text


def test_a_doctor_reviews_a_blocked_patient_from_the_panel(web_as, on_prescription, afternoon):
    with clock.at(local(TODAY - timedelta(days=4), 12)):
        made = on_prescription(days=0)
    history(
        made["patient"],
        5,
        skip=frozenset(
            (TODAY - timedelta(days=back), slot)
            for back in range(1, 5)
            for slot in ("morning", "afternoon")
        ),
    )
    doctor = web_as("doctor.oslo")
    doctor.cookies["django_language"] = "en"
    url = f"/dosing/patients/{made['patient']}/"

    panel = doctor.get(url, {"slot": "afternoon"})
    page = doctor.get(f"/dosing/patients/{made['patient']}/review/", {"group": "dam"})
    saved = doctor.post(
        f"/dosing/patients/{made['patient']}/review/",
        {"group": "dam", "note": "Seen; restart by the first-day rules."},
    )
    after = doctor.get(url, {"slot": "afternoon"})

    assert "Review as the doctor" in panel.text
    assert page.status_code == 200
    assert saved.status_code == 302
    assert not after.context["row"].decision.blocked
    assert after.context["row"].decision.max_mg == 15
    assert (
        web_as("nurse.oslo").get(f"/dosing/patients/{made['patient']}/review/").status_code == 403
    )


def test_a_combined_regimen_doses_each_form_under_its_own_prescription(
    api_as, on_prescription, afternoon
):
    # given: injections in the morning, slow-release tablets in the afternoon
    made = on_prescription(doses={"morning": 200}, daily=450)
    prescribe(
        api_as,
        made,
        medication="dam_tablet_sr",
        route="oral",
        doses_mg={"afternoon": 200},
        daily_max_mg=450,
    )
    with clock.at(local(TODAY, 9)):
        morning = api_as("nurse.oslo").post(
            "/administrations", dose_body(made["patient"], slot="morning")
        )

    # when
    tablets = api_as("nurse.oslo").post(
        "/administrations",
        dose_body(made["patient"], medication="dam_tablet_sr", route="oral", dose_mg=250),
    )
    within = api_as("nurse.oslo").post(
        "/administrations",
        dose_body(made["patient"], medication="dam_tablet_sr", route="oral", dose_mg=200),
    )

    # then: the tablets share the day's diacetylmorphine maximum with the injection
    assert morning.status_code == 201, morning.content
    assert tablets.status_code == 422
    assert within.status_code == 201, within.content
    assert within.json()["medication"] == "dam_tablet_sr"
    assert Administration.objects.filter(day=TODAY, group="dam").count() == 2
