"""The products page: each product with its FEST ids (what a report to
Legemiddelregisteret names it by), and FEST ids that will not do refused beside their
field. Texts are asserted in English (the language cookie)."""

from __future__ import annotations

import pytest
from django.test import Client

from hab.core.access import Actor
from hab.stock import services
from hab.stock.models import Product

pytestmark = pytest.mark.django_db

FEST_DOSE_ID = "ID_921B9637-16FE-48E6-BF54-8303007885F3"
NEW = {
    "code": "metadon-5",
    "name": "Metadon mikstur 5 mg/ml",
    "medication": "methadone_oral",
    "form": "solution",
    "concentration_mg_per_ml": "5",
}


def lead(web_as) -> Client:
    client = web_as("clinic_lead.oslo")
    client.cookies["django_language"] = "en"
    return client


def test_each_product_is_listed_with_its_fest_ids_or_the_local_catalogue(web_as, staff, clinics):
    lead_oslo = Actor.system(staff["clinic_lead.oslo"])
    services.product_create(
        actor=lead_oslo,
        clinic=clinics["oslo"],
        code="metadon",
        name="Metadon mikstur 1 mg/ml",
        medication="methadone_oral",
        form="solution",
        concentration_mg_per_ml=1,
        fest_dose_id=FEST_DOSE_ID.lower(),  # stored as FEST writes it
        fest_lmr_number="1234567",
        fest_item_number="123456",
    )
    services.product_create(
        actor=lead_oslo,
        clinic=clinics["oslo"],
        code="dam-inj",
        name="Diacetylmorfin 10 g pulver til injeksjon",
        medication="dam_injectable",
        form="powder",
        concentration_mg_per_ml=100,
    )

    html = lead(web_as).get("/stock/products/").content.decode()

    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert len(rows) == 2
    dam, methadone = rows  # by name
    assert "Diacetylmorfin 10 g pulver til injeksjon" in dam
    assert "not in FEST – reported from the local catalogue" in dam
    assert "Metadon mikstur 1 mg/ml" in methadone
    for shown in (FEST_DOSE_ID, "1234567", "123456", "LMR number"):
        assert shown in methadone
    assert "not in FEST" not in methadone


def test_a_clinic_without_products_is_told_so(web_as, staff):
    html = lead(web_as).get("/stock/products/").content.decode()

    assert "No products yet: add the first below." in html
    assert "<tbody>" not in html


def test_a_product_with_fest_ids_is_added_from_the_page(web_as, staff):
    response = lead(web_as).post(
        "/stock/products/",
        NEW | {"fest_dose_id": f" {FEST_DOSE_ID} ", "fest_lmr_number": "7654321"},
    )

    assert response.status_code == 302
    product = Product.objects.get(clinic__code="oslo", code="metadon-5")
    assert (product.fest_dose_id, product.fest_lmr_number, product.fest_item_number) == (
        FEST_DOSE_ID,
        "7654321",
        "",
    )


@pytest.mark.parametrize(
    ("field", "typed", "words"),
    [
        ("fest_dose_id", "921B9637-16FE-48E6-BF54-8303007885F3", "A FEST id looks like"),
        ("fest_dose_id", "ID_921B9637-16FE-48E6-BF54-8303007885F", "A FEST id looks like"),
        ("fest_dose_id", "ID_921B9637-16FE-48E6-BF54-83030078XXF3", "A FEST id looks like"),
        ("fest_lmr_number", "123456", "Seven digits."),
        ("fest_lmr_number", "12345a7", "Seven digits."),
        ("fest_item_number", "12345", "Six digits."),
    ],
)
def test_a_fest_id_that_will_not_do_is_refused_beside_its_field(web_as, staff, field, typed, words):
    response = lead(web_as).post("/stock/products/", NEW | {field: typed})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert words in str(errors[field])
    assert 'class="field-error"' in response.content.decode()
    assert not Product.objects.exists()
