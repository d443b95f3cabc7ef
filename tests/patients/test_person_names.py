"""Every person's name HAB takes (patients, relatives, referrals, staff) goes through one
rule: refused beside the field on a page, 422 naming the field in the API, stored NFC."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django import forms
from django.utils import translation

import hab
from hab.core import services as core_services
from hab.core.errors import Invalid
from hab.core.name_fields import PersonNameField
from hab.core.roles import Role
from hab.intake.models import Referral
from hab.patients.models import Patient, Relative
from tests.conftest import PASSWORD, synthetic_id
from tests.helpers import days_ago

pytestmark = pytest.mark.django_db

INVISIBLE = ["\u200b\u200b", "\u202eevil", "Kari\u200d", "\x00Kari", "\ufeff"]
NO_LETTER = ["-", "123", "...", "\u0301"]
# "Å" typed as A and a combining ring, as some keyboards and copied text give it.
DECOMPOSED, COMPOSED = "A\u030ase", "\u00c5se"


def patient_body(**names) -> dict:
    return {
        "national_id": synthetic_id(),
        "given_name": "Ola",
        "family_name": "Nordmann",
        "clinic": "oslo",
    } | names


def fields_of(response) -> set[str]:
    assert response.status_code == 422, response.content
    return {error["field"] for error in response.json()["detail"]}


@pytest.mark.parametrize("name", INVISIBLE + NO_LETTER + ["", "   "])
def test_the_api_refuses_a_patient_without_a_readable_name(api_as, name):
    api = api_as("coordinator.oslo")

    given = api.post("/patients", patient_body(given_name=name))
    family = api.post("/patients", patient_body(family_name=name))

    assert fields_of(given) == {"given_name"}
    assert fields_of(family) == {"family_name"}
    assert not Patient.objects.exists()


def test_the_api_says_which_character_is_invisible(api_as):
    response = api_as("coordinator.oslo").post("/patients", patient_body(given_name="\u202eevil"))

    assert fields_of(response) == {"given_name"}
    assert "U+202E" in response.json()["detail"][0]["message"]
    assert "invisible" in response.json()["detail"][0]["message"]


@pytest.mark.parametrize(
    "given", ["Áile", "Bjørn-Æge", "O'Brien", "Åse Marie", "Máret Sárá", "Ŋuolja", "x"]
)
def test_the_api_takes_norwegian_and_sami_names_as_typed(api_as, given):
    response = api_as("coordinator.oslo").post("/patients", patient_body(given_name=given))

    assert response.status_code == 201, response.content
    assert Patient.objects.get().given_name == given


def test_a_name_is_stored_composed_and_its_spaces_tidied(api_as):
    response = api_as("coordinator.oslo").post(
        "/patients", patient_body(given_name=f"  {DECOMPOSED}  Marie ", family_name="Lie")
    )

    assert response.status_code == 201, response.content
    assert Patient.objects.get().given_name == f"{COMPOSED} Marie"
    assert response.json()["given_name"] == f"{COMPOSED} Marie"


def test_the_length_limit_is_counted_on_the_stored_name(api_as):
    api = api_as("coordinator.oslo")

    over = api.post("/patients", patient_body(given_name="a" * 101))
    at = api.post("/patients", patient_body(given_name="a" * 99 + DECOMPOSED[:2]))

    assert fields_of(over) == {"given_name"}
    assert at.status_code == 201, at.content
    assert Patient.objects.get().given_name == "a" * 99 + "Å"


def test_changing_a_name_through_the_api_follows_the_same_rule(api_as, make_patient):
    patient = make_patient()
    api = api_as("coordinator.oslo")

    refused = api.patch(f"/patients/{patient.pk}", {"family_name": "\u200b"})
    missing = api.patch(f"/patients/{patient.pk}", {"given_name": None})
    changed = api.patch(f"/patients/{patient.pk}", {"family_name": f"{DECOMPOSED}bø"})

    assert fields_of(refused) == {"family_name"}
    assert missing.status_code == 422
    assert changed.status_code == 200, changed.content
    patient.refresh_from_db()
    assert patient.family_name == f"{COMPOSED}bø"
    assert patient.given_name == "Kari"


def test_a_relative_needs_a_readable_name(api_as, make_patient):
    patient = make_patient()
    api = api_as("coordinator.oslo")

    refused = api.post(f"/patients/{patient.pk}/relatives", {"name": "\u202e", "relation": "mor"})
    added = api.post(
        f"/patients/{patient.pk}/relatives", {"name": f"{DECOMPOSED} Lie", "relation": "mor"}
    )

    assert fields_of(refused) == {"name"}
    assert added.status_code in (200, 201), added.content
    assert Relative.objects.get().name == f"{COMPOSED} Lie"


def referral_body(**person) -> dict:
    return {
        "person": {"national_id": synthetic_id(), "given_name": "Geir", "family_name": "Lund"}
        | person,
        "clinic": "oslo",
        "source": "gp",
        "received_on": str(days_ago(1)),
        "referring_organisation": "Fastlege",
    }


def test_a_referral_of_someone_new_refuses_an_invisible_name_and_writes_nothing(api_as):
    response = api_as("coordinator.oslo").post(
        "/referrals", referral_body(family_name="\u200b\u200b")
    )

    assert response.status_code == 422
    assert any("family_name" in field for field in fields_of(response))
    assert not Referral.objects.exists() and not Patient.objects.exists()


def test_the_referring_contact_is_a_name_too_but_may_be_left_out(api_as):
    api = api_as("coordinator.oslo")

    refused = api.post("/referrals", referral_body() | {"referring_contact": "\u202e123"})
    empty = api.post("/referrals", referral_body() | {"referring_contact": "  "})
    kept = api.post(
        "/referrals", referral_body() | {"referring_contact": f"{DECOMPOSED} Bakke, tlf 22 00 00"}
    )

    assert fields_of(refused) == {"referring_contact"}
    assert empty.status_code == 201, empty.content
    assert kept.status_code == 201, kept.content
    contacts = sorted(Referral.objects.values_list("referring_contact", flat=True))
    assert contacts == ["", f"{COMPOSED} Bakke, tlf 22 00 00"]


def test_the_registration_page_shows_the_refusal_beside_the_field(web_as):
    page = web_as("coordinator.oslo").post(
        "/patients/new/",
        {"national_id": synthetic_id(), "given_name": "\u202eevil", "family_name": "-"},
    )

    assert page.status_code == 200
    errors = page.context["form"].errors
    assert errors["given_name"] == [
        "Navnet inneholder et usynlig tegn eller kontrolltegn (U+202E). "
        "Skriv navnet på nytt i stedet for å lime det inn."
    ]
    assert errors["family_name"] == ["Et navn må inneholde minst én bokstav."]
    assert 'class="field-error"' in page.content.decode()
    assert not Patient.objects.exists()


def test_the_edit_and_relative_pages_refuse_the_same_names(web_as, make_patient):
    patient = make_patient()
    client = web_as("coordinator.oslo")

    edit = client.post(
        f"/patients/{patient.pk}/edit/", {"given_name": "\u200b", "family_name": "Lie"}
    )
    relative = client.post(
        f"/patients/{patient.pk}/relatives/new/", {"name": "\u202e", "relation": "mor"}
    )

    assert "given_name" in edit.context["form"].errors
    assert "name" in relative.context["form"].errors
    patient.refresh_from_db()
    assert patient.given_name == "Kari"
    assert not Relative.objects.exists()


def test_the_referral_page_refuses_an_invisible_name(web_as):
    page = web_as("coordinator.oslo").post(
        "/intake/referrals/new/",
        {
            "national_id": synthetic_id(),
            "given_name": "Trond",
            "family_name": "\u200b",
            "source": "gp",
            "referring_organisation": "Fastlege",
            "referring_contact": "\u2066",
            "received_on": str(days_ago(0)),
        },
    )

    assert page.status_code == 200
    assert {"family_name", "referring_contact"} <= set(page.context["form"].errors)
    assert not Referral.objects.exists() and not Patient.objects.exists()


def test_staff_names_follow_the_rule(clinics):
    with pytest.raises(Invalid) as refused:
        core_services.staff_create(
            username="nurse.tromso",
            password=PASSWORD,
            first_name="\u202eKari",
            last_name="42",
            roles=[(clinics["oslo"], Role.NURSE)],
        )
    assert {e.field for e in refused.value.errors} == {"first_name", "last_name"}

    user = core_services.staff_create(
        username="nurse.tromso",
        password=PASSWORD,
        first_name=f" {DECOMPOSED} ",
        last_name="Ŋuolja",
        roles=[(clinics["oslo"], Role.NURSE)],
    )
    assert (user.first_name, user.last_name) == (COMPOSED, "Ŋuolja")


# Fields that hold a person's name, by form field name.
NAME_FIELDS = {"given_name", "family_name", "first_name", "last_name", "referring_contact"}


def _forms_with_names() -> list[tuple[str, str, forms.Field]]:
    for info in pkgutil.walk_packages(hab.__path__, "hab."):
        if info.name.rsplit(".", 1)[-1] in ("forms", "admin"):
            importlib.import_module(info.name)
    found, todo = [], [forms.BaseForm]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if not cls.__module__.startswith("hab."):
                continue
            for name, field in cls.base_fields.items():
                if name in NAME_FIELDS or (name == "name" and "Relative" in cls.__name__):
                    found.append((cls.__name__, name, field))
    return found


def test_every_name_field_in_a_hab_form_is_the_shared_one():
    found = _forms_with_names()

    assert {(form, name) for form, name, _f in found} >= {
        ("PatientCreateForm", "given_name"),
        ("PatientEditForm", "family_name"),
        ("RelativeForm", "name"),
        ("ReferralForm", "referring_contact"),
        ("StaffChangeForm", "first_name"),
    }
    wrong = [f"{form}.{name}" for form, name, field in found if type(field) is not PersonNameField]
    assert wrong == []


def test_the_message_is_english_on_an_english_page():
    field = PersonNameField(max_length=10)
    with translation.override("en"), pytest.raises(forms.ValidationError) as refused:
        field.clean("\u200b")
    assert refused.value.messages == [
        "The name contains an invisible or control character (U+200B). "
        "Type the name again instead of pasting it."
    ]
    with translation.override("en"), pytest.raises(forms.ValidationError) as long:
        field.clean("a" * 11)
    assert long.value.messages[0].startswith("The name is too long: at most 10 characters.")


def test_the_admin_page_for_staff_refuses_an_invisible_name(staff):
    from hab.core.admin import StaffChangeForm

    nurse = staff["nurse.oslo"]
    unbound = StaffChangeForm(instance=nurse)
    data = {
        name: value
        for name, value in ((n, unbound[n].value()) for n in unbound.fields)
        if value is not None
    }

    refused = StaffChangeForm(data | {"first_name": "\u202eKari"}, instance=nurse)
    kept = StaffChangeForm(data | {"first_name": DECOMPOSED, "last_name": ""}, instance=nurse)

    assert not refused.is_valid() and list(refused.errors) == ["first_name"]
    assert kept.is_valid(), kept.errors
    assert kept.cleaned_data["first_name"] == COMPOSED
    assert kept.cleaned_data["last_name"] == ""
