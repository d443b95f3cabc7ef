"""``hab verify-ledger`` reconciles every dose as it now stands with its ledger debits:
the mg given equals the mg debited, per dose and per batch. A debit or a dose changed in
the database, even with the hash chain re-hashed to match, is reported."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from hab.core import clock
from hab.core.models import Clinic
from hab.dosing.models import Administration
from hab.patients.models import Patient
from hab.stock import services
from hab.stock.models import Kind, LedgerEntry
from tests.dosing.helpers import TODAY, dose_body, local
from tests.stock.tamper import rehash, rewind, sql, triggers_off

pytestmark = pytest.mark.django_db


def dose(api, patient, **extra):
    with clock.at(local(TODAY, 15)):
        response = api.post("/administrations", dose_body(patient, **extra))
    assert response.status_code == 201, response.content
    return response.json()


def correct(api, record, **body):
    with clock.at(local(TODAY, 15, 30)):
        response = api.post(
            f"/administrations/{record['id']}/corrections", {"reason": "Feil ført"} | body
        )
    assert response.status_code == 201, response.content
    return response.json()


def mismatches(clinic="oslo"):
    found = services.reconcile_doses(Clinic.objects.get(code=clinic))
    return [(m.administration, m.given_mg, m.debited_mg, m.problem) for m in found]


def debit_of(record_id) -> LedgerEntry:
    return LedgerEntry.objects.get(administration_id=record_id, kind=Kind.ADMINISTRATION)


@pytest.fixture
def given(stocked, on_prescription, api_as):
    """A 200 mg afternoon dose, debited from batch A1, received at 07:00 (on top of ten
    days of history recorded before the clinic kept its ledger in HAB)."""
    with triggers_off():  # the fixture's receipt, made at 07:00 whatever the test's hour
        seven = connection.ops.adapt_datetimefield_value(local(TODAY, 7))
        sql("UPDATE stock_ledgerentry SET at = %s", [seven])
        rehash(Clinic.objects.get(code="oslo"), 1)
    patient = on_prescription()["patient"]
    return dose(api_as("nurse.oslo"), patient)


def test_doses_debits_and_corrections_reconcile(given, on_prescription, api_as):
    nurse = api_as("nurse.oslo")
    correct(nurse, given, dose_mg=150, status="partial")
    other = on_prescription()["patient"]
    dose(nurse, other, status="withheld", dose_mg=0, withheld_reason="Sedert")

    assert mismatches() == []
    out = io.StringIO()
    call_command("verify-ledger", "--clinic", "oslo", stdout=out)
    assert "oslo: every dose matches its ledger debits" in out.getvalue()


def test_a_correction_to_nothing_given_reconciles(given, api_as):
    correct(api_as("nurse.oslo"), given, dose_mg=0, status="refused")

    assert mismatches() == []


def test_a_debit_changed_and_the_chain_re_hashed_is_found(given):
    debit = debit_of(given["id"])
    with triggers_off():
        sql(
            "UPDATE stock_ledgerentry SET quantity_mg = -100, balance_mg = balance_mg + 100 "
            "WHERE id = %s",
            [debit.pk],
        )
        rehash(debit.clinic, debit.seq)

    assert services.verify(debit.clinic).ok  # the chain alone does not see it
    assert mismatches() == [(given["id"], Decimal("200.0"), Decimal("100.0"), "")]
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify-ledger", stdout=out)
    assert exit_code.value.code == 1
    patient = Patient.objects.get(pk=given["patient"])
    assert (
        f"oslo: DOSE {given['id']} (patient {patient.pk}, research id {patient.research_id}, "
        f"{TODAY} afternoon, dam_injectable) does not match the ledger: given 200 mg, "
        "debited 100 mg"
    ) in out.getvalue()


def test_a_dose_record_changed_is_found(given):
    with triggers_off("dosing_administration"):
        sql("UPDATE dosing_administration SET dose_mg = 250 WHERE id = %s", [given["id"]])

    assert mismatches() == [(given["id"], Decimal("250.0"), Decimal("200.0"), "")]


def test_a_debit_deleted_and_the_head_wound_back_is_found(given):
    debit = debit_of(given["id"])
    assert debit.seq == LedgerEntry.objects.filter(clinic=debit.clinic).count()

    rewind(debit.clinic, debit.seq - 1)

    assert services.verify(debit.clinic).ok
    assert mismatches() == [(given["id"], Decimal("200.0"), Decimal("0.0"), "")]


def test_a_corrected_dose_is_held_to_its_newest_record(given, api_as):
    less = correct(api_as("nurse.oslo"), given, dose_mg=150, status="partial")
    credit = debit_of(less["id"])  # +50 mg back to A1
    with triggers_off():
        sql("UPDATE stock_ledgerentry SET quantity_mg = 20 WHERE id = %s", [credit.pk])
        rehash(credit.clinic, credit.seq)

    assert mismatches() == [(less["id"], Decimal("150.0"), Decimal("180.0"), "")]


def test_a_credit_to_another_batch_than_the_dose_took_from_is_found(given, api_as, stocked):
    stocked(batch="B2", quantity=500, days=400)
    less = correct(api_as("nurse.oslo"), given, dose_mg=150, status="partial")
    credit = debit_of(less["id"])
    b2 = LedgerEntry.objects.get(kind=Kind.RECEIPT, batch__lot="B2").batch_id
    with triggers_off():
        sql("UPDATE stock_ledgerentry SET batch_id = %s WHERE id = %s", [b2, credit.pk])
        rehash(credit.clinic, credit.seq)

    # in total 150 mg is debited, as given; but B2 got back 50 mg it never gave
    found = mismatches()
    assert [(pk, problem) for pk, _given, _debited, problem in found] == [
        (less["id"], "batch B2 was credited 50 mg more than it gave")
    ]


def test_a_debit_from_a_batch_of_another_medication_is_found(given, stocked):
    stocked(product="metadon", batch="M1", quantity=1000)
    debit = debit_of(given["id"])
    m1 = LedgerEntry.objects.get(kind=Kind.RECEIPT, batch__lot="M1").batch_id
    with triggers_off():
        sql("UPDATE stock_ledgerentry SET batch_id = %s WHERE id = %s", [m1, debit.pk])
        rehash(debit.clinic, debit.seq)

    assert [m[3] for m in mismatches()] == ["batch M1 is of another medication or clinic"]


def test_doses_the_ledger_never_saw_are_left_out(given, on_prescription):
    # ten days of doses at each clinic, recorded before it kept its ledger in HAB (Bergen
    # has no entry at all), were never debited
    on_prescription(clinic="bergen")
    assert Administration.objects.filter(clinic__code="bergen", status="given").count() == 20

    assert mismatches("oslo") == []
    assert mismatches("bergen") == []


def test_a_dose_after_the_first_entry_without_a_debit_is_found(given):
    # a dose written straight into the table after the ledger began, never debited
    record = Administration.objects.get(pk=given["id"])
    first = LedgerEntry.objects.order_by("seq").first()
    record.pk, record.slot, record.given_at = None, "morning", first.at + timedelta(minutes=1)
    record.save()

    assert mismatches() == [(record.pk, Decimal("200.0"), Decimal("0.0"), "")]
