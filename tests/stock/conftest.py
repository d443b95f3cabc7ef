from __future__ import annotations

from datetime import timedelta

import pytest

from hab.core import clock
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.stock import services
from tests.dosing.conftest import afternoon, on_prescription, protocols  # noqa: F401

PRODUCTS = [
    ("dam-inj", "Diacetylmorfin 10 g pulver til injeksjon", "dam_injectable", "powder", 100),
    ("dam-tab", "Diacetylmorfin 200 mg tabletter", "dam_tablet_ir", "tablet", None),
    ("metadon", "Metadon mikstur 1 mg/ml", "methadone_oral", "solution", 1),
]


@pytest.fixture
def products(staff):
    """The same three products at both clinics."""
    for code in ("oslo", "bergen"):
        lead = Actor.system(staff[f"clinic_lead.{code}"])
        for product, name, medication, form, concentration in PRODUCTS:
            services.product_create(
                actor=lead,
                clinic=Clinic.objects.get(code=code),
                code=product,
                name=name,
                medication=medication,
                form=form,
                concentration_mg_per_ml=concentration,
            )


@pytest.fixture
def stocked(products, api_as):
    """Oslo holds 10,000 mg of DAM powder, batch A1 (expires in a year)."""

    def receive(quantity=10000, batch="A1", product="dam-inj", clinic="oslo", days=365):
        response = api_as(f"nurse.{clinic}").post(
            "/stock/receipts",
            {
                "clinic": clinic,
                "product": product,
                "batch": batch,
                "quantity_mg": quantity,
                "expires_on": (clock.today() + timedelta(days=days)).isoformat(),
                "reference": "Levering 4711",
            },
        )
        assert response.status_code == 201, response.content
        return response.json()

    receive()
    return receive


def balance_of(api, clinic="oslo", product="dam-inj", batch="A1") -> float | None:
    rows = api.get("/stock/balance", {"clinic": clinic, "include_empty": "true"}).json()
    for row in rows:
        if row["product"] == product and row["batch"] == batch:
            return row["balance_mg"]
    return None
