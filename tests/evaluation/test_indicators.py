"""Every indicator on the hand-built programme of conftest.py, worked out by hand."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from hab.core.access import Actor
from hab.evaluation import indicators as ind
from hab.evaluation import services
from hab.intake.models import EligibilityAssessment, Episode, Referral, ReferralEvent
from tests.fixtures.evaluation import D, aware

H1 = ind.Period(D(2025, 1, 1), D(2025, 6, 30))  # 181 days


def ids(clinics, *codes):
    return [clinics[code].pk for code in codes]


def test_patients_places_and_patient_years(world, clinics):
    got = ind.patients(ids(clinics, "oslo"), H1)
    # Days in the period, the day of leaving not counted: P1 181, P2 60, P3 120, P4 59.
    assert got["patient_days"] == 181 + 60 + 120 + 59 == 420
    assert got["patient_years"] == round(420 / 365.25, 3) == 1.15
    assert got["active"] == 4
    assert got["admitted"] == 4  # P4's move to Bergen is no admission there
    assert got["places_used_at_end"] == 1  # only P1 on 30 June
    assert got["capacity"] == 200
    assert got["places_used_share"] == 0.005  # 1 / 200
    assert got["occupancy"] == round(420 / (200 * 181), 4) == 0.0116
    assert got["deaths"] == 0
    assert got["ended_by_reason"] == {"dropout": 1, "transfer_lar": 1, "transfer_hab": 1}
    bergen = ind.patients(ids(clinics, "bergen"), H1)
    assert bergen["admitted"] == 1 and bergen["deaths"] == 1


def test_retention_is_kaplan_meier_of_still_in_hab(world, clinics):
    got = ind.retention(ids(clinics, "oslo"), H1)
    # Courses begun in Oslo: P2 event day 60, P3 event day 120 (LAR), P4 censored day 149
    # (carried on in Bergen), P1 censored day 180. S(60) = 3/4; S(120) = 3/4 × 2/3 = 1/2.
    assert got["courses"] == 4
    assert [(p["days"], p["at_risk"], p["survival"]) for p in got["curve"]] == [
        (60, 4, 0.75),
        (120, 3, 0.5),
    ]
    # 3 months = 91.3 days → 0.75; 6 months (182.6 days) is past the longest (180 days).
    assert got["at_months"] == {"3": 0.75, "6": None, "12": None, "24": None}
    assert got["exits"] == 2
    assert got["positive_exits"] == 1 and got["positive_exit_share"] == 0.5
    assert got["deaths"] == 0


def test_programme_retention_counts_a_death_as_leaving(world, clinics):
    got = ind.retention(ids(clinics, "oslo", "bergen"), H1)
    # Five courses: 30 (death), 60, 120 events; 149, 180 censored.
    # S(30) = 4/5 = 0.8; S(60) = 0.8 × 3/4 = 0.6; S(120) = 0.6 × 2/3 = 0.4.
    assert [p["survival"] for p in got["curve"]] == [0.8, 0.6, 0.4]
    assert got["at_months"]["3"] == 0.6
    assert got["deaths"] == 1
    assert got["positive_exit_share"] == round(1 / 3, 4)


def test_dosing_counts_current_records_only(world, clinics):
    got = ind.dosing(ids(clinics, "oslo"), H1)
    # P1: 6 current records (the 120 mg dose was corrected to 80 mg); P2: 3.
    assert got["doses_expected"] == 9
    # Given or partial: 100, 150, 50 (partial), 80 (the correction).
    assert got["doses_given"] == 4
    assert got["attendance"] == round(4 / 9, 4) == 0.4444
    assert got["by_status"] == {
        "given": 3, "partial": 1, "withheld": 3, "refused": 1, "missed": 1,
    }  # fmt: skip
    assert got["withheld_by_reason"] == {"sedation": 2, "intoxicated": 1}
    # Daily totals: 10 Jan 100 + 150 = 250 (induction); 12 Jan 50 + 80 = 130 (maintenance
    # from that day).
    assert got["mean_daily_dose_mg_by_phase"] == {"induction": 250.0, "maintenance": 130.0}
    assert got["attended_days"] == 2
    assert got["mean_daily_dose_mg"] == 190.0
    # 20 mg bins from the lowest day's to the highest's: 130 in 120–140, 250 in 240–260.
    histogram = got["daily_dose_histogram"]
    assert (histogram[0]["from_mg"], histogram[-1]["to_mg"]) == (120, 260)
    assert [b["patient_days"] for b in histogram if b["patient_days"]] == [1, 1]
    assert {b["from_mg"] for b in histogram if b["patient_days"]} == {120, 240}


def test_incidents_and_overdoses_per_1000_doses(world, clinics):
    got = ind.safety(ids(clinics, "oslo"), H1, administrations=4)
    # Two incidents in the period (the one of 31 December is not), one an overdose.
    assert got["incidents"] == 2 and got["overdoses"] == 1
    assert got["incidents_per_1000_administrations"] == 500.0  # 2 × 1000 / 4
    assert got["overdoses_per_1000_administrations"] == 250.0


def test_intake_counts_sources_decisions_waitlist_and_wait(make_patient, staff, clinics):
    lead = staff["clinic_lead.oslo"]
    oslo = clinics["oslo"]
    made = []
    for source, received, eligible_on in [
        ("lar", D(2025, 1, 5), D(2025, 1, 20)),
        ("gp", D(2025, 1, 10), D(2025, 2, 5)),
        ("gp", D(2025, 2, 1), None),
        ("self", D(2024, 12, 20), D(2024, 12, 30)),  # received before the period
    ]:
        made.append(
            Referral.objects.create(
                patient=make_patient("oslo"),
                clinic=oslo,
                source=source,
                referring_organisation="x",
                received_on=received,
                eligible_on=eligible_on,
                status="received",
                created_by=lead,
            )
        )
    r1, r2, _r3, r4 = made
    for referral, on, eligible in [
        (r1, D(2025, 1, 20), True),
        (r2, D(2025, 1, 25), False),
        (r2, D(2025, 2, 5), True),
    ]:
        EligibilityAssessment.objects.create(
            referral=referral,
            criteria_set_id=1,
            answers={},
            eligible=eligible,
            assessed_on=on,
            assessed_by=lead,
        )
    for referral, on, status in [
        (r1, D(2025, 1, 21), "waitlisted"),
        (r1, D(2025, 3, 1), "admitted"),
        (r2, D(2025, 2, 6), "waitlisted"),
        (r4, D(2025, 1, 9), "admitted"),
    ]:
        ReferralEvent.objects.create(
            referral=referral, at=aware(on), by=lead, kind="x", to_status=status
        )
    for referral, admitted in [(r1, D(2025, 3, 1)), (r4, D(2025, 1, 9))]:
        Episode.objects.create(
            patient=referral.patient,
            clinic=oslo,
            referral=referral,
            admitted_on=admitted,
            phase="induction",
            created_by=lead,
        )

    got = ind.intake([oslo.pk], H1)

    assert got["referrals"] == 3
    assert got["referrals_by_source"]["gp"] == 2 and got["referrals_by_source"]["lar"] == 1
    assert got["assessed"] == 2  # r1, r2 (r2 twice: its latest decision counts)
    assert got["eligible"] == 2
    assert got["waitlisted_at_end"] == 1  # r2; r1 was admitted
    # Waits from found eligible to admission: r1 20 Jan → 1 Mar = 40; r4 30 Dec → 9 Jan
    # = 10; median 25.
    assert got["median_days_waiting"] == 25


def test_costs_per_patient_year_day_and_dose_and_grants_per_funder(world, clinics, staff):
    lead = Actor.system(staff["clinic_lead.oslo"])
    owner = Actor.system(staff["programme.oslo"])
    oslo = clinics["oslo"]
    services.cost_input_record(
        actor=lead,
        clinic=oslo,
        year=2025,
        category="staff",
        fte=Decimal(10),
        cost_per_fte=Decimal(100_000),
    )
    services.cost_input_record(
        actor=lead, clinic=oslo, year=2025, category="medication", amount_nok=Decimal(200_000)
    )
    # A change is a new row; the newest counts.
    services.cost_input_record(
        actor=lead, clinic=oslo, year=2025, category="medication", amount_nok=Decimal(300_000)
    )
    services.grant_record(
        actor=lead, funder="Helse Sør-Øst", year=2025, amount_nok=Decimal(1_000_000), clinic=oslo
    )
    services.grant_record(
        actor=lead, funder="Helse Sør-Øst", year=2025, amount_nok=Decimal(1_200_000), clinic=oslo
    )
    services.grant_record(
        actor=owner, funder="Helsedirektoratet", year=2025, amount_nok=Decimal(500_000)
    )

    got = ind.costs(
        [oslo.pk], H1, patient_years=420 / 365.25, attended_days=2, administrations=4,
        programme=False,
    )  # fmt: skip

    # 2025 costs 1,000,000 (10 FTE × 100,000) + 300,000 = 1,300,000; the half-year holds
    # 181 of 365 days: 1,300,000 × 181 / 365 = 644,657.53.
    total = 1_300_000 * 181 / 365
    assert got["total_nok"] == round(total, 2) == 644_657.53
    assert got["by_category_nok"] == {"medication": 148_767.12, "staff": 495_890.41}
    assert (
        got["per_patient_year_nok"] == round(total / (420 / 365.25)) == 560_622
    )  # 644,657.53 × 365.25 / 420
    assert got["per_attended_day_nok"] == round(total / 2)
    assert got["per_administration_nok"] == round(total / 4)
    assert got["grants"] == [
        {"funder": "Helse Sør-Øst", "years": [2025], "granted_nok": 1_200_000.0,
         "spend_nok": 1_300_000.0},
    ]  # fmt: skip
    programme = ind.costs(
        [oslo.pk], H1, patient_years=1, attended_days=1, administrations=1, programme=True
    )
    assert [g["funder"] for g in programme["grants"]] == ["Helse Sør-Øst", "Helsedirektoratet"]
    assert programme["grants"][1]["spend_nok"] is None


@pytest.fixture
def interviews(world, staff):
    """P1 and P3 interviewed at baseline and 6 months; P1's 6-month answer corrected."""
    from hab.research.models import Answer, FollowUp, Instrument, Item, Response

    e1, _e2, e3, *_rest = world["episodes"]
    instrument = Instrument.objects.get(code="hab_core", version=1)
    items = {item.code: item for item in Item.objects.filter(instrument=instrument)}
    coordinator = staff["coordinator.oslo"]

    def interview(episode, timepoint, due, answers, corrects=None):
        follow_up, _ = FollowUp.objects.get_or_create(
            episode=episode,
            timepoint=timepoint,
            defaults={
                "patient": episode.patient,
                "due_on": due,
                "window_from": due - datetime.timedelta(30),
                "window_to": due + datetime.timedelta(30),
            },
        )
        response = Response.objects.create(
            follow_up=follow_up,
            instrument=instrument,
            answered_on=due,
            recorded_at=aware(due),
            recorded_by=coordinator,
            corrects=corrects,
            correction_reason="typo" if corrects else "",
        )
        for code, value in answers.items():
            Answer.objects.create(response=response, item=items[code], value_int=value)
        return response

    interview(e1, "baseline", D(2025, 1, 1), {"crime_days": 20, "hospital_days": 6})
    wrong = interview(e1, "m6", D(2025, 7, 1), {"crime_days": 5, "hospital_days": 2})
    interview(e1, "m6", D(2025, 7, 1), {"crime_days": 4, "hospital_days": 2}, corrects=wrong)
    interview(e3, "baseline", D(2025, 1, 1), {"crime_days": 10})
    interview(e3, "m6", D(2025, 7, 2), {"crime_days": 10})


