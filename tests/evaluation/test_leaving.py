"""Leaving HAB is not one outcome: the ways of leaving as competing risks (Aalen–Johansen),
retention with its 95 % band, and the Cox model of leaving by dose and clinic, computed
from the programme's own records (the estimators themselves: test_survival*.py)."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from hab.evaluation import disclosure
from hab.evaluation import indicators as ind
from hab.intake.models import Episode
from hab.prescribing.models import Prescription
from tests.fixtures.evaluation import D, aware

H1 = ind.Period(D(2025, 1, 1), D(2025, 6, 30))


def test_each_way_of_leaving_is_a_competing_risk(world, clinics):
    found = ind.courses([clinics["oslo"].pk, clinics["bergen"].pk], H1.end)

    got = ind.leaving(found, H1.end)

    # Five courses: P5 died day 30, P2 dropped out day 60, P3 went to LAR day 120; P4
    # (149 days) and P1 (180 days) still in HAB. Aalen–Johansen: each exit takes the
    # share still in HAB just before it, divided among those at risk.
    assert got["exits_by_cause"] == {
        "treatment": 1, "dropout": 1, "prison": 0, "death": 1, "other": 0,
    }  # fmt: skip
    assert got["curve"] == [
        {"days": 30, "at_risk": 5, "in_hab": 0.8, "treatment": 0.0, "dropout": 0.0,
         "prison": 0.0, "death": 0.2, "other": 0.0},
        {"days": 60, "at_risk": 4, "in_hab": 0.6, "treatment": 0.0, "dropout": 0.2,
         "prison": 0.0, "death": 0.2, "other": 0.0},
        {"days": 120, "at_risk": 3, "in_hab": 0.4, "treatment": 0.2, "dropout": 0.2,
         "prison": 0.0, "death": 0.2, "other": 0.0},
    ]  # fmt: skip
    # At 3 months (91.3 days) one in five has died and one dropped out; 6 months lies
    # past the longest course followed (180 days): not estimated.
    assert got["at_months"]["3"] == {
        "in_hab": 0.6, "treatment": 0.0, "dropout": 0.2, "prison": 0.0, "death": 0.2,
        "other": 0.0,
    }  # fmt: skip
    assert got["at_months"]["6"] is None


def test_the_ways_of_leaving_and_still_in_hab_add_up_to_everyone(world, clinics):
    data = ind.compute([clinics["oslo"], clinics["bergen"]], H1, programme=True)

    for step in data["leaving"]["curve"]:
        assert sum(step[cause] for cause in [*ind.LEAVING_CAUSES, "in_hab"]) == 1.0
    # Retention and the competing risks are one computation: still in HAB is the same.
    assert [s["in_hab"] for s in data["leaving"]["curve"]] == [
        s["survival"] for s in data["retention"]["curve"]
    ]
    assert data["leaving"]["exits_by_cause"]["death"] == data["retention"]["deaths"]


def test_retention_has_a_95_percent_band_and_a_median(world, clinics):
    got = ind.retention([clinics["oslo"].pk, clinics["bergen"].pk], H1)

    for step in got["curve"]:
        assert 0 <= step["low"] < step["survival"] < step["high"] <= 1
    low, high = got["band_at_months"]["3"]
    assert low < got["at_months"]["3"] < high
    assert got["band_at_months"]["6"] is None
    # S falls to 0.4 at day 120, the first time it is at or under one half.
    assert got["median_days"] == 120


def _courses_with_doses(
    make_patient, staff, clinics, n: int = 40, *, separated: bool = False
) -> None:
    """``n`` courses at Oslo and Bergen from 2024-01-01, each prescribed half its dose and
    a week later the full dose; the higher the dose, the longer the stay (seeded).
    ``separated``: everyone under 300 mg leaves, the lower the dose the sooner; nobody
    above leaves."""
    rng = random.Random(7)
    lead, doctor = staff["clinic_lead.oslo"], staff["doctor.oslo"]
    for i in range(n):
        code = "oslo" if i % 2 else "bergen"
        patient = make_patient(code)
        peak = 100 + 10 * rng.randint(0, 40)  # 100–500 mg a day
        stay = int(peak * rng.uniform(0.5, 1.5))
        admitted = D(2024, 1, 1)
        ended = admitted + datetime.timedelta(stay) if i % 8 else None
        if separated:
            ended = admitted + datetime.timedelta(peak // 10) if peak < 300 else None
        episode = Episode.objects.create(
            patient=patient,
            clinic=clinics[code],
            admitted_on=admitted,
            ended_on=ended,
            end_reason="dropout" if ended else "",
            phase="maintenance",
            created_by=lead,
        )
        for valid_from, mg in ((admitted, peak // 2), (admitted + datetime.timedelta(7), peak)):
            Prescription.objects.create(
                patient=patient,
                episode=episode,
                medication="dam_injectable",
                route="iv",
                doses_mg={"morning": mg // 2, "afternoon": mg - mg // 2},
                daily_max_mg=Decimal(mg),
                valid_from=valid_from,
                created_at=aware(valid_from),
                created_by=doctor,
            )


def test_a_higher_dose_keeps_people_in_treatment_in_the_model(make_patient, staff, clinics):
    _courses_with_doses(make_patient, staff, clinics)
    period = ind.Period(D(2024, 1, 1), D(2025, 12, 31))

    model = ind.compute([clinics["bergen"], clinics["oslo"]], period, programme=True)[
        "retention_model"
    ]

    assert model["n"] == 40 and model["events"] == 35
    assert model["reference_clinic"] == "bergen"
    dose, clinic = model["terms"]
    assert dose["code"] == "dose_per_10mg" and clinic["code"] == "clinic:oslo"
    # A stay that grows with the dose: each 10 mg more lowers the hazard of leaving.
    assert dose["hazard_ratio"] < 1 and dose["high"] < 1
    assert dose["low"] < dose["hazard_ratio"] < dose["high"]


def test_the_model_needs_twenty_exits(make_patient, staff, clinics):
    _courses_with_doses(make_patient, staff, clinics, n=22)  # 19 of them end
    period = ind.Period(D(2024, 1, 1), D(2025, 12, 31))

    assert ind.compute([clinics["oslo"]], period, programme=False)["retention_model"] is None
    assert ind.compute(list(clinics.values()), period, programme=True)["retention_model"] is None


def test_twenty_exits_are_enough_for_the_model(make_patient, staff, clinics):
    _courses_with_doses(make_patient, staff, clinics, n=23)  # 20 of them end
    period = ind.Period(D(2024, 1, 1), D(2025, 12, 31))

    model = ind.compute(list(clinics.values()), period, programme=True)["retention_model"]

    assert ind.MODEL_MIN_EXITS == 20
    assert model["n"] == 23 and model["events"] == 20


def test_a_small_way_of_leaving_is_withheld_with_what_gives_it_away(world, clinics):
    data = ind.compute([clinics["oslo"], clinics["bergen"]], H1, programme=True)

    shown, marks = disclosure.suppress(data, 5)

    assert shown["leaving"]["exits_by_cause"]["death"] is None
    assert shown["retention"]["deaths"] is None
    assert shown["leaving"]["at_months"]["3"]["death"] is None
    assert marks["leaving.exits_by_cause.death"] == "below"
    # Nothing about the three exits of five courses is left to subtract from.
    assert all(v in (None, 0) for v in shown["leaving"]["exits_by_cause"].values())


def test_a_dose_that_separates_who_leaves_gives_no_model(make_patient, staff, clinics):
    # Whoever leaves has the lowest dose of those still there: the likelihood has no
    # maximum, the hazard ratio runs off towards 0 and no figure would mean anything.
    _courses_with_doses(make_patient, staff, clinics, n=60, separated=True)
    period = ind.Period(D(2024, 1, 1), D(2025, 12, 31))
    found = ind.courses([clinics["oslo"].pk, clinics["bergen"].pk], period.end)
    assert sum(1 for c in found if c.ended) >= ind.MODEL_MIN_EXITS

    assert ind.retention_model(found, period.end, list(clinics.values())) is None


def test_one_small_way_of_leaving_cannot_be_had_by_subtraction():
    # 100 courses, 20 exits: 10 to treatment, 8 dropped out, 2 died. Deaths are under the
    # threshold; were they the only share withheld, 1 − still in HAB − the others would
    # give them back, so a second way of leaving is withheld with them.
    shares = {"in_hab": 0.8, "treatment": 0.1, "dropout": 0.08, "prison": 0.0, "death": 0.02,
              "other": 0.0}  # fmt: skip
    data = {
        "retention": {"courses": 100, "exits": 20, "positive_exits": 10, "deaths": 2},
        "leaving": {
            "exits_by_cause": {"treatment": 10, "dropout": 8, "prison": 0, "death": 2, "other": 0},
            "at_months": {"12": shares, "24": None},
            "curve": [{"days": 30, "at_risk": 100} | shares],
        },
    }

    shown, marks = disclosure.suppress(data, 5)

    for cells in (shown["leaving"]["at_months"]["12"], shown["leaving"]["curve"][0]):
        hidden = [cause for cause in ind.LEAVING_CAUSES if cells[cause] is None]
        assert hidden == ["dropout", "death"]
        assert cells["in_hab"] == 0.8 and cells["treatment"] == 0.1
    assert shown["retention"]["deaths"] is None and marks["retention.deaths"] == "below"
