"""Reads of the controlled-drug ledger: balances, the ledger with filters, counts due,
expiry warnings and open discrepancies."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from hab.core import clock
from hab.stock.models import Batch, Discrepancy, LedgerEntry, StockCount

EXPIRY_WARNING_DAYS = 30


def batch_balance(batch_id: int) -> Decimal:
    """The book balance of a batch: the balance after its newest entry."""
    balance = (
        LedgerEntry.objects.filter(batch_id=batch_id)
        .order_by("-seq")
        .values_list("balance_mg", flat=True)
        .first()
    )
    return balance if balance is not None else Decimal(0)


def _with_balance(batches: QuerySet[Batch]) -> QuerySet[Batch]:
    newest = LedgerEntry.objects.filter(batch=OuterRef("pk")).order_by("-seq")
    last_count = StockCount.objects.filter(batch=OuterRef("pk")).order_by("-counted_at", "-id")
    return batches.select_related("product").annotate(
        balance=Subquery(newest.values("balance_mg")[:1]),
        last_counted_at=Subquery(last_count.values("counted_at")[:1]),
    )


def usable_batches(
    clinic_id: int, medication: str, today: datetime.date
) -> list[tuple[Batch, Decimal]]:
    """Unexpired batches of the medication holding stock, first expiry first."""
    batches = _with_balance(
        Batch.objects.filter(
            product__clinic_id=clinic_id,
            product__medication=medication,
            expires_on__gte=today,
        )
    ).order_by("expires_on", "lot", "pk")
    return [(b, b.balance) for b in batches if b.balance and b.balance > 0]


@dataclass(frozen=True)
class BatchLine:
    batch: Batch
    balance_mg: Decimal
    last_counted_at: datetime.datetime | None
    count_due: bool
    expired: bool
    expires_soon: bool

    @property
    def product(self):
        return self.batch.product

    @property
    def balance_ml(self) -> Decimal | None:
        concentration = self.batch.product.concentration_mg_per_ml
        if not concentration:
            return None
        return (self.balance_mg / concentration).quantize(Decimal("0.01"))


def balances(clinic_id: int, *, count_hours: int = 8, with_empty: bool = False) -> list[BatchLine]:
    """Every batch of the clinic with its balance, whether a count is due (not counted
    within ``count_hours`` while it holds stock) and its expiry state."""
    now = clock.now()
    today = clock.today()
    lines = []
    batches = _with_balance(Batch.objects.filter(product__clinic_id=clinic_id)).order_by(
        "product__name", "expires_on", "lot"
    )
    for batch in batches:
        balance = batch.balance or Decimal(0)
        if balance == 0 and not with_empty:
            continue
        counted = batch.last_counted_at
        lines.append(
            BatchLine(
                batch=batch,
                balance_mg=balance,
                last_counted_at=counted,
                count_due=balance > 0
                and (counted is None or now - counted > timedelta(hours=count_hours)),
                expired=batch.expires_on < today,
                expires_soon=today <= batch.expires_on <= today + timedelta(EXPIRY_WARNING_DAYS),
            )
        )
    return lines


def ledger(
    clinic_id: int,
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    kind: str = "",
    username: str = "",
    product: str = "",
) -> QuerySet[LedgerEntry]:
    """The clinic's entries, newest first, with the filters of the ledger page."""
    entries = LedgerEntry.objects.filter(clinic_id=clinic_id).select_related(
        "product", "batch", "recorded_by", "witness", "administration__patient"
    )
    if start:
        entries = entries.filter(at__gte=start_of(start))
    if end:
        entries = entries.filter(at__lt=start_of(end + timedelta(days=1)))
    if kind:
        entries = entries.filter(kind=kind)
    if username:
        entries = entries.filter(recorded_by__username=username)
    if product:
        entries = entries.filter(product__code=product)
    return entries.order_by("-seq")


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of a day in Oslo."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def open_discrepancies(clinic_id: int) -> QuerySet[Discrepancy]:
    return (
        Discrepancy.objects.filter(clinic_id=clinic_id, resolution__isnull=True)
        .select_related("count__batch__product", "count__counted_by", "count__witness")
        .order_by("opened_at")
    )


def recent_counts(clinic_id: int, limit: int = 20) -> QuerySet[StockCount]:
    return (
        StockCount.objects.filter(clinic_id=clinic_id)
        .select_related("batch__product", "counted_by", "witness")
        .order_by("-counted_at", "-id")[:limit]
    )
