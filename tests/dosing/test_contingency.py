"""The contingency routine: the paper list lists the right patients with the largest dose
each may have, and its lines are typed in afterwards, marked as back-entered."""

from __future__ import annotations

import io
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from django.core.management import call_command

from hab.core import clock
from hab.core.access import Actor
from hab.core.errors import Conflict, Invalid
from hab.core.models import AccessLog, Clinic
from hab.dosing import contingency, services
from hab.dosing.models import Administration
from hab.incidents.models import Incident
from tests.dosing.helpers import TODAY, history, local

pytestmark = pytest.mark.django_db


def text_of(data: bytes) -> str:
    pdf = pdfium.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in pdf)


@pytest.fixture
def earlier(on_prescription):
    """A patient prescribed five days ago, so yesterday's paper doses had a prescription."""

    def make(**extra):
        with clock.at(local(TODAY - timedelta(days=5), 10)):
            return on_prescription(**extra)

    return make


def back_enter(staff, patient, **extra):
    values = {
        "actor": Actor.system(staff["nurse.oslo"]),
        "clinic": Clinic.objects.get(code="oslo"),
        "patient_id": patient,
        "day": TODAY - timedelta(days=1),
        "slot": "afternoon",
        "medication": "dam_injectable",
        "dose_mg": 200,
        "status": "given",
        "given_at": local(TODAY - timedelta(days=1), 15, 20),
        "given_by": "doctor.oslo",
        "assessment": {"sedation": 1, "breath_alcohol_permille": 0},
    } | extra
    return services.administration_back_enter(**values)


def test_the_list_shows_each_expected_patient_with_the_allowed_maximum(
    on_prescription, staff, make_patient
):
    dosed = on_prescription(doses={"morning": 220, "afternoon": 240}, daily=500)
    away = on_prescription(days=0)  # never dosed: the first dose is the protocol's
    outside = make_patient(given_name="Ikke", family_name="Ibehandling")
    oslo = Clinic.objects.get(code="oslo")

    with clock.at(local(TODAY, 6)):
        data = contingency.pdf(Actor.system(staff["nurse.oslo"]), oslo, TODAY, ["morning"])
    text = text_of(data)

    assert data.startswith(b"%PDF")
    from hab.patients.models import Patient

    for pk in (dosed["patient"], away["patient"]):
        assert Patient.objects.get(pk=pk).family_name in text
    assert outside.family_name not in text
    assert "220" in text  # the morning dose of the patient in maintenance
    assert "15" in text  # the first IV dose of the protocol for the one never dosed
    assert AccessLog.objects.filter(
        patient_id=dosed["patient"], action="list", username="nurse.oslo"
    ).exists()


def test_the_command_writes_the_pdf(on_prescription, tmp_path):
    on_prescription()
    out = tmp_path / "list.pdf"

    call_command(
        "contingency-list",
        "--clinic",
        "oslo",
        "--as",
        "nurse.oslo",
        "--out",
        str(out),
        stdout=io.StringIO(),
    )

    assert out.read_bytes().startswith(b"%PDF")


def test_the_command_refuses_someone_who_may_not(on_prescription, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command(
            "contingency-list",
            "--clinic",
            "oslo",
            "--as",
            "researcher.oslo",
            "--out",
            str(tmp_path / "x.pdf"),
        )


def test_a_paper_record_is_back_entered_as_it_happened(earlier, staff):
    patient = earlier(days=0)["patient"]
    # Ten days of doses, but yesterday afternoon's is on paper only.
    history(patient, 10, skip=frozenset({(TODAY - timedelta(days=1), "afternoon")}))

    recorded = back_enter(staff, patient)

    record = recorded.administration
    assert record.back_entered_by.username == "nurse.oslo"
    assert record.back_entered_at is not None
    assert record.nurse.username == "doctor.oslo"
    assert record.given_at == local(TODAY - timedelta(days=1), 15, 20)
    assert not Incident.objects.exists()
    with pytest.raises(Conflict):
        back_enter(staff, patient)


def test_a_paper_dose_above_the_maximum_is_kept_once_confirmed_and_opens_an_incident(
    earlier, staff
):
    patient = earlier(days=0)["patient"]
    history(patient, 10, skip=frozenset({(TODAY - timedelta(days=1), "afternoon")}))

    with pytest.raises(Invalid) as unconfirmed:
        back_enter(staff, patient, dose_mg=390)
    assert not Incident.objects.exists()
    recorded = back_enter(
        staff, patient, dose_mg=390, confirm_breach=True, breach_reason="Står slik på listen"
    )

    # 200 mg in the morning and 390 mg: over the 450 mg a day and the 200 mg prescribed.
    assert [e.field for e in unconfirmed.value.errors] == ["dose_mg", "dose_mg", "confirm_breach"]
    assert recorded.administration.dose_mg == 390  # never adjusted
    assert "incident" in recorded.warnings[0]
    incident = Incident.objects.get()
    assert (incident.kind, incident.source, incident.administration_id) == (
        "dosing_error",
        "back_entry",
        recorded.administration.pk,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"day": TODAY - timedelta(days=8)}, "date"),
        ({"given_by": "psychologist.oslo"}, "given_by"),
        ({"given_at": local(TODAY - timedelta(days=2), 15)}, "given_at"),
        ({"status": "given", "dose_mg": 0}, "dose_mg"),
    ],
)
def test_bad_back_entries_are_refused(earlier, staff, change, field):
    patient = earlier()["patient"]
    before = Administration.objects.count()

    with pytest.raises(Invalid) as refused:
        back_enter(staff, patient, **change)

    assert field in [e.field for e in refused.value.errors]
    assert Administration.objects.count() == before


def test_the_back_entry_page_records_a_line(earlier, web_as, staff):
    patient = earlier(days=0)["patient"]
    day = TODAY - timedelta(days=1)
    history(patient, 10, skip=frozenset({(day, "morning")}))
    client = web_as("nurse.oslo")
    url = f"/dosing/back-entry/?date={day:%Y-%m-%d}&slot=morning"

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    posted = client.post(
        url,
        {
            "patient": patient,
            "medication": "dam_injectable",
            "date": f"{day:%Y-%m-%d}",
            "slot": "morning",
            f"p{patient}-status": "given",
            f"p{patient}-dose_mg": "200",
            f"p{patient}-time": "09:10",
            f"p{patient}-given_by": "nurse.oslo",
            f"p{patient}-sedation": "1",
            f"p{patient}-breath_alcohol_permille": "0",
        },
    )

    assert page.status_code == 200
    assert f'id="entry-{patient}"' in page.content.decode()
    assert posted.status_code == 302
    record = Administration.objects.get(patient_id=patient, day=day, slot="morning")
    assert record.back_entered_by == staff["nurse.oslo"]


def test_who_may_print_the_list(on_prescription, web_as):
    made = on_prescription()
    from hab.patients.models import Patient

    name = Patient.objects.get(pk=made["patient"]).family_name

    psychologist = web_as("psychologist.oslo").get("/dosing/contingency/?pdf=1")
    bergen = web_as("nurse.bergen").get("/dosing/contingency/?pdf=1")

    assert psychologist.status_code == 403
    assert bergen.status_code == 200  # Bergen's own list, without Oslo's patients
    assert name not in text_of(bergen.content)