def test_outcome_change_from_baseline_uses_current_responses(world, interviews):
    e1 = world["episodes"][0]
    got = ind.outcomes([e1.clinic_id], ind.Period(D(2025, 1, 1), D(2025, 12, 31)))

    # Crime days: P1 20 → 4 (the corrected answer), P3 10 → 10: mean change (−16 + 0) / 2.
    assert got["m6"]["crime_days"] == {
        "n": 2, "baseline_mean": 15.0, "mean": 7.0, "mean_change": -8.0,
    }  # fmt: skip
    assert got["m6"]["hospital_days"]["mean_change"] == -4.0  # 6 → 2, one patient
    assert got["m12"]["crime_days"]["n"] == 0
    # Before the 6-month interviews, nothing to compare.
    assert ind.outcomes([e1.clinic_id], H1)["m6"]["crime_days"]["n"] == 0


def _research_consent(patient, given: bool, staff) -> None:
    from hab.patients.models import Consent, ConsentKind

    Consent.objects.create(
        patient=patient,
        kind=ConsentKind.RESEARCH,
        given=given,
        at=aware(D(2025, 1, 1)),
        recorded_by=staff["coordinator.oslo"],
    )


@pytest.mark.parametrize("p3_consent", [None, False])
def test_outcomes_can_be_limited_to_patients_with_research_consent(
    world, interviews, staff, clinics, p3_consent
):
    p1, _p2, p3, *_rest = world["patients"]
    _research_consent(p1, True, staff)
    if p3_consent is not None:  # P3 consented and then withdrew
        _research_consent(p3, True, staff)
        _research_consent(p3, p3_consent, staff)
    period = ind.Period(D(2025, 1, 1), D(2025, 12, 31))

    everyone = ind.compute([clinics["oslo"]], period, programme=False)
    consenting = ind.compute([clinics["oslo"]], period, programme=False, consented_only=True)

    assert everyone["outcomes_population"] == "all"
    assert everyone["outcomes"]["m6"]["crime_days"]["n"] == 2
    assert consenting["outcomes_population"] == "consented"
    # Only P1 (20 → 4) is left.
    assert consenting["outcomes"]["m6"]["crime_days"] == {
        "n": 1, "baseline_mean": 20.0, "mean": 4.0, "mean_change": -16.0,
    }  # fmt: skip
    assert consenting["outcomes_over_time_n"]["crime_days"]["m6"] == 1
    # The rest of the evaluation counts every patient either way.
    assert consenting["patients"] == everyone["patients"]
