"""Recording an interview through the API: every item checked (422 with the item as
field, nothing written), one current response per time point, corrections as new
responses, and the window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core.models import AccessLog
from hab.research import selectors
from hab.research.models import Answer, Missed, Response
from tests.research.conftest import on, valid_answers

pytestmark = pytest.mark.django_db


def post(api, follow_up, answers=None, **body):
    return api.post(
        f"/follow-ups/{follow_up.pk}/responses",
        {
            "instrument": "hab_core",
            "answered_on": str(follow_up.due_on + timedelta(days=2)),
            "answers": valid_answers() if answers is None else answers,
        }
        | body,
    )


def test_it_records_the_answers_and_logs_the_write(api_as, baseline):
    response = post(api_as("coordinator.oslo"), baseline)

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["answers"]["heroin_days"] == 12
    assert data["answers"]["injected"] == 1
    assert data["answers"]["housing"] == 2
    assert data["answers"]["comment"] is None
    made = Response.objects.get()
    assert made.answers.count() == 17  # the empty comment is not stored
    log = AccessLog.objects.filter(patient_id=baseline.patient_id, what="follow-up response")
    assert log.get().action == "create"


def test_answering_after_the_due_date_is_allowed_with_a_warning(api_as, baseline):
    # The baseline is due at admission (10 days ago) and its window closes 20 days ahead.
    response = post(api_as("nurse.oslo"), baseline, answered_on=str(baseline.due_on + timedelta(5)))

    assert response.status_code == 201
    assert "5 days after the due date" in response.json()["warnings"][0]


@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        ("heroin_days", 31, "from 0 to 30"),
        ("heroin_days", -1, "from 0 to 30"),
        ("heroin_days", "many", "whole number"),
        ("heroin_days", 2.5, "whole number"),
        ("heroin_days", True, "whole number"),
        ("heroin_days", None, "Required"),
        ("overdose_count", 51, "from 0 to 50"),
        ("hospital_days", 91, "from 0 to 90"),
        ("quality_of_life", 11, "from 0 to 10"),
        ("injected", "maybe", "yes or no"),
        ("injected", None, "Required"),
        ("housing", 8, "one of the options"),
        ("housing", "own flat", "one of the options"),
        ("activity", None, "Required"),
        ("comment", "x" * 2001, "At most"),
        ("comment", 5, "Text"),
        ("shoe_size", 44, "Not a question"),
    ],
)
def test_each_invalid_answer_is_refused_beside_its_item(api_as, baseline, code, value, message):
    answers = valid_answers(**{code: value})
    if value is None:
        del answers[code]

    response = post(api_as("coordinator.oslo"), baseline, answers)

    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert [d["field"] for d in detail] == [f"answers.{code}"]
    assert message in detail[0]["message"]
    assert not Response.objects.exists() and not Answer.objects.exists()


def test_every_problem_is_listed_at_once(api_as, baseline):
    answers = valid_answers(heroin_days=40, housing=99)
    del answers["arrested"]

    response = post(api_as("coordinator.oslo"), baseline, answers, answered_on=None)

    fields = {d["field"] for d in response.json()["detail"]}
    assert fields == {
        "answered_on",
        "answers.heroin_days",
        "answers.housing",
        "answers.arrested",
    }


def test_optional_items_may_be_left_out(api_as, baseline):
    answers = valid_answers()
    del answers["comment"], answers["overdose_count"]

    assert post(api_as("coordinator.oslo"), baseline, answers).status_code == 201


def test_yes_no_accepts_booleans_and_words(api_as, baseline):
    answers = valid_answers(injected="ja", overdose="no", arrested=0, relatives_contact=1)

    data = post(api_as("coordinator.oslo"), baseline, answers).json()

    assert [data["answers"][c] for c in ("injected", "overdose", "arrested")] == [1, 0, 0]


def test_an_unknown_instrument_or_a_future_date_is_refused(api_as, baseline):
    api = api_as("coordinator.oslo")

    assert post(api, baseline, instrument="eq5d").json()["detail"][0]["field"] == "instrument"
    future = str(baseline.due_on + timedelta(days=20))
    assert post(api, baseline, answered_on=future).json()["detail"][0]["field"] == "answered_on"


def test_a_second_response_without_corrects_is_a_conflict(api_as, baseline):
    api = api_as("coordinator.oslo")
    first = post(api, baseline).json()

    again = post(api, baseline, valid_answers(heroin_days=3))

    assert again.status_code == 409
    assert str(first["id"]) in again.json()["detail"]
    assert Response.objects.count() == 1


def test_a_correction_is_a_new_response_and_the_newest_counts(api_as, baseline):
    api = api_as("coordinator.oslo")
    first = post(api, baseline).json()

    corrected = post(
        api,
        baseline,
        valid_answers(heroin_days=3),
        corrects=first["id"],
        correction_reason="Feil tastet fra papirskjemaet",
    )

    assert corrected.status_code == 201, corrected.content
    assert corrected.json()["corrects"] == first["id"]
    assert Response.objects.count() == 2  # the first is kept
    assert selectors.current_response(baseline.pk, "hab_core").pk == corrected.json()["id"]
    history = api.get(f"/follow-ups/{baseline.pk}/responses").json()
    assert [r["answers"]["heroin_days"] for r in history] == [3, 12]
    listed = api.get(f"/patients/{baseline.patient_id}/follow-ups").json()
    assert listed[0]["response"] == corrected.json()["id"]


def test_a_correction_needs_a_reason_and_the_response_in_force(api_as, baseline):
    api = api_as("coordinator.oslo")
    first = post(api, baseline).json()

    no_reason = post(api, baseline, corrects=first["id"])
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"][0]["field"] == "correction_reason"

    second = post(api, baseline, corrects=first["id"], correction_reason="Dato rettet").json()
    stale = post(api, baseline, corrects=first["id"], correction_reason="Igjen")
    assert stale.status_code == 409
    assert str(second["id"]) in stale.json()["detail"]


def test_the_response_of_another_time_point_cannot_be_corrected(api_as, course):
    made = course()
    api = api_as("coordinator.oslo")
    first = post(api, made["points"]["baseline"]).json()
    m3 = made["points"]["m3"]

    with on(m3.due_on):
        api = api_as("coordinator.oslo")  # months later: a new login (tokens last 12 hours)
        refused = post(
            api, m3, corrects=first["id"], correction_reason="feil", answered_on=str(m3.due_on)
        )

    assert refused.status_code == 409


def test_after_the_window_closed_the_follow_up_is_missed(api_as, baseline):
    with on(baseline.window_to + timedelta(days=1)):
        response = post(api_as("coordinator.oslo"), baseline)

    assert response.status_code == 409
    assert "missed" in response.json()["detail"]
    assert not Response.objects.exists()


def test_an_interview_before_the_window_opened_is_not_this_time_point(api_as, course):
    m3 = course()["points"]["m3"]

    with on(m3.window_from - timedelta(days=1)):
        response = post(
            api_as("coordinator.oslo"), m3, answered_on=str(m3.window_from - timedelta(1))
        )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "answered_on"


def test_a_correction_is_allowed_after_the_window_closed(api_as, baseline):
    api = api_as("coordinator.oslo")
    first = post(api, baseline).json()

    with on(baseline.window_to + timedelta(days=40)):
        api = api_as("coordinator.oslo")  # weeks later: a new login (tokens last 12 hours)
        corrected = post(api, baseline, corrects=first["id"], correction_reason="Rettet")

    assert corrected.status_code == 201
    assert not Missed.objects.exists()


def test_unknown_follow_up_is_404(api_as, staff):
    response = api_as("coordinator.oslo").post(
        "/follow-ups/999999/responses",
        {"instrument": "hab_core", "answered_on": "2026-01-01", "answers": {}},
    )

    assert response.status_code == 404


def test_the_instruments_in_use_with_items_and_options(api_as, staff):
    data = api_as("researcher.oslo").get("/research/instruments").json()

    core = next(i for i in data if i["code"] == "hab_core")
    assert core["version"] == 1
    items = {i["code"]: i for i in core["items"]}
    assert len(items) == 18
    assert (items["heroin_days"]["min_value"], items["heroin_days"]["max_value"]) == (0, 30)
    assert items["heroin_days"]["text_nb"].startswith("Hvor mange")
    assert items["heroin_days"]["text_en"].startswith("On how many")
    assert [o["code"] for o in items["housing"]["options"]] == [1, 2, 3, 4, 5, 6, 7]
    assert items["comment"]["required"] is False
    assert {i["type"] for i in core["items"]} == {"integer", "yes_no", "choice", "text"}
