"""Properties of the ledger: after any sequence of operations, each batch's book balance
is the sum of its entries and never negative; a refused operation writes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hab.core import clock
from hab.core.access import Actor
from hab.core.errors import Invalid
from hab.core.models import Clinic
from hab.stock import services
from hab.stock.models import Batch, LedgerEntry
from hab.stock.selectors import batch_balance

pytestmark = pytest.mark.django_db

amounts = st.decimals(min_value=Decimal("0.1"), max_value=Decimal("3000"), places=1)
operations = st.lists(
    st.tuples(
        st.sampled_from(["receipt", "waste", "adjust", "transfer", "count"]),
        st.sampled_from(["A1", "B2"]),
        amounts,
        st.booleans(),
    ),
    max_size=12,
)


def _book(clinic: str, lot: str) -> Decimal:
    batch = Batch.objects.filter(product__clinic__code=clinic, product__code="dam-inj", lot=lot)
    return batch_balance(batch.get().pk) if batch.exists() else Decimal(0)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_the_balance_is_the_sum_of_the_entries(products, staff, steps):
    oslo = Clinic.objects.get(code="oslo")
    nurse = Actor.system(staff["nurse.oslo"])
    lead = Actor.system(staff["clinic_lead.oslo"])
    item = {"clinic": oslo, "product": "dam-inj"}
    expires = clock.today() + timedelta(days=200)
    model = {lot: _book("oslo", lot) for lot in ("A1", "B2")}
    bergen = {lot: _book("bergen", lot) for lot in ("A1", "B2")}

    for kind, lot, amount, sign in steps:
        known = Batch.objects.filter(product__clinic=oslo, lot=lot).exists()
        before = LedgerEntry.objects.count()
        change = {
            "receipt": amount,
            "waste": -amount,
            "adjust": amount if sign else -amount,
            "transfer": -amount,
            "count": Decimal(0),
        }[kind]
        allowed = (known or kind == "receipt") and model[lot] + change >= 0
        try:
            if kind == "receipt":
                services.receipt_record(
                    actor=nurse, **item, batch=lot, quantity_mg=amount, expires_on=expires
                )
            elif kind == "waste":
                services.waste_record(
                    actor=nurse,
                    **item,
                    batch=lot,
                    quantity_mg=amount,
                    witness="doctor.oslo",
                    reason="Søl",
                )
            elif kind == "adjust":
                services.adjustment_record(
                    actor=lead, **item, batch=lot, quantity_mg=change, reason="Retting"
                )
            elif kind == "transfer":
                services.transfer_record(
                    actor=lead,
                    **item,
                    to_clinic="bergen",
                    batch=lot,
                    quantity_mg=amount,
                    reason="Lån",
                )
                bergen[lot] += amount
            else:
                counted = services.count_record(actor=nurse, **item, batch=lot, counted_mg=amount)
                if counted.discrepancy and sign:
                    services.discrepancy_resolve(
                        actor=lead,
                        discrepancy_id=counted.discrepancy.pk,
                        explanation="Telling stemmer",
                        adjust=True,
                    )
                    change = amount - model[lot]
            assert allowed, f"{kind} {amount} of {lot} at {model[lot]} should be refused"
            model[lot] += change
        except Invalid:
            assert not allowed, f"{kind} {amount} of {lot} at {model[lot]} was refused"
            assert LedgerEntry.objects.count() == before

        for clinic, expected in (("oslo", model), ("bergen", bergen)):
            for name, balance in expected.items():
                entries = LedgerEntry.objects.filter(
                    clinic__code=clinic, product__code="dam-inj", batch__lot=name
                )
                # Summed in Python: SQLite's SUM works in floating point.
                total = sum(entries.values_list("quantity_mg", flat=True), Decimal(0))
                assert _book(clinic, name) == total == balance >= 0
