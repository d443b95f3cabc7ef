"""A correction or paper dose that breaks a limit of the day (issue 16, finding 3).

The pure day check (``rules.day_breaches``) limit by limit, at, just under and just over
each one, and as a property; then the write paths: a correction that raises a dose and a
paper dose are recorded only once the breach is confirmed with a reason, which opens a
dosing-error incident linked to the record and blocks the group's next dose until a
doctor reviews."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from hab.core import clock
from hab.core.access import Actor
from hab.core.errors import Invalid
from hab.core.models import Clinic
from hab.dosing import messages, rules, services
from hab.dosing.models import Administration
from hab.dosing.rules import Dose, Group, Prescription, Protocol, Titration
from hab.incidents.models import Incident
from hab.intake.models import Episode
from tests.dosing.helpers import TODAY, dose_body, history, local

OSLO = ZoneInfo("Europe/Oslo")
DAY = date(2026, 11, 20)
G = Group

PROTOCOL = Protocol(
    version=1,
    max_single_mg={G.DAM: 400.0, G.HYDROMORPHONE: None, G.METHADONE: None, G.MORPHINE: None},
    max_daily_mg={G.DAM: 1000.0, G.HYDROMORPHONE: 500.0, G.METHADONE: 150.0, G.MORPHINE: 600.0},
    breath_alcohol_max_permille=0.2,
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


def rx(medication="dam_injectable", daily=450.0, **kw) -> Prescription:
    return Prescription(
        medication=medication, dose_mg=200.0, daily_max_mg=daily, issued_on=date(2026, 1, 1), **kw
    )


def dose(day, hour, mg, slot="morning", minute=0, medication="dam_injectable", **kw) -> Dose:
    return Dose(
        at=at(day, hour, minute),
        day=day,
        slot=slot,
        medication=medication,
        mg=mg,
        status=kw.pop("status", "given"),
        **kw,
    )


def maintenance(days: int = 5, mg: float = 200.0, medication="dam_injectable") -> list[Dose]:
    """Two doses a day on the days before DAY: titration is long over."""
    found = []
    for back in range(days, 0, -1):
        day = DAY - timedelta(days=back)
        found += [
            dose(day, 9, mg, "morning", medication=medication),
            dose(day, 15, mg, "afternoon", medication=medication),
        ]
    return found


LONG_AGO = DAY - timedelta(days=6)  # the day before ``maintenance()`` began


def check(doses, *, prescription=None, group=G.DAM, protocol=PROTOCOL, before=LONG_AGO, **kw):
    """The day check; ``before`` is the last day dosed before the doses given."""
    prescription = prescription or rx()
    return rules.day_breaches(
        protocol=protocol,
        prescriptions={prescription.medication: prescription},
        doses=list(doses),
        group=group,
        day=DAY,
        slots_per_day=kw.pop("slots_per_day", 2),
        taken_before_window=before,
        **kw,
    )


def codes(breaches) -> list[str]:
    return [b.code for b in breaches]


def test_a_day_within_every_limit_has_no_breach():
    assert check(maintenance() + [dose(DAY, 9, 200), dose(DAY, 15, 200, "afternoon")]) == []


def test_the_issues_example_afternoon_corrected_to_900_mg():
    day = maintenance() + [dose(DAY, 9, 200), dose(DAY, 15, 900, "afternoon")]

    breaches = check(day, prescribed={("dam_injectable", "afternoon"): 200})

    assert codes(breaches) == ["breach_daily_max", "breach_single_max", "breach_prescribed"]
    assert breaches[0].params == {"total": 1100, "daily_max": 450}


@pytest.mark.parametrize(
    ("minutes", "breach"), [(179, True), (180, False), (181, False)], ids=["under", "at", "over"]
)
def test_the_interval_at_just_under_and_just_over(minutes, breach):
    later = at(DAY, 9) + timedelta(minutes=minutes)
    second = Dose(later, DAY, "afternoon", "dam_injectable", 100.0, "given")

    breaches = check(maintenance() + [dose(DAY, 9, 100), second])

    assert codes(breaches) == (["breach_interval"] if breach else [])


def test_a_paper_dose_is_checked_against_a_later_electronic_one_too():
    # The electronic afternoon dose at 15:00 was in HAB; the paper says 13:00.
    electronic = dose(DAY, 15, 200, "afternoon")
    paper = dose(DAY, 13, 200, "morning")

    [breach] = check(maintenance() + [electronic, paper])

    assert breach.code == "breach_interval"
    assert (breach.params["earlier"], breach.params["later"]) == (paper.at, electronic.at)
    assert breach.params["elapsed_minutes"] == 120


def test_the_interval_across_midnight_counts():
    late = dose(DAY - timedelta(days=1), 23, 100, "afternoon")
    early = dose(DAY, 1, 100, "morning")

    assert codes(check(maintenance(days=3)[:-1] + [late, early])) == ["breach_interval"]


def test_the_interval_across_a_daylight_saving_change_is_measured_in_real_time():
    # 29 March 2026: Oslo's clocks go from 02:00 to 03:00. 01:30 to 04:15 on the wall is
    # 1 h 45 min.
    day = date(2026, 3, 29)
    first = Dose(
        datetime(2026, 3, 29, 1, 30, tzinfo=OSLO), day, "morning", "dam_injectable", 100, "given"
    )
    second = Dose(
        datetime(2026, 3, 29, 4, 15, tzinfo=OSLO), day, "afternoon", "dam_injectable", 100, "given"
    )

    breaches = rules.day_breaches(
        protocol=PROTOCOL,
        prescriptions={"dam_injectable": rx()},
        doses=[first, second],
        group=G.DAM,
        day=day,
        slots_per_day=2,
        taken_before_window=day - timedelta(days=1),
    )

    assert codes(breaches) == ["breach_interval"]
    assert breaches[0].params["elapsed_minutes"] == 105


def test_on_the_first_day_of_a_run_the_induction_interval_applies():
    first, second = dose(DAY, 9, 15), dose(DAY, 9, 30, minute=30)
    too_soon = dose(DAY, 9, 30, minute=29)

    assert "breach_interval" not in codes(check([first, second], before=None))
    assert "breach_interval" in codes(check([first, too_soon], before=None))


@pytest.mark.parametrize(
    ("total", "breach"), [(449.9, False), (450, False), (450.1, True)], ids=["under", "at", "over"]
)
def test_the_daily_maximum_at_just_under_and_just_over(total, breach):
    day = maintenance() + [dose(DAY, 9, 200), dose(DAY, 15, total - 200, "afternoon")]

    assert codes(check(day)) == (["breach_daily_max"] if breach else [])


def test_the_daily_maximum_is_the_lower_of_the_prescriptions_and_the_protocols():
    day = maintenance(medication="methadone_oral", mg=60) + [
        dose(DAY, 9, 80, medication="methadone_oral"),
        dose(DAY, 15, 80, "afternoon", medication="methadone_oral"),
    ]

    # The prescription allows 500 mg; the protocol's methadone maximum is 150 mg.
    breaches = check(day, prescription=rx("methadone_oral", daily=500), group=G.METHADONE)

    assert [(b.code, b.params.get("daily_max")) for b in breaches] == [("breach_daily_max", 150)]


def test_a_combined_regimen_shares_the_daily_maximum():
    day = maintenance() + [
        dose(DAY, 9, 300),
        dose(DAY, 15, 200, "afternoon", medication="dam_tablet_sr"),
    ]
    breaches = rules.day_breaches(
        protocol=PROTOCOL,
        prescriptions={"dam_injectable": rx(daily=450), "dam_tablet_sr": rx("dam_tablet_sr", 600)},
        doses=day,
        group=G.DAM,
        day=DAY,
        slots_per_day=2,
        taken_before_window=DAY - timedelta(days=6),
    )

    assert codes(breaches) == ["breach_daily_max"]


@pytest.mark.parametrize(
    ("mg", "breach"), [(399.9, False), (400, False), (400.1, True)], ids=["under", "at", "over"]
)
def test_the_single_maximum_at_just_under_and_just_over(mg, breach):
    day = maintenance() + [dose(DAY, 9, mg)]

    assert codes(check(day, prescription=rx(daily=1000))) == (
        ["breach_single_max"] if breach else []
    )


@pytest.mark.parametrize(
    ("mg", "breach"), [(199.9, False), (200, False), (200.1, True)], ids=["under", "at", "over"]
)
def test_the_dose_prescribed_for_the_session(mg, breach):
    day = maintenance() + [dose(DAY, 9, mg)]

    breaches = check(day, prescribed={("dam_injectable", "morning"): 200})

    assert codes(breaches) == (["breach_prescribed"] if breach else [])


def test_other_groups_do_not_count():
    day = maintenance() + [dose(DAY, 9, 200), dose(DAY, 10, 140, medication="methadone_oral")]

    assert check(day) == []


def test_doses_not_taken_do_not_count():
    day = maintenance() + [dose(DAY, 9, 200), dose(DAY, 10, 0, "afternoon", status="refused")]

    assert check(day) == []


def titration(doses, **kw):
    return [
        (b.params.get("rule"), b.params.get("max"))
        for b in check(doses, before=None, **kw)
        if b.code == "breach_titration"
    ]


@pytest.mark.parametrize(("mg", "breach"), [(14.9, False), (15, False), (15.1, True)])
def test_day_one_first_injection(mg, breach):
    assert titration([dose(DAY, 9, mg)]) == ([("first_day_iv", 15)] if breach else [])


@pytest.mark.parametrize(("mg", "breach"), [(29.9, False), (30, False), (30.1, True)])
def test_day_one_later_injections(mg, breach):
    doses = [dose(DAY, 9, 15), dose(DAY, 10, mg, "afternoon")]

    assert titration(doses) == ([("first_day_iv", 30)] if breach else [])


def test_day_one_top_up_follows_at_once_up_to_the_first_dose():
    first = dose(DAY, 9, 15)
    top_up = Dose(at(DAY, 9, 2), DAY, "morning", "dam_injectable", 15.0, "given", top_up=True)
    too_much = Dose(at(DAY, 9, 2), DAY, "morning", "dam_injectable", 15.1, "given", top_up=True)

    assert check([first, top_up], before=None) == []
    assert titration([first, too_much]) == [("top_up", 15)]


def test_a_top_up_after_day_one_is_an_ordinary_dose():
    yesterday = DAY - timedelta(days=1)
    doses = [dose(yesterday, 9, 15), dose(yesterday, 15, 30, "afternoon"), dose(DAY, 9, 30)]
    top_up = Dose(at(DAY, 9, 2), DAY, "morning", "dam_injectable", 15.0, "given", top_up=True)

    assert "breach_interval" in codes(check([*doses, top_up], before=None))


@pytest.mark.parametrize(("mg", "breach"), [(44.9, False), (45, False), (45.1, True)])
def test_later_titration_days_step_at_most_half_over_the_previous_dose(mg, breach):
    yesterday = DAY - timedelta(days=1)
    doses = [dose(yesterday, 9, 15), dose(yesterday, 15, 30, "afternoon"), dose(DAY, 9, mg)]

    assert titration(doses) == ([("step_from_previous", 45)] if breach else [])


@pytest.mark.parametrize(("mg", "breach"), [(22.4, False), (22.5, False), (22.6, True)])
def test_three_sessions_a_day_at_most_half_of_yesterdays_total(mg, breach):
    yesterday = DAY - timedelta(days=1)
    doses = [dose(yesterday, 9, 15), dose(yesterday, 15, 30, "afternoon"), dose(DAY, 9, mg)]

    found = titration(doses, prescription=rx(sessions_per_day=3))

    assert found == ([("prev_day_share", 22.5)] if breach else [])


def test_after_titration_the_induction_limits_end():
    days = [DAY - timedelta(days=n) for n in (3, 2, 1)]
    doses = [dose(d, 9, 15 * (i + 1)) for i, d in enumerate(days)] + [dose(DAY, 9, 200)]

    assert titration(doses) == []


@pytest.mark.parametrize(("mg", "breach"), [(99.9, False), (100, False), (100.1, True)])
def test_oral_dam_first_dose(mg, breach):
    found = titration(
        [dose(DAY, 9, mg, medication="dam_tablet_ir")], prescription=rx("dam_tablet_ir")
    )

    assert found == ([("first_oral", 100)] if breach else [])


@pytest.mark.parametrize(("second", "breach"), [(199.9, False), (200, False), (200.1, True)])
def test_oral_dam_day_one_total_rises_at_most_the_daily_step(second, breach):
    # 100 mg at 09:00, then 200 mg: the day's total may be at most 300 mg.
    doses = [
        dose(DAY, 9, 100, medication="dam_tablet_ir"),
        dose(DAY, 15, second, "afternoon", medication="dam_tablet_ir"),
    ]

    found = titration(doses, prescription=rx("dam_tablet_ir"))

    assert found == ([("oral_daily_step", 300)] if breach else [])


def test_oral_dam_later_days_rise_at_most_the_step_over_yesterday():
    yesterday = DAY - timedelta(days=1)
    doses = [
        dose(yesterday, 9, 100, medication="dam_tablet_ir"),
        dose(yesterday, 15, 100, "afternoon", medication="dam_tablet_ir"),
        dose(DAY, 9, 250, medication="dam_tablet_ir"),
        dose(DAY, 15, 250.1, "afternoon", medication="dam_tablet_ir"),
    ]

    found = titration(doses, prescription=rx("dam_tablet_ir", daily=1000))

    assert found == [("oral_daily_step", 500)]


@pytest.mark.parametrize(("mg", "breach"), [(59.9, False), (60, False), (60.1, True)])
def test_the_titration_plans_step(mg, breach):
    plan = Titration(start_mg=20, step_mg=20, target_mg=200)
    doses = maintenance(days=1, mg=40) + [dose(DAY, 9, mg)]

    found = [
        (b.params["rule"], b.params["max"])
        for b in check(doses, prescription=rx(titration=plan), before=DAY - timedelta(days=1))
        if b.code == "breach_titration" and b.params["rule"] == "titration_step"
    ]

    assert found == ([("titration_step", 60)] if breach else [])


def test_every_breach_is_worded_in_both_languages():
    day = [
        dose(DAY, 9, 15),
        dose(DAY, 9, 450, "afternoon", minute=10),
        dose(DAY, 10, 150, medication="dam_tablet_ir"),
    ]
    breaches = check(day, before=None, prescribed={("dam_injectable", "afternoon"): 200})
    breaches.append(rules.Reason("breach_allowed", rules.Severity.BLOCK, {"mg": 300, "max": 150}))

    assert {b.code for b in breaches} >= {
        "breach_interval",
        "breach_daily_max",
        "breach_single_max",
        "breach_prescribed",
        "breach_titration",
        "breach_allowed",
    }
    for language in ("nb", "en"):
        with translation.override(language):
            worded = messages.texts(breaches)
        assert all(text and not text.startswith("breach_") for text in worded)
    with translation.override("nb"):
        assert "døgnmaksimum" in messages.text(
            next(b for b in breaches if b.code == "breach_daily_max")
        )


# A property: for random days of maintenance doses, the check finds nothing exactly when
# every two doses are far enough apart, the day's total is within its maximum and each
# dose within the single maximum.

times = st.lists(
    st.tuples(st.integers(min_value=0, max_value=23 * 60 + 59), st.integers(1, 4500)),
    min_size=1,
    max_size=6,
    unique_by=lambda t: t[0],
)


@settings(max_examples=300, deadline=None)
@given(times)
def test_a_day_is_without_breach_exactly_when_it_keeps_every_limit(found):
    day = [
        Dose(
            at(DAY, 0) + timedelta(minutes=minute),
            DAY,
            f"s{i}",
            "dam_injectable",
            tenths / 10,
            "given",
        )
        for i, (minute, tenths) in enumerate(found)
    ]
    moments = sorted(minute for minute, _ in found)
    spaced = all(
        moments[i] - moments[i - 1] >= PROTOCOL.min_interval_minutes for i in range(1, len(moments))
    )
    total = sum(tenths for _, tenths in found) / 10
    single = all(tenths / 10 <= 400 for _, tenths in found)

    breaches = check(day, before=DAY - timedelta(days=1))

    assert (breaches == []) == (spaced and total <= 450 and single)
    assert ("breach_daily_max" in codes(breaches)) == (total > 450)


# The write paths ------------------------------------------------------------------------


def _record(patient_id: int, day, slot: str, hour: int, mg: float):
    """A dose recorded earlier, as the clinic would have."""

    episode = Episode.objects.get(patient_id=patient_id, ended_on__isnull=True)
    return Administration.objects.create(
        patient_id=patient_id,
        episode=episode,
        clinic=episode.clinic,
        day=day,
        slot=slot,
        medication="dam_injectable",
        group="dam",
        route="iv",
        status="given",
        dose_mg=mg,
        prescribed_mg=200,
        given_at=local(day, hour),
        nurse=episode.created_by,
    )


@pytest.fixture
def afternoon_dose(api_as, on_prescription, afternoon):
    """A patient in maintenance (200 mg twice a day, at most 450 mg a day) dosed 200 mg at
    09:00 and 200 mg at 15:00 today; the afternoon record as the API gave it."""

    made = on_prescription()
    _record(made["patient"], TODAY, "morning", 9, 200)
    response = api_as("nurse.oslo").post("/administrations", dose_body(made["patient"]))
    assert response.status_code == 201, response.content
    return response.json()


def _correct(api, record_id: int, **body):
    return api.post(
        f"/administrations/{record_id}/corrections",
        {"reason": "Journalført feil: 900 mg ble gitt", "dose_mg": 900, "status": "given"} | body,
    )


@pytest.mark.django_db
def test_raising_a_dose_over_the_days_limits_is_refused_listing_every_breach(
    api_as, afternoon_dose
):

    before = Administration.objects.count()

    response = _correct(api_as("nurse.oslo"), afternoon_dose["id"])

    assert response.status_code == 422
    detail = response.json()["detail"]
    on_dose = [d["message"] for d in detail if d["field"] == "dose_mg"]
    assert len(on_dose) == 3  # the day's total, the single maximum, the prescribed dose
    assert any("1,100 mg" in m and "450 mg" in m for m in on_dose)
    assert any("900 mg" in m and "400 mg" in m for m in on_dose)
    assert any("900 mg" in m and "200 mg" in m for m in on_dose)
    assert [d["field"] for d in detail].count("confirm_breach") == 1
    assert Administration.objects.count() == before
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_confirmed_breach_is_recorded_with_an_incident_linked_to_it(api_as, afternoon_dose):

    response = _correct(api_as("nurse.oslo"), afternoon_dose["id"], confirm_breach=True)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["dose_mg"] == 900 and body["corrects"] == afternoon_dose["id"]
    assert len(body["breaches"]) == 3
    assert body["breach_reason"] == "Journalført feil: 900 mg ble gitt"  # the correction's
    assert len(body["warnings"]) == 4  # the notice, then each breach
    record = Administration.objects.get(pk=body["id"])
    assert record.breach_confirmed_at == local(TODAY, 15)
    incident = Incident.objects.get()
    assert (incident.kind, incident.source, incident.administration_id, incident.patient_id) == (
        "dosing_error",
        "correction",
        record.pk,
        record.patient_id,
    )
    assert "Journalført feil" in incident.description and "900" in incident.description
    assert incident.events.get().status == "open"


@pytest.mark.django_db
def test_the_breach_has_its_own_reason_when_given(api_as, afternoon_dose):
    response = _correct(
        api_as("nurse.oslo"),
        afternoon_dose["id"],
        confirm_breach=True,
        breach_reason="Pasienten fikk dobbel dose ved en feil",
    )

    assert response.json()["breach_reason"] == "Pasienten fikk dobbel dose ved en feil"


@pytest.mark.django_db
@pytest.mark.parametrize(("mg", "breach"), [(249.9, False), (250, False), (250.1, True)])
def test_a_raise_is_checked_at_the_daily_maximum(api_as, on_prescription, afternoon, mg, breach):

    made = on_prescription(doses={"morning": 200, "afternoon": 250})
    _record(made["patient"], TODAY, "morning", 9, 200)
    given = (
        api_as("nurse.oslo")
        .post("/administrations", dose_body(made["patient"], dose_mg=150))
        .json()
    )

    response = _correct(api_as("nurse.oslo"), given["id"], dose_mg=mg)

    assert response.status_code == (422 if breach else 201), response.content


@pytest.mark.django_db
def test_lowering_a_dose_needs_no_confirmation(api_as, afternoon_dose):

    api = api_as("nurse.oslo")
    raised = _correct(api, afternoon_dose["id"], confirm_breach=True).json()

    # Still over the daily maximum (200 + 300 mg), but lower than what stands.
    lowered = _correct(api, raised["id"], dose_mg=300, reason="Riktig dose var 300 mg")

    assert lowered.status_code == 201, lowered.content
    assert lowered.json()["breaches"] == []
    assert Incident.objects.count() == 1


def _tomorrows_row(api, patient: int) -> dict:
    tomorrow = TODAY + timedelta(days=1)
    board = api.get("/clinics/oslo/board", {"slot": "morning", "date": str(tomorrow)})
    return next(r for r in board.json()["rows"] if r["patient"] == patient)


@pytest.mark.django_db
def test_after_a_breach_the_next_dose_of_the_group_is_blocked(api_as, afternoon_dose):
    _correct(api_as("nurse.oslo"), afternoon_dose["id"], confirm_breach=True)

    with clock.at(local(TODAY + timedelta(days=1), 8)):
        row = _tomorrows_row(api_as("nurse.oslo"), afternoon_dose["patient"])

    assert row["blocked"] and row["max_allowed_mg"] == 0 and row["reasons"]


@pytest.mark.django_db
def test_a_doctors_review_after_the_breach_lifts_the_block(api_as, afternoon_dose):
    _correct(api_as("nurse.oslo"), afternoon_dose["id"], confirm_breach=True)
    patient = afternoon_dose["patient"]
    episode = Episode.objects.get(patient_id=patient, ended_on__isnull=True)
    tomorrow = TODAY + timedelta(days=1)

    # A new prescription after the breach is the doctor's review.
    with clock.at(local(tomorrow, 8, 30)):
        reviewed = api_as("doctor.oslo").post(
            "/prescriptions",
            {
                "episode": episode.pk,
                "medication": "dam_injectable",
                "route": "iv",
                "doses_mg": {"morning": 200, "afternoon": 200},
                "daily_max_mg": 450,
            },
        )
    with clock.at(local(tomorrow, 9)):
        row = _tomorrows_row(api_as("nurse.oslo"), patient)

    assert reviewed.status_code == 201, reviewed.content
    assert not row["blocked"] and row["max_allowed_mg"] == 200


# Paper doses ----------------------------------------------------------------------------


@pytest.fixture
def paper(on_prescription, staff):
    """A patient prescribed five days ago with ten days of doses, yesterday's morning dose
    on paper only; ``enter`` types in a line of the paper list."""

    with clock.at(local(TODAY - timedelta(days=5), 10)):
        patient = on_prescription(days=0)["patient"]
    yesterday = TODAY - timedelta(days=1)
    history(patient, 10, skip=frozenset({(yesterday, "morning")}))

    def enter(**extra):
        values = {
            "actor": Actor.system(staff["nurse.oslo"]),
            "clinic": Clinic.objects.get(code="oslo"),
            "patient_id": patient,
            "day": yesterday,
            "slot": "morning",
            "medication": "dam_injectable",
            "dose_mg": 200,
            "status": "given",
            "given_at": local(yesterday, 9, 10),
            "given_by": "nurse.oslo",
            "assessment": {"sedation": 1, "breath_alcohol_permille": 0},
        } | extra
        return services.administration_back_enter(**values)

    enter.patient = patient
    return enter


@pytest.mark.django_db
def test_a_paper_dose_typed_in_after_a_later_electronic_one_is_checked_against_it(paper):

    yesterday = TODAY - timedelta(days=1)
    # The paper says 13:00; the afternoon dose at 15:00 was recorded in HAB.
    late = {"given_at": local(yesterday, 13)}
    before = Administration.objects.count()

    with pytest.raises(Invalid) as unconfirmed:
        paper(**late)
    with pytest.raises(Invalid) as no_reason:
        paper(**late, confirm_breach=True)
    recorded = paper(**late, confirm_breach=True, breach_reason="Nødrutine, feil tid")

    assert [e.field for e in unconfirmed.value.errors] == ["dose_mg", "confirm_breach"]
    assert "13:00" in unconfirmed.value.errors[0].message
    assert "15:00" in unconfirmed.value.errors[0].message
    assert [e.field for e in no_reason.value.errors] == ["dose_mg", "breach_reason"]
    record = recorded.administration
    assert Administration.objects.count() == before + 1
    assert (record.breach_reason, len(record.breaches)) == ("Nødrutine, feil tid", 1)
    incident = Incident.objects.get()
    assert (incident.source, incident.administration_id) == ("back_entry", record.pk)


@pytest.mark.django_db
def test_a_paper_dose_within_the_limits_needs_no_confirmation(paper):

    recorded = paper()

    assert recorded.administration.breaches == [] and recorded.warnings == []
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_paper_dose_the_assessment_forbade_is_a_breach(paper):

    with pytest.raises(Invalid) as refused:
        paper(assessment={"sedation": 4, "breath_alcohol_permille": 0})

    assert [e.field for e in refused.value.errors] == ["dose_mg", "confirm_breach"]


# The pages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_correction_page_asks_for_the_confirmation_once_the_breaches_are_listed(
    web_as, afternoon_dose
):
    client = web_as("nurse.oslo")
    url = f"/dosing/records/{afternoon_dose['id']}/correct/"
    change = {"status": "given", "dose_mg": "900", "reason": "Journalført feil"}
    before = Administration.objects.count()

    first = client.get(url).content.decode()
    listed = client.post(url, change, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    unticked = client.post(url, change | {"breach_reason": ""}).content.decode()
    confirmed = client.post(
        url, change | {"confirm_breach": "on", "breach_reason": "Dobbel dose ved en feil"}
    )

    assert 'name="confirm_breach"' not in first
    assert 'name="confirm_breach"' in listed and 'name="breach_reason"' in listed
    assert "1,100 mg" in listed and "450 mg" in listed
    assert 'name="confirm_breach"' in unticked
    assert Administration.objects.count() == before + 1  # only the confirmed one
    assert confirmed.status_code == 302
    record = Administration.objects.get(corrects_id=afternoon_dose["id"])
    assert (float(record.dose_mg), record.breach_reason) == (900, "Dobbel dose ved en feil")
    assert Incident.objects.get().administration == record


@pytest.mark.django_db
def test_the_back_entry_page_asks_for_the_confirmation_and_its_reason(web_as, paper):
    yesterday = TODAY - timedelta(days=1)
    p = f"p{paper.patient}"
    url = f"/dosing/back-entry/?date={yesterday:%Y-%m-%d}&slot=morning"
    line = {
        "patient": paper.patient,
        "medication": "dam_injectable",
        "date": f"{yesterday:%Y-%m-%d}",
        "slot": "morning",
        f"{p}-status": "given",
        f"{p}-dose_mg": "200",
        f"{p}-time": "13:00",  # two hours before the afternoon dose in HAB
        f"{p}-given_by": "nurse.oslo",
        f"{p}-sedation": "1",
        f"{p}-breath_alcohol_permille": "0",
    }
    client = web_as("nurse.oslo")

    listed = client.post(url, line, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    no_reason = client.post(
        url, line | {f"{p}-confirm_breach": "on", f"{p}-breach_reason": ""}
    ).content.decode()
    confirmed = client.post(
        url, line | {f"{p}-confirm_breach": "on", f"{p}-breach_reason": "Nødrutine"}
    )

    assert f'name="{p}-confirm_breach"' in listed and "minimum interval" in listed
    assert f'name="{p}-breach_reason"' in no_reason
    assert confirmed.status_code == 302
    record = Administration.objects.get(patient_id=paper.patient, day=yesterday, slot="morning")
    assert record.back_entered_by is not None and record.breach_reason == "Nødrutine"
    assert Incident.objects.get().source == "back_entry"
