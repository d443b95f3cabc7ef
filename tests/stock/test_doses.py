"""Every dose given is debited from the ledger in the dose's own transaction; corrections
move only the difference; a dose the book cannot cover is refused."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from hab.core import clock
from hab.core.access import Actor
from hab.core.models import Clinic
from hab.dosing import services as dosing
from hab.dosing import summaries
from hab.dosing.models import Administration, ClinicDay
from hab.stock import services
from hab.stock.models import Kind, LedgerEntry
from tests.dosing.helpers import TODAY, dose_body, local
from tests.stock.conftest import balance_of

pytestmark = pytest.mark.django_db


def dose(api, patient, **extra):
    with clock.at(local(TODAY, 15)):
        return api.post("/administrations", dose_body(patient, **extra))


def test_a_dose_is_debited_from_the_batch_in_use(stocked, on_prescription, api_as):
    patient = on_prescription()["patient"]
    nurse = api_as("nurse.oslo")

    response = dose(nurse, patient)

    assert response.status_code == 201, response.content
    entry = LedgerEntry.objects.get(kind=Kind.ADMINISTRATION)
    assert entry.administration_id == response.json()["id"]
    assert entry.quantity_mg == Decimal("-200.0")
    assert entry.recorded_by.username == "nurse.oslo"
    assert balance_of(nurse) == 9800


@pytest.mark.parametrize("status", ["withheld", "refused"])
def test_no_dose_no_debit(stocked, on_prescription, api_as, status):
    patient = on_prescription()["patient"]

    response = dose(
        api_as("nurse.oslo"), patient, status=status, dose_mg=0, withheld_reason="Sedert"
    )

    assert response.status_code == 201, response.content
    assert not LedgerEntry.objects.filter(kind=Kind.ADMINISTRATION).exists()


def test_a_partial_dose_debits_what_was_given(stocked, on_prescription, api_as):
    patient = on_prescription()["patient"]

    dose(api_as("nurse.oslo"), patient, status="partial", dose_mg=120)

    assert balance_of(api_as("nurse.oslo")) == 9880


def test_the_rest_of_a_partial_dose_is_offered_as_waste(stocked, on_prescription, api_as, web_as):
    patient = on_prescription()["patient"]
    partial = dose(api_as("nurse.oslo"), patient, status="partial", dose_mg=120).json()
    debit = LedgerEntry.objects.get(kind=Kind.ADMINISTRATION)

    form = web_as("nurse.oslo").get("/stock/waste/", {"rest_of": partial["id"]}).context["form"]
    elsewhere = web_as("nurse.bergen").get("/stock/waste/", {"rest_of": partial["id"]})

    assert form.initial["quantity_mg"] == Decimal(80)
    assert form.initial["batch"] == str(debit.batch_id)
    assert form.initial["reason"].endswith(f"{partial['id']})")
    assert "quantity_mg" not in elsewhere.context["form"].initial


def test_a_correction_moves_only_the_difference(stocked, on_prescription, api_as):
    patient = on_prescription()["patient"]
    nurse = api_as("nurse.oslo")
    given = dose(nurse, patient).json()

    with clock.at(local(TODAY, 15, 30)):
        less = nurse.post(
            f"/administrations/{given['id']}/corrections",
            {"reason": "Feil mengde ført", "dose_mg": 150, "status": "partial"},
        )
        none = nurse.post(
            f"/administrations/{less.json()['id']}/corrections",
            {"reason": "Dosen ble ikke satt", "dose_mg": 0, "status": "refused"},
        )

    assert less.status_code == none.status_code == 201
    moves = list(
        LedgerEntry.objects.filter(kind=Kind.ADMINISTRATION)
        .order_by("seq")
        .values_list("quantity_mg", "batch__lot")
    )
    assert moves == [(Decimal("-200.0"), "A1"), (Decimal("50.0"), "A1"), (Decimal("150.0"), "A1")]
    assert balance_of(nurse) == 10000


def test_a_dose_the_book_cannot_cover_is_refused(products, api_as, on_prescription):
    patient = on_prescription()["patient"]
    nurse = api_as("nurse.oslo")
    nurse.post(
        "/stock/receipts",
        {
            "clinic": "oslo",
            "product": "dam-inj",
            "batch": "LOW",
            "quantity_mg": 150,
            "expires_on": str(TODAY + timedelta(days=90)),
        },
    )

    response = dose(nurse, patient)

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "dose_mg"
    assert "Record the receipt" in response.json()["detail"][0]["message"]
    assert not Administration.objects.filter(day=TODAY).exists()
    assert balance_of(nurse, batch="LOW") == 150


def test_an_expired_batch_is_never_used(products, api_as, on_prescription):
    patient = on_prescription()["patient"]
    nurse = api_as("nurse.oslo")
    with clock.at(local(TODAY - timedelta(days=400), 10)):
        old = nurse.post(
            "/stock/receipts",
            {
                "clinic": "oslo",
                "product": "dam-inj",
                "batch": "OLD",
                "quantity_mg": 5000,
                "expires_on": str(TODAY - timedelta(days=1)),
            },
        )
    assert old.status_code == 201

    response = dose(nurse, patient)

    assert response.status_code == 422
    assert "no unexpired stock" in response.json()["detail"][0]["message"]


def test_the_first_expiring_batch_with_enough_is_used(stocked, api_as, on_prescription):
    patient = on_prescription()["patient"]
    stocked(batch="SOON", quantity=5000, days=20)
    stocked(batch="CRUMBS", quantity=100, days=5)

    response = dose(api_as("nurse.oslo"), patient)

    assert response.status_code == 201, response.content
    assert LedgerEntry.objects.get(kind=Kind.ADMINISTRATION).batch.lot == "SOON"


def test_a_clinic_without_the_product_in_its_book_is_not_debited(products, api_as, on_prescription):
    """HAB's ledger starts when the clinic registers the product; until then doses of that
    medication are recorded without a debit."""
    from hab.stock.models import Product

    patient = on_prescription()["patient"]
    Product.objects.filter(clinic__code="oslo", medication="dam_injectable").delete()

    assert dose(api_as("nurse.oslo"), patient).status_code == 201
    assert not LedgerEntry.objects.exists()


# --- integrity under load -------------------------------------------------------------------

PATIENTS = 50
DAYS = 10  # 50 patients x 10 days x 2 sessions = 1,000 doses
WASTES = 200


@pytest.mark.django_db(transaction=True)
def test_a_thousand_concurrent_doses_and_wastes_leave_the_balance_exact(
    products, api_as, on_prescription, staff
):
    """Eight nurses' stations write at once: 1,000 doses (each patient's days in order, on
    one station) and 200 witnessed wastes. The book ends exactly at receipts minus debits,
    every dose has its one debit, and the hash chain is whole."""
    patients = [on_prescription(daily=450)["patient"] for _ in range(PATIENTS)]
    oslo = Clinic.objects.get(code="oslo")
    nurse = Actor.system(staff["nurse.oslo"])
    services.receipt_record(
        actor=nurse,
        clinic=oslo,
        product="dam-inj",
        batch="BIG",
        quantity_mg=500_000,
        expires_on=TODAY + timedelta(days=365),
    )
    stations = 8
    barrier = threading.Barrier(stations)
    failures: list[str] = []

    def station(index: int) -> None:
        mine = patients[index::stations]
        quota, done = WASTES // stations, 0
        try:
            barrier.wait()
            for day in range(DAYS):
                date = TODAY + timedelta(days=day)
                for slot, hour in (("morning", 9), ("afternoon", 15)):
                    with clock.at(local(date, hour, index)):
                        for patient in mine:
                            dosing.administration_record(
                                actor=nurse,
                                clinic=oslo,
                                patient_id=patient,
                                day=date,
                                slot=slot,
                                medication="dam_injectable",
                                dose_mg=200,
                                route="iv",
                                status="given",
                                assessment={"sedation": 1, "breath_alcohol_permille": 0},
                            )
                        for _ in range(min(2, quota - done)):
                            services.waste_record(
                                actor=nurse,
                                clinic=oslo,
                                product="dam-inj",
                                batch="BIG",
                                quantity_mg="0.5",
                                witness="doctor.oslo",
                                reason="Søl",
                            )
                            done += 1
        except Exception as error:  # reported below, not swallowed
            failures.append(f"station {index}: {error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=station, args=(i,)) for i in range(stations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    doses = Administration.objects.filter(day__gte=TODAY, status="given")
    assert doses.count() == PATIENTS * DAYS * 2
    debits = LedgerEntry.objects.filter(kind=Kind.ADMINISTRATION)
    assert debits.count() == doses.count()
    assert set(debits.values_list("administration_id", flat=True)) == set(
        doses.values_list("pk", flat=True)
    )
    waste_count = LedgerEntry.objects.filter(kind=Kind.WASTE).count()
    assert waste_count == WASTES
    expected = Decimal(500_000) - Decimal(200) * doses.count() - Decimal("0.5") * waste_count
    assert balance_of(api_as("nurse.oslo"), batch="BIG") == float(expected)
    assert sum(LedgerEntry.objects.values_list("quantity_mg", flat=True)) == expected
    assert services.verify(oslo).ok
    # The day summaries counted every dose of the eight stations, none lost.
    assert summaries.differences(since=TODAY) == (0, [])
    per_day = ClinicDay.objects.filter(clinic=oslo, day__gte=TODAY, status="given")
    assert sorted(per_day.values_list("records", flat=True)) == [PATIENTS * 2] * DAYS
