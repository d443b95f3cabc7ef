"""The "over 600 mg injected today" cue says what is true: it shows only when this dose
would take the day's injected diacetylmorphine over the protocol's line, and it says how
much was injected and how much this dose is.

Pure rules first (at, just under and just over the line), then the panel, which shows the
cue after a dose only when the dose actually given took the day over it.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from hab.dosing import messages, rules
from hab.dosing.models import Administration
from hab.dosing.rules import Decision, Reason
from tests.dosing.helpers import TODAY, local
from tests.dosing.rule_helpers import DAY, WARN, at, decide, dose, rx, stable_history


def warning(injected: float, dose_mg: float) -> Reason:
    return Reason("iv_over_warn", WARN, {"warn": 600, "injected": injected, "dose": dose_mg})


@pytest.mark.parametrize(
    ("injected", "dose_mg", "warned"),
    [
        (400.0, 200.0, False),  # 600 exactly: at the line, not over it
        (399.9, 200.0, False),  # just under
        (400.0, 200.1, True),  # just over, by this dose
        (400.1, 200.0, True),  # just over, by what was given before
        (650.0, 0.0, False),  # no dose, no cue: the day is over it already, not by this
    ],
)
def test_the_cue_is_over_the_line_only(injected: float, dose_mg: float, warned: bool) -> None:
    found = rules.iv_over_warn(600, injected, dose_mg)

    assert found == (warning(injected, dose_mg) if warned else None)


@pytest.mark.parametrize(
    ("morning", "daily", "expected"),
    [
        # 350 given this morning, 350 due now: this dose takes the day to 700 mg.
        (350.0, 1000, Decision(350, 350, (warning(350.0, 350.0),))),
        # The prescription's daily maximum leaves 250 mg: 350 + 250 is 600, not over.
        (
            350.0,
            600,
            Decision(350, 250, (Reason("daily_max", "limit", {"daily_max": 600, "left": 250.0}),)),
        ),
        # Nothing given yet today: 350 mg alone is far under the line.
        (0.0, 1000, Decision(350, 350, ())),
    ],
)
def test_the_board_shows_the_cue_for_the_dose_it_offers(morning, daily, expected) -> None:
    history = stable_history()
    if morning:
        history.append(dose(DAY, 9, morning))

    decision = decide(history, now=at(DAY, 15), prescription=rx(dose=350, daily=daily))

    assert decision == expected


@pytest.mark.parametrize(
    ("given", "kept"),
    [(250.0, False), (250.1, True), (350.0, True)],
)
def test_after_a_dose_the_cue_counts_the_dose_given(given: float, kept: bool) -> None:
    offered = (warning(350.0, 350.0), Reason("late", WARN))

    found = rules.for_dose_given(offered, given)

    assert found == ((warning(350.0, given),) if kept else ()) + (Reason("late", WARN),)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("nb", "350 mg injisert i dag: denne dosen på 300 mg gir over 600 mg i dag."),
        ("en", "350 mg injected today: this dose of 300 mg takes the day over 600 mg."),
    ],
)
def test_the_cue_says_the_amounts(language: str, text: str) -> None:
    with translation.override(language):
        assert messages.text(warning(350.0, 300.0)) == text


@pytest.mark.django_db
@pytest.mark.parametrize(("given", "cue"), [("250", False), ("250,1", True), ("300", True)])
def test_the_panel_shows_the_cue_only_when_the_dose_given_crosses_the_line(
    web_as, on_prescription, afternoon, given, cue
):
    # 350 mg was injected this morning; 350 mg is due this afternoon.
    made = on_prescription(doses={"morning": 350, "afternoon": 350}, daily=1000)
    first = Administration.objects.filter(patient_id=made["patient"]).latest("given_at")
    Administration.objects.create(
        patient_id=made["patient"],
        episode_id=made["episode"],
        clinic=first.clinic,
        day=TODAY,
        slot="morning",
        medication="dam_injectable",
        group="dam",
        route="iv",
        status="given",
        dose_mg=350,
        given_at=local(TODAY, 9),
        nurse=first.nurse,
    )
    client = web_as("nurse.oslo")
    board = client.get("/dosing/", {"slot": "afternoon"})
    row = next(r for r in board.context["lines"] if r["pk"] == made["patient"])
    assert "350 mg injisert i dag" in " ".join(row["reasons"])

    response = client.post(
        f"/dosing/patients/{made['patient']}/",
        {
            "identity_checked": "on",
            "sedation": "1",
            "breath_alcohol_permille": "0,00",
            "status": "given",
            "dose_mg": given,
            "slot": "afternoon",
            "date": str(TODAY),
        },
    )

    assert response.status_code == 200
    assert Administration.objects.filter(day=TODAY, slot="afternoon").exists()
    assert ("injisert i dag" in response.content.decode()) is cue
