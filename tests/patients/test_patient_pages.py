"""The registry's pages: forms show problems beside the field and change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hab.core.models import AccessLog, Membership
from hab.patients.models import Consent, Patient, Relative
from tests.conftest import synthetic_id
from tests.patients.helpers import PNG

pytestmark = pytest.mark.django_db


def form(**extra) -> dict:
    return {
        "national_id": synthetic_id(date(1984, 2, 29)),
        "given_name": "Per",
        "family_name": "Hansen",
    } | extra


def test_registering_shows_the_new_record(web_as):
    client = web_as("coordinator.oslo")

    response = client.post("/patients/new/", form(phone="+47 912 34 567"), follow=True)

    patient = Patient.objects.get()
    assert response.redirect_chain[-1][0] == f"/patients/{patient.pk}/"
    assert patient.birth_date == date(1984, 2, 29)
    assert "Per Hansen" in response.content.decode()


def test_a_bad_national_id_is_shown_beside_the_field_and_nothing_is_saved(web_as):
    bad = form()
    bad["national_id"] = bad["national_id"][:10] + str((int(bad["national_id"][10]) + 1) % 10)

    response = web_as("coordinator.oslo").post("/patients/new/", bad)

    assert response.status_code == 200
    errors = response.context["form"].errors
    # Norwegian bokmål is the default language of the pages.
    assert errors["national_id"] == [
        "Fødselsnummeret er ugyldig: det andre kontrollsifferet er feil."
    ]
    assert 'class="field-error"' in response.content.decode()
    assert Patient.objects.count() == 0
    assert AccessLog.objects.count() == 0


def test_a_duplicate_is_shown_beside_the_national_id(web_as, make_patient):
    existing = make_patient()

    response = web_as("coordinator.oslo").post(
        "/patients/new/", form(national_id=existing.national_id)
    )

    assert "allerede registrert" in response.context["form"].errors["national_id"][0]
    assert Patient.objects.count() == 1


def test_a_photo_is_shown_only_through_the_access_check(web_as, make_patient):
    client = web_as("coordinator.oslo")
    client.post(
        "/patients/new/",
        form(photo=SimpleUploadedFile("face.png", PNG, content_type="image/png")),
    )
    patient = Patient.objects.get()

    own = client.get(f"/patients/{patient.pk}/photo/")
    other = web_as("nurse.bergen").get(f"/patients/{patient.pk}/photo/")

    assert own.status_code == 200
    assert b"".join(own.streaming_content) == PNG
    assert own["Cache-Control"] == "private, no-store"
    assert other.status_code == 404


def test_editing_changes_contact_details(web_as, make_patient):
    patient = make_patient(given_name="Kari", family_name="Lie")

    response = web_as("nurse.oslo").post(
        f"/patients/{patient.pk}/edit/",
        {"given_name": "Kari", "family_name": "Lie", "phone": "+47 913 00 000", "address": ""},
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "+47 913 00 000"


def test_editing_with_a_bad_phone_shows_the_error(web_as, make_patient):
    patient = make_patient()

    response = web_as("nurse.oslo").post(
        f"/patients/{patient.pk}/edit/",
        {"given_name": "Kari", "family_name": "Lie", "phone": "ring meg"},
    )

    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    patient.refresh_from_db()
    assert patient.phone == ""


def test_consent_given_then_withdrawn_shows_the_latest(web_as, make_patient):
    patient = make_patient()
    client = web_as("nurse.oslo")

    client.post(f"/patients/{patient.pk}/consents/", {"kind": "research", "given": "1"})
    client.post(f"/patients/{patient.pk}/consents/", {"kind": "research", "given": "0"})
    page = client.get(f"/patients/{patient.pk}/")

    assert page.context["consents"]["research"].given is False
    assert Consent.objects.filter(patient=patient).count() == 2


def test_relatives_are_added_changed_and_removed_but_kept(web_as, make_patient):
    patient = make_patient()
    client = web_as("coordinator.oslo")

    client.post(
        f"/patients/{patient.pk}/relatives/new/",
        {"name": "Anne Lie", "relation": "mor", "is_next_of_kin": "on"},
    )
    relative = Relative.objects.get()
    client.post(
        f"/patients/{patient.pk}/relatives/{relative.pk}/",
        {"name": "Anne Lie", "relation": "mor", "phone": "+47 900 11 222"},
    )
    client.post(f"/patients/{patient.pk}/relatives/{relative.pk}/remove/")
    page = client.get(f"/patients/{patient.pk}/")

    relative.refresh_from_db()
    assert relative.phone == "+47 900 11 222"
    assert relative.removed_at is not None
    assert list(page.context["relatives"]) == []
    assert [r.what for r in AccessLog.objects.filter(patient=patient, what="relative")] == [
        "relative"
    ] * 3


def test_the_clinic_switcher_changes_the_list(web_as, staff, clinics, make_patient):
    user = staff["nurse.oslo"]
    Membership.objects.create(user=user, clinic=clinics["bergen"], role="nurse")
    make_patient("oslo", family_name="Oslomann")
    make_patient("bergen", family_name="Bergensen")
    client = web_as("nurse.oslo")

    client.post("/clinic/", {"clinic": "oslo"})
    before = client.get("/patients/").content.decode()
    client.post("/clinic/", {"clinic": "bergen"})
    after = client.get("/patients/").content.decode()
    client.post("/clinic/", {"clinic": "tromso"})  # not one of theirs: ignored
    still = client.get("/patients/").content.decode()

    assert "Oslomann" in before and "Bergensen" not in before
    assert "Bergensen" in after and "Oslomann" not in after
    assert "Bergensen" in still


def test_the_htmx_search_returns_only_the_results(web_as, make_patient):
    make_patient(family_name="Sørensen")

    response = web_as("nurse.oslo").get("/patients/", {"q": "søren"}, HTTP_HX_REQUEST="true")

    content = response.content.decode()
    assert "Sørensen" in content
    assert "<html" not in content


def test_english_speakers_get_the_message_in_english(web_as, make_patient):
    existing = make_patient()
    client = web_as("coordinator.oslo")
    client.cookies["django_language"] = "en"

    response = client.post("/patients/new/", form(national_id=existing.national_id))

    assert response.context["form"].errors["national_id"] == [
        "A patient with this national id is already registered at this clinic."
    ]
